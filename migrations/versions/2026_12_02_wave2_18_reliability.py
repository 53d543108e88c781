"""Reliability (issue 18): request-number counters, a "sending" state for the outbox.

- reference_counters: one row per (year, kind) incremented atomically, so that two
  concurrent submissions never pick the same reference (the former max + 1 did). Existing
  numbers need no copy: the first use of a (year, kind) starts after the highest stored one.
- notifications.status gains "sending": a message is claimed (committed) before the SMTP
  conversation, so that a crash between the send and the commit never sends it twice.
- ix_requests_priority_order (PostgreSQL): the coordinators' default queue order read from
  an index (one page of 50 without sorting every open request).

Revision ID: wave2_18_reliability
Revises: wave2_17_partners_api
Create Date: 2026-12-02
"""
from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import guichet.db  # noqa: F401

revision: str = "wave2_18_reliability"
down_revision: str | None = "wave2_17_partners_api"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


OLD_STATUSES = "status IN ('pending', 'sent', 'failed', 'printed')"
NEW_STATUSES = "status IN ('pending', 'sending', 'sent', 'failed', 'printed')"


def upgrade() -> None:
    op.create_table(
        "reference_counters",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", "kind", name=op.f("pk_reference_counters")),
    )
    with op.batch_alter_table("notifications") as batch:
        batch.drop_constraint(op.f("ck_notifications_status"), type_="check")
        batch.create_check_constraint("status", NEW_STATUSES)
    if op.get_bind().dialect.name == "postgresql":
        op.create_index("ix_requests_priority_order", "patient_requests",
                        ["territory_id", sa.text("priority_score DESC"), "waiting_since_dt", "id"])


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_requests_priority_order", table_name="patient_requests")
    op.execute("UPDATE notifications SET status = 'pending' WHERE status = 'sending'")
    with op.batch_alter_table("notifications") as batch:
        batch.drop_constraint(op.f("ck_notifications_status"), type_="check")
        batch.create_check_constraint("status", OLD_STATUSES)
    op.drop_table("reference_counters")
