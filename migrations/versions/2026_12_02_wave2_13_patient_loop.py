"""Schema changes of issue 13 (patient_loop): the GP's online booking link.

One migration per parallel work stream, chained in advance, keeps a single Alembic head
whatever order the streams land in.

Revision ID: wave2_13_patient_loop
Revises: bacf473186c4
Create Date: 2026-12-02
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import guichet.db  # noqa: F401

revision: str = "wave2_13_patient_loop"
down_revision: str | None = "bacf473186c4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("doctors") as batch:
        batch.add_column(sa.Column("booking_url", sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("doctors") as batch:
        batch.drop_column("booking_url")
