"""Creating requests: references, tracking tokens, initial history and priority."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import cast

from sqlalchemy import Table, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from guichet.assignment.priority import Situation, compute_priority
from guichet.identifiers import new_short_code
from guichet.models import Patient, PatientRequest, ReferenceCounter, RequestEvent
from guichet.requests.identity import person_key
from guichet.timeutil import to_paris


def new_tracking_token() -> str:
    """192 random bits, URL-safe: the patient's only key to the request."""
    return secrets.token_urlsafe(24)


def new_references(db: Session, kind: str, now: datetime, count: int) -> list[str]:
    """The next `count` human-friendly references of the year for that kind (MT-2026-000123…).

    Numbers come from the (year, kind) counter row, incremented by one UPDATE … RETURNING:
    a concurrent submission waits for this transaction instead of taking the same number
    (READ COMMITTED hides uncommitted rows from a max + 1). A rolled-back transaction
    gives its numbers back. Same statements on SQLite and PostgreSQL.
    """
    year = to_paris(now).year
    prefix = f"{kind.upper()}-{year}-"
    last = _advance_counter(db, year, kind, count, prefix)
    return [f"{prefix}{number:06d}" for number in range(last - count + 1, last + 1)]


def _advance_counter(db: Session, year: int, kind: str, count: int, prefix: str) -> int:
    counters = cast(Table, ReferenceCounter.__table__)
    key = (counters.c.year == year) & (counters.c.kind == kind)
    last = db.execute(
        update(counters).where(key).values(last=counters.c.last + count).returning(counters.c.last)
    ).scalar_one_or_none()
    if last is not None:
        return int(last)
    # First number of the year (or numbers stored before the counters): start after the
    # highest stored one. Two first submissions at once: the loser's insert becomes an update.
    highest = db.scalar(
        select(func.max(PatientRequest.reference)).where(PatientRequest.reference.like(f"{prefix}%"))
    )
    start = int(highest[len(prefix):]) if highest else 0
    insert = sqlite_insert if db.get_bind().dialect.name == "sqlite" else postgresql_insert
    statement = insert(counters).values(year=year, kind=kind, last=start + count)
    upsert = statement.on_conflict_do_update(
        index_elements=[counters.c.year, counters.c.kind], set_={"last": counters.c.last + count}
    )
    return int(db.execute(upsert.returning(counters.c.last)).scalar_one())


def new_reference(db: Session, kind: str, now: datetime) -> str:
    return new_references(db, kind, now, 1)[0]


def situation_of(patient: Patient) -> Situation:
    return Situation(
        birth_date=patient.birth_date,
        is_ald=patient.is_ald,
        is_css=patient.is_css,
        is_pregnant=patient.is_pregnant,
        is_disabled=patient.is_disabled,
        hospital_discharge_date=patient.hospital_discharge_date,
        previous_mt_left_date=patient.previous_mt_left_date,
    )


def refresh_priority(request: PatientRequest, *, now: datetime) -> None:
    """Recompute the stored score and breakdown from the patient and the territory."""
    score, breakdown = compute_priority(
        situation_of(request.patient),
        request.waiting_since_dt,
        now=now,
        settings=request.territory.settings,
    )
    request.priority_score = score
    request.priority_breakdown = breakdown


def create_request(
    db: Session,
    patient: Patient,
    *,
    kind: str,
    channel: str,
    status: str,
    now: datetime,
    actor: str = "patient",
    user_id: int | None = None,
    submitted_dt: datetime | None = None,
    **fields: object,
) -> PatientRequest:
    """Create a request with its reference, token, priority and first history line."""
    submitted = submitted_dt or now
    request = PatientRequest(
        reference=new_reference(db, kind, now),
        tracking_token=new_tracking_token(),
        short_code=new_short_code(),
        kind=kind,
        channel=channel,
        status=status,
        territory_id=patient.territory_id,
        patient=patient,
        submitted_dt=submitted,
        waiting_since_dt=submitted,
        status_changed_dt=now,
        identity_key=person_key(patient),
        **fields,
    )
    request.territory = patient.territory
    db.add(request)
    refresh_priority(request, now=now)
    db.add(
        RequestEvent(
            request=request, at_dt=now, actor=actor, user_id=user_id, kind="created",
            to_status=status, reason=channel,
        )
    )
    db.flush()
    return request
