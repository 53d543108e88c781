"""Schema changes of issue 14 (console): the GP's preset refusal reason on proposals, and the
patients' folded names for accent- and case-insensitive search (indexed, filled for existing rows).

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
    with op.batch_alter_table("patients") as batch:
        batch.add_column(sa.Column("search_name", sa.String(400), nullable=True))
        batch.create_index("ix_patients_search_name", ["search_name"])
    from guichet.requests.identity import search_text

    bind = op.get_bind()
    patients = sa.table("patients", sa.column("id", sa.Integer), sa.column("birth_name", sa.String),
                        sa.column("usage_name", sa.String), sa.column("first_names", sa.String),
                        sa.column("search_name", sa.String))
    rows = bind.execute(sa.select(patients.c.id, patients.c.birth_name, patients.c.usage_name,
                                  patients.c.first_names)).all()
    for pid, birth, usage, first in rows:
        bind.execute(patients.update().where(patients.c.id == pid)
                     .values(search_name=search_text(birth, usage, first) or None))


def downgrade() -> None:
    # plain ALTER TABLE … DROP COLUMN (SQLite 3.35+): a batch would copy the patients table,
    # which the requests reference
    op.drop_index("ix_patients_search_name", table_name="patients")
    op.drop_column("patients", "search_name")
    with op.batch_alter_table("proposals") as batch:
        batch.drop_column("decline_code")
