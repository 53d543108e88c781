"""Security (issue 16): login throttling per address, per typed e-mail and per pair.

Failed sign-ins are counted in ``login_throttles`` with growing delays instead of a hard lock
of the account (which anyone could trigger). One migration per parallel work stream, chained
in advance, keeps a single Alembic head.

Revision ID: wave2_16_security
Revises: wave2_15_fairness
Create Date: 2026-12-02
"""
from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import guichet.db  # noqa: F401

revision: str = "wave2_16_security"
down_revision: str | None = "wave2_15_fairness"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_throttles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_dt", guichet.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("blocked_until_dt", guichet.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_throttles")),
        sa.UniqueConstraint("key", name=op.f("uq_login_throttles_key")),
    )


def downgrade() -> None:
    op.drop_table("login_throttles")
