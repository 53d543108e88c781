"""Second factor (issue 16): TOTP enrolment date and last used time step, recovery codes.

- users.totp_enrolled_dt: when the first code confirmed the authenticator app (the existing
  totp_secret column holds its secret, set when enrolment starts);
- users.totp_last_step: the 30-second step of the last accepted code, so that a code seen
  over someone's shoulder cannot be replayed;
- recovery_codes: single-use codes for a lost phone, stored as SHA-256 only.

Revision ID: wave3_16_totp
Revises: wave3_14_calendar
Create Date: 2026-12-03
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import guichet.db

revision: str = "wave3_16_totp"
down_revision: str | None = "wave3_14_calendar"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("totp_enrolled_dt", guichet.db.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("totp_last_step", sa.Integer(), nullable=True))
    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("used_dt", guichet.db.UTCDateTime(), nullable=True),
        sa.Column("created_dt", guichet.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_recovery_codes_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_codes")),
    )
    op.create_index(op.f("ix_recovery_codes_user_id"), "recovery_codes", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_recovery_codes_user_id"), table_name="recovery_codes")
    op.drop_table("recovery_codes")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("totp_last_step")
        batch.drop_column("totp_enrolled_dt")
