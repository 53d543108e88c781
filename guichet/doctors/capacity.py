"""GP capacity: declarations, what remains, and the guarantee against over-commitment.

Remaining = declared − accepted − pending, where pending means approved or sent to the
GP. Both are counted in `CapacityDeclaration.committed`, which only changes through
`reserve` and `release`: `reserve` is a conditional UPDATE (… WHERE committed <
new_patients), so two coordinators approving at once, or a GP lowering the figure in the
middle of a run, can never push a GP past the declared capacity. PostgreSQL serialises
the two UPDATEs on the row lock and re-checks the condition; SQLite has one writer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from guichet.models import CapacityDeclaration, Doctor, Proposal
from guichet.timeutil import paris_today

PENDING = ("approved", "sent")


class CapacityExhausted(ValueError):
    """The GP has no place left under the current declaration."""


class NoCurrentDeclaration(ValueError):
    """The GP has not declared (or has paused) any capacity."""


@dataclass(frozen=True)
class CapacitySummary:
    declared: int
    accepted: int
    pending: int

    @property
    def remaining(self) -> int:
        return max(0, self.declared - self.accepted - self.pending)


def current_declaration(db: Session, doctor_id: int) -> CapacityDeclaration | None:
    """The doctor's newest declaration, paused or not, expired or not."""
    return db.scalar(
        select(CapacityDeclaration)
        .where(CapacityDeclaration.doctor_id == doctor_id, CapacityDeclaration.superseded_dt.is_(None))
        .order_by(CapacityDeclaration.id.desc())
    )


def is_open(declaration: CapacityDeclaration | None, today: date) -> bool:
    """True when the declaration takes new patients today (not paused, not past its date)."""
    return (
        declaration is not None
        and not declaration.is_paused
        and (declaration.valid_until is None or declaration.valid_until >= today)
    )


def summary(db: Session, declaration: CapacityDeclaration) -> CapacitySummary:
    rows = dict(
        db.execute(
            select(Proposal.status, func.count())
            .where(Proposal.declaration_id == declaration.id, Proposal.status.in_(("accepted", *PENDING)))
            .group_by(Proposal.status)
        ).all()
    )
    return CapacitySummary(
        declared=declaration.new_patients,
        accepted=int(rows.get("accepted", 0)),
        pending=int(rows.get("approved", 0)) + int(rows.get("sent", 0)),
    )


def remaining_by_doctor(db: Session, doctor_ids: list[int], *, now: datetime, count_drafts: bool = False,
                        except_request_id: int | None = None) -> dict[int, tuple[int, int]]:
    """{doctor_id: (declaration_id, remaining places)} for open declarations, in one query.

    The one rule for "places left". A run replaces the drafts, so it counts only committed
    places; with `count_drafts`, the drafts waiting for review count too (except the one of
    `except_request_id`, which a reassignment replaces): the places left *now*, that a
    coordinator may still give by hand without making "approve all" fail.
    """
    today = paris_today(now)
    rows = [d for d in db.scalars(
        select(CapacityDeclaration).where(
            CapacityDeclaration.doctor_id.in_(doctor_ids), CapacityDeclaration.superseded_dt.is_(None)
        )
    ) if is_open(d, today)]
    drafts: dict[int, int] = {}
    if count_drafts and rows:
        query = (select(Proposal.doctor_id, func.count()).where(
            Proposal.status == "proposed", Proposal.slot_id.is_(None),
            Proposal.doctor_id.in_([d.doctor_id for d in rows])).group_by(Proposal.doctor_id))
        if except_request_id is not None:
            query = query.where(Proposal.request_id != except_request_id)
        drafts = {doctor_id: int(n) for doctor_id, n in db.execute(query)}
    return {
        d.doctor_id: (d.id, max(0, d.new_patients - d.committed - drafts.get(d.doctor_id, 0))) for d in rows
    }


def reserve(db: Session, declaration_id: int, *, today: date) -> None:
    """Take one place under the declaration or raise CapacityExhausted / NoCurrentDeclaration."""
    result = db.execute(
        update(CapacityDeclaration)
        .where(
            CapacityDeclaration.id == declaration_id,
            CapacityDeclaration.superseded_dt.is_(None),
            CapacityDeclaration.is_paused.is_(False),
            CapacityDeclaration.committed < CapacityDeclaration.new_patients,
            (CapacityDeclaration.valid_until.is_(None)) | (CapacityDeclaration.valid_until >= today),
        )
        .values(committed=CapacityDeclaration.committed + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        decl = db.get(CapacityDeclaration, declaration_id)
        if decl is not None:
            db.refresh(decl)
        if decl is None or not is_open(decl, today) or decl.superseded_dt is not None:
            raise NoCurrentDeclaration("Ce médecin n'a pas de disponibilité déclarée en cours.")
        raise CapacityExhausted("Ce médecin n'a plus de place disponible : capacité déclarée atteinte.")
    decl = db.get(CapacityDeclaration, declaration_id)
    if decl is not None:
        db.refresh(decl)


def release(db: Session, declaration_id: int) -> None:
    """Give back one place (proposal declined, expired or cancelled before acceptance)."""
    db.execute(
        update(CapacityDeclaration)
        .where(CapacityDeclaration.id == declaration_id, CapacityDeclaration.committed > 0)
        .values(committed=CapacityDeclaration.committed - 1)
        .execution_options(synchronize_session=False)
    )
    decl = db.get(CapacityDeclaration, declaration_id)
    if decl is not None:
        db.refresh(decl)


def declare(
    db: Session,
    doctor: Doctor,
    *,
    now: datetime,
    new_patients: int,
    pending_action: str = "keep",
    **fields: Any,
) -> tuple[CapacityDeclaration, list[Proposal]]:
    """Record a new declaration that replaces the current one.

    Pending proposals (approved or sent, not yet answered) either move to the new
    declaration (`pending_action="keep"`) or are returned: the caller cancels the
    returned proposals through guichet.assignment.proposals so that requests go back to waiting.
    Returns (new declaration, proposals to send back to staff).
    """
    if pending_action not in ("keep", "return"):
        raise ValueError("pending_action must be 'keep' or 'return'")
    old = current_declaration(db, doctor.id)
    pending: list[Proposal] = []
    if old is not None:
        old.superseded_dt = now
        pending = list(
            db.scalars(
                select(Proposal).where(Proposal.declaration_id == old.id, Proposal.status.in_(PENDING))
            )
        )
    declaration = CapacityDeclaration(doctor=doctor, new_patients=new_patients, declared_dt=now, **fields)
    db.add(declaration)
    db.flush()
    to_return: list[Proposal] = []
    if old is not None:
        for proposal in pending:
            if pending_action == "keep":
                proposal.declaration_id = declaration.id
                declaration.committed += 1
                old.committed -= 1
            else:
                to_return.append(proposal)
    db.flush()
    return declaration, to_return


def set_paused(db: Session, declaration: CapacityDeclaration, paused: bool) -> None:
    """Pause or resume the current declaration in place.

    In place rather than as a new declaration: the places already accepted and the
    pending proposals stay counted under it (a new row would start from zero). While
    paused, `reserve` refuses new approvals; proposals already sent await the GP's answer.
    """
    declaration.is_paused = paused
    db.flush()
