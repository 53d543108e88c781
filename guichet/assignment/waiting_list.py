"""The territory's waiting list: by priority, then by waiting time, with each score's breakdown.

Scores are computed for display with ``now`` (the days waited move every day) through
guichet/assignment/priority.py; nothing is written, so opening the page changes no record.
Filters narrow the list without reordering it: each patient keeps the rank they have on the
whole list (the engine's order). Commune, priority reason, waiting time and the name search
are the request list's own filters (guichet/requests/queue.py); needs are the engine's tags
(guichet/assignment/problems.py).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from guichet import paging
from guichet.assignment.priority import FLAG_LABELS, compute_priority, is_reason
from guichet.assignment.problems import demand_tags
from guichet.models import Patient, PatientRequest, Territory
from guichet.requests import queue
from guichet.requests.records import situation_of
from guichet.timeutil import age_on, paris_today
from guichet.vocabulary import TAG_LABELS

#: patients per page of the waiting list
PER_PAGE = 50
#: "waiting more than N days" choices offered on the waiting list
WAITED_CHOICES = (30, 90, 180, 365)
#: the needs a coordinator filters on: the engine's tags, which a GP must accept
NEED_FILTERS = {k: label[:1].upper() + label[1:] for k, label in TAG_LABELS.items()}

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


@dataclass
class Filters:
    """What the coordinator narrows the waiting list to; every field optional.

    Commune, priority reason, waiting time and the searched name or reference are read and
    applied by the request list's rules (`queue.Filters`), so both lists agree.
    """

    commune: str = ""
    priority: str = ""
    waited_days: int | None = None
    need: str = ""
    q: str = ""
    page: int = 1

    @classmethod
    def from_args(cls, args: Any) -> Filters:
        """Build from query-string arguments, ignoring values that are not known choices."""
        shared = queue.Filters.from_args(args)
        need = args.get("need", "")
        return cls(commune=shared.commune, priority=shared.priority,
                   waited_days=shared.waited_days if shared.waited_days in WAITED_CHOICES else None,
                   need=need if need in NEED_FILTERS else "", q=shared.q,
                   page=paging.page_number(args.get("page")))

    @property
    def is_active(self) -> bool:
        return bool(self.commune or self.priority or self.waited_days or self.need or self.q)

    def as_queue_filters(self) -> queue.Filters:
        return queue.Filters(kind="mt", status="waiting", commune=self.commune, priority=self.priority,
                             waited_days=self.waited_days, q=self.q)

    def as_args(self, **changes: Any) -> dict[str, Any]:
        """Query-string arguments for a link (pages, the CSV export), without the empty ones."""
        values = {"commune": self.commune, "priority": self.priority, "waited": self.waited_days or "",
                  "need": self.need, "q": self.q, "page": self.page}
        values.update(changes)
        return {k: v for k, v in values.items() if v not in ("", None) and not (k == "page" and v == 1)}

    def audit_codes(self) -> dict[str, Any]:
        """The filters as codes for an audit row: whether a search was typed, never its text."""
        return {k: v for k, v in self.as_args(page=1).items() if k != "q"} | {"searched": bool(self.q)}


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


def filtered(db: Session, territory: Territory, filters: Filters, *, now: datetime) -> list[WaitingEntry]:
    """The MT waiting list narrowed by the filters, in the list's order, each with its rank on the whole list."""
    items = entries(db, territory, now=now)
    if filters.commune or filters.priority or filters.waited_days or filters.q:
        wanted = set(queue.request_ids(db, territory.id, filters.as_queue_filters(), now=now))
        items = [e for e in items if e.request.id in wanted]
    if filters.need:
        items = [e for e in items if filters.need in demand_tags(e.request)]
    return items


def page_of(items: list[WaitingEntry], filters: Filters) -> paging.Paged:
    """The page asked for (past the end: the last page)."""
    return paging.paginate(items, filters.page, PER_PAGE)


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
