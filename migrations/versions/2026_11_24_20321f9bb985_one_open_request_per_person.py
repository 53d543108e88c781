"""One open request per person and kind: identity key with a partial unique index.

Rows created before this migration keep a NULL key and are not constrained; every
new request gets one (guichet.services.requests.person_key).

Revision ID: 20321f9bb985
Revises: a1b2c3d40006
Create Date: 2026-11-24 05:17:26.152846
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
import guichet.db


revision: str = '20321f9bb985'
down_revision: str | None = 'a1b2c3d40006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('patient_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('identity_key', sa.String(length=64), nullable=True))
        batch_op.create_index('uq_requests_one_open_per_person', ['territory_id', 'kind', 'identity_key'], unique=True, sqlite_where=sa.text("identity_key IS NOT NULL AND status IN ('to_contact', 'submitted', 'waiting', 'proposed', 'matched', 'booked')"), postgresql_where=sa.text("identity_key IS NOT NULL AND status IN ('to_contact', 'submitted', 'waiting', 'proposed', 'matched', 'booked')"))



def downgrade() -> None:
    with op.batch_alter_table('patient_requests', schema=None) as batch_op:
        batch_op.drop_index('uq_requests_one_open_per_person', sqlite_where=sa.text("identity_key IS NOT NULL AND status IN ('to_contact', 'submitted', 'waiting', 'proposed', 'matched', 'booked')"), postgresql_where=sa.text("identity_key IS NOT NULL AND status IN ('to_contact', 'submitted', 'waiting', 'proposed', 'matched', 'booked')"))
        batch_op.drop_column('identity_key')

