"""The territory's waiting list: by priority, then by waiting time, with each score's breakdown.

Scores are computed for display with ``now`` (the days waited move every day) through
guichet/assignment/priority.py; nothing is written, so opening the page changes no record.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from guichet.assignment.priority import FLAG_LABELS, compute_priority, is_reason
from guichet.models import Patient, PatientRequest, Territory
from guichet.requests.records import situation_of
from guichet.timeutil import age_on, paris_today

CSV_HEADERS = ["Référence", "Âge", "Commune", "Critères prioritaires", "Score", "Jours d'attente",
               "Détail du score"]


@dataclass
class WaitingEntry:
    request: PatientRequest
    rank: int
    score: float
    #: {flag: points}, waiting_days included
    breakdown: dict[str, float]
    days_waited: int
    age: int | None
    commune: str

    @property
    def flags(self) -> list[str]:
        return [FLAG_LABELS.get(k, k) for k in self.breakdown if is_reason(k)]

    @property
    def detail(self) -> list[tuple[str, float]]:
        return [(FLAG_LABELS.get(k, k), v) for k, v in self.breakdown.items() if v]


def entries(db: Session, territory: Territory, *, now: datetime, kind: str = "mt") -> list[WaitingEntry]:
    """Waiting requests of the territory, highest priority first, then longest wait."""
    rows = db.scalars(
        select(PatientRequest)
        .where(PatientRequest.territory_id == territory.id, PatientRequest.kind == kind,
               PatientRequest.status == "waiting")
        .options(selectinload(PatientRequest.patient).selectinload(Patient.commune))
    )
    today = paris_today(now)
    result = []
    for request in rows:
        score, breakdown = compute_priority(situation_of(request.patient), request.waiting_since_dt, now=now,
                                            settings=territory.settings)
        birth = request.patient.birth_date
        result.append(WaitingEntry(
            request=request, rank=0, score=score, breakdown=breakdown,
            days_waited=max(0, (today - paris_today(request.waiting_since_dt)).days),
            age=age_on(birth, today) if birth else None,
            commune=request.patient.commune.name if request.patient.commune else "",
        ))
    result.sort(key=lambda e: (-e.score, e.request.waiting_since_dt, e.request.id))
    for rank, entry in enumerate(result, start=1):
        entry.rank = rank
    return result


def _fmt(number: float) -> str:
    return f"{number:g}".replace(".", ",")


def csv_lines(items: list[WaitingEntry]) -> Iterator[str]:
    """CSV for a spreadsheet in French: UTF-8 with BOM, semicolons; only what staff need."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")

    def flush() -> str:
        value = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate(0)
        return value

    writer.writerow(CSV_HEADERS)
    yield "\ufeff" + flush()
    for e in items:
        writer.writerow([
            e.request.reference, "" if e.age is None else e.age, e.commune, ", ".join(e.flags),
            _fmt(e.score), e.days_waited,
            " + ".join(f"{label} {_fmt(points)}" for label, points in e.detail),
        ])
        yield flush()
