"""The life of a proposal: approve and send, accept, decline, expire, cancel, complete.

Each function keeps three things in step: the proposal's status (through the workflow),
the request's status, and the GP's committed capacity. Messages go to the outbox in
the same transaction. Raises workflow.IllegalTransition, capacity.CapacityExhausted or
capacity.NoCurrentDeclaration; the caller's transaction is then rolled back.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from guichet.doctors import capacity
from guichet.doctors.practice import practice_context
from guichet.messaging import notifications
from guichet.models import Doctor, PairExclusion, PatientRequest, Proposal
from guichet.territories import settings as territory_settings
from guichet.timeutil import age_on, paris_today
from guichet.vocabulary import LANGUAGES
from guichet.workflow import DECLINE_REASONS, IllegalTransition, change_proposal_status, change_request_status

#: age bands shown to GPs before they accept (wide enough not to identify anyone)
AGE_BANDS = ((16, 29), (30, 44), (45, 59), (60, 69), (70, 79), (80, 89))
#: statuses in which the proposal holds one of the GP's places
COMMITTING = ("approved", "sent", "accepted")


def age_group(request: PatientRequest, now: datetime) -> str:
    """What a GP sees before accepting: an age band, never the birth date."""
    birth = request.patient.birth_date
    if birth is None:
        return "âge non renseigné"
    age = age_on(birth, paris_today(now))
    if age < 16:
        return "moins de 16 ans"
    for low, high in AGE_BANDS:
        if low <= age <= high:
            return f"{low}–{high} ans"
    return "90 ans et plus"


#: age bands of the children of an MT request, as the GP sees them
CHILD_BANDS = ((0, 2, "moins de 3 ans"), (3, 5, "3–5 ans"), (6, 11, "6–11 ans"), (12, 15, "12–15 ans"))


def needs_of(request: PatientRequest, now: datetime) -> list[str]:
    """The patient's needs in French, for the coordinator and for the GP before answering (nothing identifying)."""
    patient = request.patient
    today = paris_today(now)
    needs = []
    if request.kind == "mt" and request.children_birth_dates:
        bands = []
        for text in request.children_birth_dates:
            try:
                age = age_on(date.fromisoformat(str(text)), today)
            except ValueError:
                continue
            bands.append(next((label for low, high, label in CHILD_BANDS if low <= age <= high), "16 ans et plus"))
        count = len(request.children_birth_dates)
        needs.append(f"{count} enfant{'s' if count > 1 else ''} à suivre aussi"
                     + (f" ({', '.join(sorted(set(bands), key=bands.index))})" if bands else ""))
    if request.kind == "mt" and patient.needs_home_visit:
        needs.append("visites à domicile")
    if patient.needs_step_free:
        needs.append("accès de plain-pied (fauteuil, marches)")
    if patient.languages:
        needs.append("parle " + ", ".join(LANGUAGES.get(code, code).lower() for code in patient.languages))
    return needs


def create_draft(
    db: Session,
    request: PatientRequest,
    doctor: Doctor,
    *,
    now: datetime,
    run_id: int | None = None,
    declaration_id: int | None = None,
    slot_id: int | None = None,
    distance_km: float | None = None,
    value: float | None = None,
    explanation: dict[str, Any] | None = None,
    is_pinned: bool = False,
) -> Proposal:
    """A proposal for staff to review; the request stays in the queue until approval."""
    proposal = Proposal(
        request=request, doctor=doctor, run_id=run_id, declaration_id=declaration_id, slot_id=slot_id,
        distance_km=distance_km, value=value, explanation=explanation or {}, is_pinned=is_pinned,
        status="proposed", created_dt=now,
    )
    db.add(proposal)
    db.flush()
    return proposal


def approve_and_send(db: Session, proposal: Proposal, *, now: datetime, user_id: int | None = None) -> None:
    """Approve a draft: take one of the GP's places, tell the GP, and mark the request proposed."""
    request = proposal.request
    # The workflow claims the draft in the database first: of two coordinators approving
    # the same draft at once, the second finds it no longer "proposed" and stops here.
    change_proposal_status(proposal, "approved", now=now)
    proposal.approved_by_id = user_id
    if proposal.declaration_id is not None:
        capacity.reserve(db, proposal.declaration_id, today=paris_today(now))
    change_request_status(db, request, "proposed", now=now, actor="staff" if user_id else "system",
                          user_id=user_id)
    change_proposal_status(proposal, "sent", now=now)
    days = int(territory_settings.setting(request.territory, "proposal_answer_days"))
    proposal.answer_due_date = paris_today(now) + timedelta(days=days)
    doctor = proposal.doctor
    if doctor.email:
        notifications.enqueue(
            db,
            template="proposal_to_gp",
            subject="Un patient vous est proposé par la CPTS",
            dedup_key=f"proposal:{proposal.id}:sent",
            now=now,
            email=doctor.email,
            user_id=doctor.user.id if doctor.user else None,
            territory_id=request.territory_id,
            context={
                "doctor_name": doctor.display_name,
                "age_group": age_group(request, now),
                "commune": request.patient.commune.name if request.patient.commune else "",
                "distance_km": round(proposal.distance_km or 0, 1),
                "answer_due": proposal.answer_due_date.isoformat(),
                "territory_name": request.territory.name,
            },
        )
    db.flush()


