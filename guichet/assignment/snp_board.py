"""The unscheduled-care (SNP) board: today's and tomorrow's requests beside the free slots.

Suggestions come from the matching engine (see runs.solve_snp: one offer per
slot, only inside the patient's availability); booking, by suggestion or by hand, goes
through guichet.doctors.slots.book, whose conditional UPDATE books a slot once at most, and
which tells the patient through the outbox. A batch of bookings books each pair in its
own SAVEPOINT, so one slot taken meanwhile does not undo the others.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from guichet.accounts import audit
from guichet.assignment import problems
from guichet.doctors import slots
from guichet.formatting import time_fr
from guichet.models import PatientRequest, Slot, Territory, User
from guichet.workflow import IllegalTransition


class BoardError(ValueError):
    """A booking the board refuses; the message is in French."""


@dataclass
class BookingReport:
    booked: list[tuple[int, int]] = field(default_factory=list)
    #: (request id, slot id, French reason)
    failed: list[tuple[int, int, str]] = field(default_factory=list)


#: a request whose last availability ends within this delay is flagged as urgent
ENDING_SOON = timedelta(hours=4)


def urgency(request: PatientRequest, fitting_slots: int, now: datetime) -> list[str]:
    """Why a request needs attention first, in French (empty when nothing presses)."""
    reasons = []
    ends = [end for _, end in problems.availability_windows(request) if end > now]
    if problems.availability_windows(request) and not ends:
        reasons.append("Disponibilités passées : rappeler le patient")
    elif ends and max(ends) - now <= ENDING_SOON:
        reasons.append(f"Disponible jusqu'à {time_fr(max(ends))} seulement")
    if fitting_slots == 0:
        reasons.append("Aucun créneau libre ne convient")
    return reasons


def board(db: Session, territory: Territory, *, now: datetime) -> dict[str, Any]:
    """Requests and free slots for today and tomorrow (Europe/Paris), with what is urgent."""
    requests = problems.snp_board_requests(db, territory, now=now)
    free = problems.snp_free_slots(db, territory, now=now)
    fits = {r.id: [s.id for s in free if problems.slot_fits(r, s)] for r in requests}
    urgent = {r.id: urgency(r, len(fits[r.id]), now) for r in requests}
    return {"requests": requests, "slots": free, "fits": fits, "urgency": urgent}


def _check(db: Session, territory: Territory, request_id: int, slot_id: int,
           now: datetime) -> tuple[PatientRequest, Slot]:
    request = db.get(PatientRequest, request_id)
    slot = db.get(Slot, slot_id)
    if request is None or request.territory_id != territory.id or request.kind != "snp":
        raise BoardError("Demande introuvable dans votre territoire.")
    if slot is None or slot.doctor.territory_id != territory.id:
        raise BoardError("Créneau introuvable dans votre territoire.")
    if request.status != "waiting":
        raise BoardError(f"La demande {request.reference} n'est plus en attente.")
    if not problems.slot_fits(request, slot):
        raise BoardError("Ce créneau ne correspond à aucune des disponibilités indiquées par le patient.")
    return request, slot


def book(db: Session, territory: Territory, request_id: int, slot_id: int, *, user: User | None,
         now: datetime, base_url: str | None = None) -> Slot:
    """Book one slot for one SNP request of the territory (by hand or from a suggestion).

    Raises BoardError (not of the territory, not waiting, outside the patient's
    availability) or slots.SlotUnavailable (booked meanwhile, cancelled or past).
    """
    request, _ = _check(db, territory, request_id, slot_id, now)
    try:
        slot = slots.book(db, slot_id, request, now=now, user_id=user.id if user else None, base_url=base_url)
    except IntegrityError as exc:
        # another coordinator booked this request into another slot at the same instant
        # (slots.request_id is unique); the caller rolls back
        raise BoardError("Cette demande vient de recevoir un autre créneau.") from exc
    audit.record(db, "snp.book", now=now, user_id=user.id if user else None, object_type="patient_request",
                 object_id=request.id, territory_id=territory.id, slot=slot_id)
    db.flush()
    return slot


def book_many(db: Session, territory: Territory, pairs: Iterable[tuple[int, int]], *, user: User | None,
              now: datetime, base_url: str | None = None) -> BookingReport:
    """Book the confirmed suggestions, each on its own; report those that failed and why."""
    report = BookingReport()
    pairs = list(dict.fromkeys(pairs))
    # a write before the first SAVEPOINT (see arbitration.approve on pysqlite)
    audit.record(db, "snp.book_batch", now=now, user_id=user.id if user else None, object_type="territory",
                 object_id=territory.id, territory_id=territory.id, pairs=[list(p) for p in pairs])
    db.flush()
    for request_id, slot_id in pairs:
        try:
            with db.begin_nested():
                book(db, territory, request_id, slot_id, user=user, now=now, base_url=base_url)
        except (BoardError, slots.SlotUnavailable, IllegalTransition) as exc:
            report.failed.append((request_id, slot_id, str(exc)))
            continue
        report.booked.append((request_id, slot_id))
    db.flush()
    return report
