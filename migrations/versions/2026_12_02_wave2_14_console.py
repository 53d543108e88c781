"""Schema changes of issue 14 (console): the GP's preset refusal reason on proposals.

One migration per parallel work stream, chained in advance, keeps a single Alembic head
whatever order the streams land in.

Revision ID: wave2_14_console
Revises: wave2_13_patient_loop
Create Date: 2026-12-02
"""
from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import guichet.db  # noqa: F401

revision: str = "wave2_14_console"
down_revision: str | None = "wave2_13_patient_loop"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("proposals") as batch:
        batch.add_column(sa.Column("decline_code", sa.String(20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("proposals") as batch:
        batch.drop_column("decline_code")
