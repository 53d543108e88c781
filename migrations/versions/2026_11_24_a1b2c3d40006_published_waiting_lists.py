"""Schema changes of issue 8 (scheduled jobs): the published waiting-list snapshots.

Revision ID: a1b2c3d40006
Revises: 7b1dd574a371
Create Date: 2026-11-24
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import guichet.db

revision: str = "a1b2c3d40006"
down_revision: str | None = "7b1dd574a371"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "published_waiting_lists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("territory_id", sa.Integer(), nullable=False),
        sa.Column("publication_date", sa.Date(), nullable=False),
        sa.Column("published_dt", guichet.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["territory_id"], ["territories.id"],
            name=op.f("fk_published_waiting_lists_territory_id_territories"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_published_waiting_lists")),
        sa.UniqueConstraint(
            "territory_id", "publication_date",
            name=op.f("uq_published_waiting_lists_territory_id"),
        ),
    )
    with op.batch_alter_table("published_waiting_lists", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_published_waiting_lists_territory_id"), ["territory_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("published_waiting_lists", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_published_waiting_lists_territory_id"))
    op.drop_table("published_waiting_lists")