def accept(db: Session, proposal: Proposal, *, now: datetime, user_id: int | None = None) -> None:
    """The GP accepts: the request is matched and the patient is told who their GP is."""
    change_proposal_status(proposal, "accepted", now=now)
    change_request_status(db, proposal.request, "matched", now=now, actor="doctor", user_id=user_id)
    doctor = proposal.doctor
    notifications.notify_patient(
        db, proposal.request, template="proposal_accepted",
        subject="Un médecin traitant accepte de vous suivre",
        dedup_key=f"proposal:{proposal.id}:accepted", now=now,
        context=practice_context(doctor),
    )
    db.flush()


def _give_back(db: Session, proposal: Proposal, previous_status: str) -> None:
    if proposal.declaration_id is not None and previous_status in COMMITTING:
        capacity.release(db, proposal.declaration_id)


def _requeue(db: Session, request: PatientRequest, *, now: datetime, actor: str, user_id: int | None,
             reason: str, note: str | None = None) -> None:
    if request.status in ("proposed", "matched"):
        change_request_status(db, request, "waiting", now=now, actor=actor, user_id=user_id, reason=reason,
                              note=note)


def exclude_pair(db: Session, proposal_or_request: Proposal | PatientRequest, doctor_id: int, *,
                 reason: str, now: datetime, user_id: int | None = None) -> None:
    """Never propose this GP to this patient again (declined, or excluded by staff)."""
    request = proposal_or_request.request if isinstance(proposal_or_request, Proposal) else proposal_or_request
    exists = db.scalar(select(PairExclusion).where(PairExclusion.patient_id == request.patient_id,
                                                   PairExclusion.doctor_id == doctor_id))
    if exists is None:
        db.add(PairExclusion(patient_id=request.patient_id, doctor_id=doctor_id, reason=reason,
                             created_dt=now, created_by_id=user_id))
        db.flush()


def decline_text(proposal: Proposal) -> str:
    """The GP's reason in French: the preset reason, then their own words."""
    label = DECLINE_REASONS.get(proposal.decline_code or "", "")
    words = proposal.decline_reason or ""
    if label and words:
        return f"{label} : {words}"
    return label or words or "motif non précisé"


def decline(db: Session, proposal: Proposal, *, now: datetime, code: str = "other", reason: str | None = None,
            user_id: int | None = None) -> None:
    """The GP declines: the place comes back, the pair is never proposed again, the request waits.

    `code` is a preset reason of DECLINE_REASONS (ValueError otherwise), `reason` the GP's words.
    """
    if code not in DECLINE_REASONS:
        raise ValueError(f"unknown decline reason {code!r}")
    previous = proposal.status
    change_proposal_status(proposal, "declined", now=now, reason=reason)
    proposal.decline_code = code
    _give_back(db, proposal, previous)
    exclude_pair(db, proposal, proposal.doctor_id, reason="declined", now=now, user_id=user_id)
    _requeue(db, proposal.request, now=now, actor="doctor", user_id=user_id, reason="declined",
             note=f"{proposal.doctor.display_name} : {decline_text(proposal)}")
    db.flush()


def expire(db: Session, proposal: Proposal, *, now: datetime) -> None:
    """No answer in time: the place comes back and the request waits again (no exclusion)."""
    previous = proposal.status
    change_proposal_status(proposal, "expired", now=now)
    _give_back(db, proposal, previous)
    _requeue(db, proposal.request, now=now, actor="system", user_id=None, reason="proposal_expired")
    db.flush()


def cancel(db: Session, proposal: Proposal, *, now: datetime, reason: str, user_id: int | None = None) -> None:
    """Staff cancel a proposal at any point; the request goes back to the queue if it was held."""
    previous = proposal.status
    change_proposal_status(proposal, "cancelled", now=now, reason=reason)
    _give_back(db, proposal, previous)
    if previous != "proposed":
        _requeue(db, proposal.request, now=now, actor="staff" if user_id else "system", user_id=user_id,
                 reason="proposal_cancelled")
    db.flush()


def record_follow_up(db: Session, proposal: Proposal, *, now: datetime, first_consultation: bool = False,
                     mt_declared: bool = False, user_id: int | None = None) -> None:
    """Record the first consultation and/or the médecin traitant declaration.

    The request is completed when both are recorded.
    """
    if proposal.status != "accepted":
        raise IllegalTransition(f"Proposition n° {proposal.id}", proposal.status, "suivi")
    if first_consultation and proposal.first_consultation_dt is None:
        proposal.first_consultation_dt = now
    if mt_declared and proposal.mt_declared_dt is None:
        proposal.mt_declared_dt = now
    request = proposal.request
    if proposal.first_consultation_dt and proposal.mt_declared_dt and request.status == "matched":
        change_request_status(db, request, "completed", now=now, actor="doctor", user_id=user_id)
    db.flush()
