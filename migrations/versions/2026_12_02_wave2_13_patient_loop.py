"""Schema changes of issue 13 (patient_loop): the GP's online booking link, the requests' short codes.

Existing requests get a short code too, so that every patient can use the "Suivre ma demande" form.

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
from guichet.identifiers import new_short_code

revision: str = "wave2_13_patient_loop"
down_revision: str | None = "bacf473186c4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("doctors") as batch:
        batch.add_column(sa.Column("booking_url", sa.String(length=300), nullable=True))
    with op.batch_alter_table("patient_requests") as batch:
        batch.add_column(sa.Column("short_code", sa.String(length=8), nullable=True))
    requests = sa.table("patient_requests", sa.column("id", sa.Integer), sa.column("short_code", sa.String))
    connection = op.get_bind()
    for (request_id,) in connection.execute(sa.select(requests.c.id)).all():
        connection.execute(requests.update().where(requests.c.id == request_id)
                           .values(short_code=new_short_code()))


def downgrade() -> None:
    with op.batch_alter_table("patient_requests") as batch:
        batch.drop_column("short_code")
    with op.batch_alter_table("doctors") as batch:
        batch.drop_column("booking_url")
