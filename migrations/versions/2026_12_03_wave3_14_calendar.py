"""The GP's calendar (issue 14, item 7): weekly slot patterns edited or removed as a whole.

Adds slot_patterns (a GP's weekly series, in Paris wall-clock time) and slots.pattern_id.
Slots created before this revision stay one-off slots (pattern_id NULL).

Revision ID: wave3_14_calendar
Revises: wave2_18_reliability
Create Date: 2026-12-03
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import guichet.db

revision: str = "wave3_14_calendar"
down_revision: str | None = "wave2_18_reliability"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "slot_patterns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("doctor_id", sa.Integer(), nullable=False),
        sa.Column("weekdays", sa.String(length=7), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("until", sa.Date(), nullable=False),
        sa.Column("created_dt", guichet.db.UTCDateTime(), nullable=False),
        sa.Column("updated_dt", guichet.db.UTCDateTime(), nullable=True),
        sa.Column("removed_dt", guichet.db.UTCDateTime(), nullable=True),
        sa.CheckConstraint("minutes >= 5 AND minutes <= 240", name=op.f("ck_slot_patterns_minutes_range")),
        sa.CheckConstraint("count >= 1 AND count <= 48", name=op.f("ck_slot_patterns_count_range")),
        sa.ForeignKeyConstraint(["doctor_id"], ["doctors.id"], name=op.f("fk_slot_patterns_doctor_id_doctors")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slot_patterns")),
    )
    with op.batch_alter_table("slot_patterns", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_slot_patterns_doctor_id"), ["doctor_id"], unique=False)
    with op.batch_alter_table("slots", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pattern_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_slots_pattern_id"), ["pattern_id"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_slots_pattern_id_slot_patterns"), "slot_patterns",
                                    ["pattern_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("slots", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_slots_pattern_id_slot_patterns"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_slots_pattern_id"))
        batch_op.drop_column("pattern_id")
    with op.batch_alter_table("slot_patterns", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_slot_patterns_doctor_id"))
    op.drop_table("slot_patterns")
