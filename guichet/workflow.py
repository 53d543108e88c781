"""The one place where request and proposal statuses change.

Every status change goes through `change_request_status` or `change_proposal_status`,
which refuse an illegal transition and write the request's history. Both first move the
row in the database with a conditional UPDATE (… WHERE status = the status this session
read): of two concurrent changes (a double click, a GP declining while the proposal
expires), the second waits for the first's row lock, then finds the status moved on and
raises IllegalTransition instead of overwriting it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session, object_session

from guichet.models import Proposal, RequestEvent
from guichet.models.patients import OPEN_REQUEST_STATUSES, PatientRequest, RequestKind, RequestStatus

S = RequestStatus

#: exits open to any request still in progress
_EXITS = {S.WITHDRAWN, S.CANCELLED, S.EXPIRED}

REQUEST_TRANSITIONS: dict[str, dict[S, set[S]]] = {
    RequestKind.MT: {
        # imported from an insurer list: reached by phone, consent recorded, then waiting
        S.TO_CONTACT: {S.WAITING} | _EXITS,
        S.SUBMITTED: {S.WAITING} | _EXITS,
        S.WAITING: {S.PROPOSED} | _EXITS,
        # a proposal declined, expired or cancelled puts the request back in the queue
        S.PROPOSED: {S.MATCHED, S.WAITING} | _EXITS,
        # the GP may still give up before the first consultation
        S.MATCHED: {S.COMPLETED, S.WAITING} | _EXITS,
    },
    RequestKind.SNP: {
        S.SUBMITTED: {S.WAITING} | _EXITS,
        S.WAITING: {S.BOOKED} | _EXITS,
        # a GP cancelling a booked slot sends the request back to the board
        S.BOOKED: {S.COMPLETED, S.NO_SHOW, S.WAITING} | _EXITS,
    },
}

FINAL_REQUEST_STATUSES = frozenset(set(S) - set(OPEN_REQUEST_STATUSES))

#: staff must say why they cancel a request
CANCEL_REASONS = {
    "found_elsewhere": "A trouvé un médecin par ailleurs",
    "unreachable": "Injoignable",
    "duplicate": "Doublon",
    "out_of_territory": "Hors du territoire",
    "refused": "Ne souhaite pas être accompagné",
    "other": "Autre motif",
}

#: why a GP declines a proposed patient (preset, so that the indicators can count them)
DECLINE_REASONS = {
    "no_place": "Plus de place finalement",
    "too_far": "Trop loin du cabinet",
    "needs": "Besoins au-delà de ce que le cabinet peut assurer",
    "already_known": "Patient déjà connu du cabinet",
    "other": "Autre motif",
}

#: why a request's status changed, as its history says it (reason codes of change_request_status)
EVENT_REASONS = {
    **CANCEL_REASONS,
    "declined": "refusée par le médecin",
    "proposal_expired": "le médecin n'a pas répondu dans le délai",
    "proposal_cancelled": "proposition retirée par la coordination",
    "slot_cancelled": "créneau annulé par le médecin",
    "no_answer": "pas de réponse aux relances",
    "patient_answer": "réponse du patient à une relance",
    "no_longer_needed": "n'a plus besoin de médecin traitant",
    "closed_after_visit": "close après la consultation",
    "qualified": "vérifiée par la coordination",
    "withdrawn": "retirée par le patient",
    "patient_withdrew": "retirée par le patient",
    "contact": "coordonnées mises à jour par le patient",
}


def event_reason(code: str | None) -> str:
    """The French words for a history reason code; an unknown code is never shown raw."""
    if not code:
        return ""
    return EVENT_REASONS.get(code) or EVENT_REASONS.get(code.split(":", 1)[0], "autre motif")


PROPOSAL_TRANSITIONS: dict[str, set[str]] = {
    "proposed": {"approved", "cancelled"},
    "approved": {"sent", "cancelled"},
    "sent": {"accepted", "declined", "expired", "cancelled"},
    # staff may still cancel after acceptance (patient moved, GP gave up)
    "accepted": {"cancelled"},
    "declined": set(),
    "expired": set(),
    "cancelled": set(),
}

REQUEST_STATUS_LABELS = {
    S.TO_CONTACT: "À contacter",
    S.SUBMITTED: "Reçue",
    S.WAITING: "En attente d'un médecin",
    S.PROPOSED: "Proposée à un médecin",
    S.MATCHED: "Médecin trouvé",
    S.BOOKED: "Rendez-vous réservé",
    S.COMPLETED: "Terminée",
    S.NO_SHOW: "Rendez-vous manqué",
    S.WITHDRAWN: "Retirée par le patient",
    S.CANCELLED: "Annulée",
    S.EXPIRED: "Expirée",
}

PROPOSAL_STATUS_LABELS = {
    "proposed": "À valider",
    "approved": "Validée",
    "sent": "Envoyée au médecin",
    "accepted": "Acceptée",
    "declined": "Refusée par le médecin",
    "expired": "Sans réponse",
    "cancelled": "Annulée",
}


class IllegalTransition(ValueError):
    """A status change that the workflow does not allow."""

    def __init__(self, what: str, current: str, target: str) -> None:
        self.current, self.target = current, target
        super().__init__(f"{what} : passage de « {current} » à « {target} » impossible.")


def is_final_request_status(status: str) -> bool:
    return status in FINAL_REQUEST_STATUSES


def allowed_request_targets(kind: str, status: str) -> set[str]:
    return {str(s) for s in REQUEST_TRANSITIONS[kind].get(S(status), set())}


def change_request_status(
    db: Session,
    request: PatientRequest,
    target: str,
    *,
    now: datetime,
    actor: str = "system",
    user_id: int | None = None,
    reason: str | None = None,
    note: str | None = None,
) -> RequestEvent:
    """Move a request to `target` and record it in its history.

    Raises IllegalTransition when the workflow forbids the move.
    """
    current = request.status
    if target not in allowed_request_targets(request.kind, current):
        raise IllegalTransition(f"Demande {request.reference}", current, target)
    if not _claim(db, request, current, target):
        raise IllegalTransition(f"Demande {request.reference}", request.status, target)
    request.status = target
    request.status_changed_dt = now
    if target == S.WAITING and current in (S.SUBMITTED, S.TO_CONTACT):
        # the wait counts from when the patient asked, not from qualification
        request.waiting_since_dt = request.submitted_dt
    if is_final_request_status(target):
        request.closed_dt = now
        request.close_reason = reason
    event = RequestEvent(
        request=request,
        at_dt=now,
        actor=actor,
        user_id=user_id,
        kind="status",
        from_status=current,
        to_status=target,
        reason=reason,
        text=note,
    )
    db.add(event)
    db.flush()
    return event


def change_proposal_status(
    proposal: Proposal, target: str, *, now: datetime, reason: str | None = None
) -> None:
    """Move a proposal to `target`, stamping the matching date.

    Raises IllegalTransition when the workflow forbids the move. The caller keeps the
    request's status and the GP's committed capacity in step (guichet.assignment.arbitration).
    """
    current = proposal.status
    if target not in PROPOSAL_TRANSITIONS.get(current, set()):
        raise IllegalTransition(f"Proposition n° {proposal.id}", current, target)
    db = object_session(proposal)
    if db is not None and not _claim(db, proposal, current, target):
        raise IllegalTransition(f"Proposition n° {proposal.id}", proposal.status, target)
    proposal.status = target
    if target == "approved":
        proposal.approved_dt = now
    elif target == "sent":
        proposal.sent_dt = now
    elif target in ("accepted", "declined"):
        proposal.answered_dt = now
        if target == "declined":
            proposal.decline_reason = reason
    elif target == "cancelled":
        proposal.cancel_reason = reason


def _claim(db: Session, row: PatientRequest | Proposal, current: str, target: str) -> bool:
    """Move a stored row from `current` to `target` in the database, or reload it and say no.

    Under READ COMMITTED the UPDATE waits for a concurrent transaction holding the row,
    then re-reads its status: only one of two racing changes matches.
    """
    if row.id is None:
        return True  # not flushed yet: nobody else can see it
    model = type(row)
    result = db.execute(
        update(model).where(model.id == row.id, model.status == current).values(status=target)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 1:  # type: ignore[attr-defined]
        return True
    db.refresh(row)
    return False
