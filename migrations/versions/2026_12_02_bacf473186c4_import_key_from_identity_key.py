"""Import keys built from the one identity key (guichet/requests/identity.py).

An insurer-list row's import_key used to hash the territory, the birth name, the FIRST
first name only and the birth date, folded by the import's own normaliser. It now hashes
the territory and the identity key of the one-open-request index (all first names, the
folding of identity.fold_name). The keys of rows imported before are recomputed from
their patient's names, so that importing those people again still creates nothing.
Both rules are copied here as they stand on this date: a migration must not change when
the application's code does.

Where two imported rows of a territory now share a key (the same person imported twice
under two spellings), the first keeps the new key and the other its old one, which no
new key can equal: the unique (territory_id, import_key) constraint holds either way.

Revision ID: bacf473186c4
Revises: 20321f9bb985
Create Date: 2026-12-02
"""
import hashlib
import re
import unicodedata
from collections.abc import Callable, Sequence
from datetime import date

import sqlalchemy as sa
from alembic import op

revision: str = "bacf473186c4"
down_revision: str | None = "20321f9bb985"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KeyRule = Callable[[int, str, str, date], str]


def _fold_name(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name)
    folded = "".join(c for c in folded if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", folded).split())


def _new_key(territory_id: int, birth_name: str, first_names: str, birth_date: date) -> str:
    raw = f"{_fold_name(birth_name)}|{_fold_name(first_names)}|{birth_date.isoformat()}"
    identity_key = hashlib.sha256(raw.encode()).hexdigest()
    return hashlib.sha256(f"{territory_id}|{identity_key}".encode()).hexdigest()


def _old_text(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[\s\-']+", " ", text.lower()).strip()


def _old_key(territory_id: int, birth_name: str, first_names: str, birth_date: date) -> str:
    first = _old_text(first_names).split(" ")[0]
    raw = f"{territory_id}|{_old_text(birth_name)}|{first}|{birth_date.isoformat()}"
    return hashlib.sha256(raw.encode()).hexdigest()


def _rekey(rule: KeyRule) -> None:
    requests = sa.table("patient_requests", sa.column("id", sa.Integer), sa.column("territory_id", sa.Integer),
                        sa.column("patient_id", sa.Integer), sa.column("import_key", sa.String))
    patients = sa.table("patients", sa.column("id", sa.Integer), sa.column("birth_name", sa.String),
                        sa.column("first_names", sa.String), sa.column("birth_date", sa.Date))
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(requests.c.id, requests.c.territory_id, patients.c.birth_name, patients.c.first_names,
                  patients.c.birth_date)
        .join(patients, patients.c.id == requests.c.patient_id)
        .where(requests.c.import_key.is_not(None), patients.c.birth_date.is_not(None))
        .order_by(requests.c.id)
    ).all()
    taken: set[tuple[int, str]] = set()
    changes = []
    for request_id, territory_id, birth_name, first_names, birth_date in rows:
        key = rule(territory_id, birth_name or "", first_names or "", birth_date)
        if (territory_id, key) not in taken:
            taken.add((territory_id, key))
            changes.append({"request_id": request_id, "key": key})
    if changes:
        bind.execute(
            requests.update().where(requests.c.id == sa.bindparam("request_id"))
            .values(import_key=sa.bindparam("key")),
            changes,
        )


def upgrade() -> None:
    _rekey(_new_key)


def downgrade() -> None:
    _rekey(_old_key)
