"""Fast staff search and paging (issue 18): trigram indexes, the name order.

- pg_trgm (PostgreSQL only, created if missing; a trusted extension, which the database's
  owner may create): GIN trigram indexes on patients.search_name (the folded names) and on
  patient_requests.reference, so that LIKE '%ines%' and ILIKE '%mt-2026-01%' read an index
  instead of every row. The b-tree index on search_name, useless for a LIKE '%…%', goes.
- ix_patients_name_order: the request list sorted by name reads 50 patients in order.

SQLite keeps a plain LIKE on the folded column (a scan, fast enough for one CPTS).

Revision ID: wave3_18_search
Revises: wave3_16_totp
Create Date: 2026-12-03
"""
from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
from alembic import op

import guichet.db  # noqa: F401

revision: str = "wave3_18_search"
down_revision: str | None = "wave3_16_totp"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_patients_search_name", table_name="patients")
    op.create_index("ix_patients_name_order", "patients", ["birth_name", "first_names"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.create_index("ix_patients_search_name_trgm", "patients", ["search_name"], postgresql_using="gin",
                        postgresql_ops={"search_name": "gin_trgm_ops"})
        op.create_index("ix_requests_reference_trgm", "patient_requests", ["reference"], postgresql_using="gin",
                        postgresql_ops={"reference": "gin_trgm_ops"})


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_requests_reference_trgm", table_name="patient_requests")
        op.drop_index("ix_patients_search_name_trgm", table_name="patients")
        # the extension stays: it may have been there before, for something else
    op.drop_index("ix_patients_name_order", table_name="patients")
    op.create_index("ix_patients_search_name", "patients", ["search_name"])
