"""Follow-ups: GP reminders and expiry, patient and GP questions, stale requests, SNP upkeep.

Every function selects what is due and not yet done, so that running it twice changes
nothing more and sends no second message (FollowUp rows mark what was done, and every
message carries a dedup key). Patients answer by a yes/no link carrying an unguessable
token (`record_answer`). Delays are territory settings (DEFAULTS below).
Raises workflow.IllegalTransition only on a bug; answers raise AnswerError.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, select, update
from sqlalchemy.orm import Session, aliased

from guichet.assignment import proposals
from guichet.formatting import date_fr
from guichet.messaging import notifications
from guichet.models import (
    CapacityDeclaration,
    Doctor,
    FollowUp,
    Notification,
    PatientRequest,
    Proposal,
    Slot,
    Territory,
)
from guichet.territories import settings as territory_settings
from guichet.territories.settings import DEFAULT_SETTINGS
from guichet.timeutil import as_utc, paris_today
from guichet.workflow import change_request_status, is_final_request_status

#: the delays this module reads; their defaults live with every other territory setting
DEFAULTS: dict[str, int] = {
    name: int(DEFAULT_SETTINGS[name])
    for name in (
        "proposal_reminder_days",
        "patient_follow_up_days",
        "gp_follow_up_days",
        "waiting_confirmation_days",
        "patient_answer_expiry_days",
        "snp_close_days",
        "capacity_reminder_days",
    )
}

#: follow-up kinds answered by the patient through a yes/no link
PATIENT_KINDS = ("patient_first_consultation", "snp_after_visit", "patient_still_waiting")
#: follow-up kinds answered by the GP through a yes/no link
GP_KINDS = ("gp_mt_declared",)

QUESTIONS = {
    "patient_first_consultation": "Avez-vous eu votre première consultation avec votre nouveau médecin traitant ?",
    "snp_after_visit": "Avez-vous pu être reçu(e) en consultation lors de votre rendez-vous ?",
    "patient_still_waiting": "Recherchez-vous toujours un médecin traitant ?",
    "gp_mt_declared": "Avez-vous déclaré être le médecin traitant de ce patient ?",
}


class AnswerError(ValueError):
    """The answer link is unknown, already used, or its request is closed."""


def delay(territory: Territory, name: str) -> int:
    return int(territory_settings.setting(territory, name))


def new_answer_token() -> str:
    """256 random bits, URL-safe: who holds the link may answer, nothing more."""
    return secrets.token_urlsafe(32)


def answer_urls(settings: Mapping[str, Any], token: str) -> dict[str, str]:
    base = str(settings.get("BASE_URL", "")).rstrip("/")
    return {"yes_url": f"{base}/reponse/{token}/oui", "no_url": f"{base}/reponse/{token}/non"}


def _has_follow_up(kind: str, *, proposal: bool) -> Any:
    column = FollowUp.proposal_id == Proposal.id if proposal else FollowUp.request_id == PatientRequest.id
    return exists().where(FollowUp.kind == kind, column)


def _gp_context(proposal: Proposal, now: datetime, settings: Mapping[str, Any]) -> dict[str, Any]:
    request = proposal.request
    return {
        "doctor_name": proposal.doctor.display_name,
        "age_group": proposals.age_group(request, now),
        "commune": request.patient.commune.name if request.patient.commune else "",
        "reference": request.reference,
        "territory_name": request.territory.name,
        "portal_url": str(settings.get("BASE_URL", "")).rstrip("/") + "/medecin",
    }


def remind_gps(db: Session, *, now: datetime, settings: Mapping[str, Any]) -> int:
    """One reminder to a GP who has not answered a proposal after N days (proposal_reminder_days)."""
    today = paris_today(now)
    count = 0
    query = (
        select(Proposal)
        .where(Proposal.status == "sent", Proposal.sent_dt.is_not(None),
               ~_has_follow_up("gp_reminder", proposal=True))
        .order_by(Proposal.id)
    )
    for proposal in db.scalars(query):
        request = proposal.request
        assert proposal.sent_dt is not None  # selected above
        due = proposal.sent_dt + timedelta(days=delay(request.territory, "proposal_reminder_days"))
        if due > now or (proposal.answer_due_date is not None and proposal.answer_due_date < today):
            continue
        db.add(FollowUp(request_id=request.id, proposal_id=proposal.id, kind="gp_reminder",
                        due_dt=due, done_dt=now, created_dt=now))
        doctor = proposal.doctor
        if doctor.email:
            answer_due = date_fr(proposal.answer_due_date)
            notifications.enqueue(
                db, template="followup_gp_reminder",
                subject="Rappel : un patient attend votre réponse",
                dedup_key=f"followup:gp_reminder:{proposal.id}", now=now, email=doctor.email,
                user_id=doctor.user.id if doctor.user else None, territory_id=request.territory_id,
                context={**_gp_context(proposal, now, settings), "answer_due": answer_due},
            )
        count += 1
    db.flush()
    return count


def expire_proposals(db: Session, *, now: datetime) -> int:
    """Proposals past their answer date expire: the place comes back, the request waits again.

    The GP is not excluded for this patient: only a decline excludes.
    """
    today = paris_today(now)
    # a proposal a GP is answering right now is left to them (locked rows are skipped)
    query = (select(Proposal).where(Proposal.status == "sent", Proposal.answer_due_date < today)
             .with_for_update(skip_locked=True))
    count = 0
    for proposal in db.scalars(query.order_by(Proposal.id)).all():
        proposals.expire(db, proposal, now=now)
        count += 1
    return count


def _ask(db: Session, request: PatientRequest, kind: str, *, due: datetime, now: datetime,
         proposal: Proposal | None = None) -> FollowUp:
    follow_up = FollowUp(request_id=request.id, proposal_id=proposal.id if proposal else None,
                         kind=kind, due_dt=due, answer_token=new_answer_token(), created_dt=now)
    db.add(follow_up)
    db.flush()
    return follow_up


def _accepted_due(db: Session, kind: str, done_column: Any, delay_name: str,
                  now: datetime) -> list[tuple[Proposal, datetime]]:
    """Accepted proposals whose `kind` question is due, with its due date.

    Due `delay_name` days after acceptance; skipped once answered (`done_column` set) or asked.
    """
    query = (
        select(Proposal).join(Proposal.request)
        .where(Proposal.status == "accepted", done_column.is_(None),
               Proposal.answered_dt.is_not(None), PatientRequest.status == "matched",
               ~_has_follow_up(kind, proposal=True))
        .order_by(Proposal.id)
    )
    due_items = []
    for proposal in db.scalars(query).all():
        assert proposal.answered_dt is not None
        due = proposal.answered_dt + timedelta(days=delay(proposal.request.territory, delay_name))
        if due <= now:
            due_items.append((proposal, due))
    return due_items


def ask_first_consultation(db: Session, *, now: datetime, settings: Mapping[str, Any]) -> int:
    """D+14 after acceptance: "have you had your first consultation?" to the patient."""
    count = 0
    for proposal, due in _accepted_due(db, "patient_first_consultation", Proposal.first_consultation_dt,
                                       "patient_follow_up_days", now):
        request = proposal.request
        follow_up = _ask(db, request, "patient_first_consultation", due=due, now=now, proposal=proposal)
        notifications.notify_patient(
            db, request, template="followup_patient_first_consultation",
            subject="Avez-vous rencontré votre nouveau médecin traitant ?",
            dedup_key=f"followup:patient_first_consultation:{proposal.id}", now=now,
            context={"doctor_name": proposal.doctor.display_name,
                     **answer_urls(settings, follow_up.answer_token or "")},
        )
        count += 1
    return count


def ask_gp_mt_declared(db: Session, *, now: datetime, settings: Mapping[str, Any]) -> int:
    """D+30 after acceptance: "médecin traitant declared?" to the GP."""
    count = 0
    for proposal, due in _accepted_due(db, "gp_mt_declared", Proposal.mt_declared_dt, "gp_follow_up_days", now):
        request = proposal.request
        follow_up = _ask(db, request, "gp_mt_declared", due=due, now=now, proposal=proposal)
        doctor = proposal.doctor
        if doctor.email:
            notifications.enqueue(
                db, template="followup_gp_mt_declared",
                subject="Suivi CPTS : déclaration de médecin traitant",
                dedup_key=f"followup:gp_mt_declared:{proposal.id}", now=now, email=doctor.email,
                user_id=doctor.user.id if doctor.user else None, territory_id=request.territory_id,
                context={**_gp_context(proposal, now, settings),
                         "accepted_on": date_fr(proposal.answered_dt),
                         **answer_urls(settings, follow_up.answer_token or "")},
            )
        count += 1
    return count


def ask_after_snp_visit(db: Session, *, now: datetime, settings: Mapping[str, Any]) -> int:
    """The day after an SNP appointment: "were you seen?" to the patient."""
    count = 0
    query = (
        select(Slot, PatientRequest).join(PatientRequest, Slot.request_id == PatientRequest.id)
        .where(Slot.status == "booked", Slot.end_dt <= now - timedelta(days=1),
               PatientRequest.status == "booked",
               ~_has_follow_up("snp_after_visit", proposal=False))
        .order_by(Slot.id)
    )
    for slot, request in db.execute(query).all():
        follow_up = _ask(db, request, "snp_after_visit", due=slot.end_dt + timedelta(days=1), now=now)
        notifications.notify_patient(
            db, request, template="followup_snp_after_visit",
            subject="Votre rendez-vous de soins non programmés s'est-il bien passé ?",
            dedup_key=f"followup:snp_after_visit:{request.id}", now=now,
            context={"doctor_name": slot.doctor.display_name, "date": date_fr(slot.start_dt),
                     **answer_urls(settings, follow_up.answer_token or "")},
        )
        count += 1
    return count


def ask_still_waiting(db: Session, *, now: datetime, settings: Mapping[str, Any]) -> int:
    """Every N days of waiting (waiting_confirmation_days), ask the patient to confirm.

    The N days count from the wait's start, then from the patient's last answer.

    A list that never moves loses everyone's trust: patients who found a GP elsewhere
    say so, and those who never answer are expired (expire_unanswered).
    """
    other = aliased(FollowUp)
    last_asked = (
        select(func.max(func.coalesce(other.done_dt, other.created_dt)))
        .where(other.request_id == PatientRequest.id, other.kind == "patient_still_waiting")
        .correlate(PatientRequest).scalar_subquery()
    )
    open_exists = exists().where(FollowUp.request_id == PatientRequest.id,
                                 FollowUp.kind == "patient_still_waiting", FollowUp.done_dt.is_(None))
    query = (
        select(PatientRequest, last_asked)
        .where(PatientRequest.kind == "mt", PatientRequest.status == "waiting", ~open_exists)
        .order_by(PatientRequest.id)
    )
    count = 0
    for request, asked in db.execute(query).all():
        # a scalar subquery bypasses the UTC column type: SQLite returns it naive
        since = as_utc(asked) if asked is not None else request.waiting_since_dt
        due = since + timedelta(days=delay(request.territory, "waiting_confirmation_days"))
        if due > now:
            continue
        follow_up = _ask(db, request, "patient_still_waiting", due=due, now=now)
        expiry = now + timedelta(days=delay(request.territory, "patient_answer_expiry_days"))
        notifications.notify_patient(
            db, request, template="followup_patient_still_waiting",
            subject="Recherchez-vous toujours un médecin traitant ?",
            dedup_key=f"followup:patient_still_waiting:{request.id}:{follow_up.id}", now=now,
            context={"answer_before": date_fr(expiry),
                     **answer_urls(settings, follow_up.answer_token or "")},
        )
        count += 1
    return count


def expire_unanswered(db: Session, *, now: datetime) -> int:
    """Requests whose patient never answered the confirmation expire, with a last message."""
    query = (
        select(FollowUp)
        .where(FollowUp.kind == "patient_still_waiting", FollowUp.done_dt.is_(None))
        .order_by(FollowUp.id)
    )
    count = 0
    for follow_up in db.scalars(query).all():
        request = follow_up.request
        limit = follow_up.created_dt + timedelta(days=delay(request.territory, "patient_answer_expiry_days"))
        if limit > now:
            continue
        follow_up.done_dt = now
        follow_up.answer = "no_answer"
        if request.status != "waiting":
            continue  # the request moved on (proposed, closed): nothing to expire
        change_request_status(db, request, "expired", now=now, actor="system", reason="no_answer")
        notifications.notify_patient(
            db, request, template="request_expired_no_answer",
            subject="Votre demande de médecin traitant est close",
            dedup_key=f"request:{request.id}:expired_no_answer", now=now, context={},
        )
        count += 1
    db.flush()
    return count


def run_follow_ups(db: Session, *, now: datetime, settings: Mapping[str, Any]) -> dict[str, int]:
    """Everything the daily follow-up job does, in order; returns counts."""
    return {
        "expired_proposals": expire_proposals(db, now=now),
        "gp_reminders": remind_gps(db, now=now, settings=settings),
        "first_consultation_questions": ask_first_consultation(db, now=now, settings=settings),
        "mt_declared_questions": ask_gp_mt_declared(db, now=now, settings=settings),
        "snp_questions": ask_after_snp_visit(db, now=now, settings=settings),
        "still_waiting_questions": ask_still_waiting(db, now=now, settings=settings),
        "expired_requests": expire_unanswered(db, now=now),
    }


# --- answers -------------------------------------------------------------------------


def find_answerable(db: Session, token: str) -> FollowUp:
    """The open follow-up behind an answer link. Raises AnswerError."""
    follow_up = db.scalar(select(FollowUp).where(FollowUp.answer_token == token)) if token else None
    if follow_up is None or follow_up.kind not in QUESTIONS:
        raise AnswerError("Ce lien de réponse n'est pas valide. Vérifiez qu'il est complet.")
    if follow_up.done_dt is not None:
        raise AnswerError("Votre réponse a déjà été enregistrée. Merci !")
    if is_final_request_status(follow_up.request.status):
        raise AnswerError("Cette demande est close : il n'est plus nécessaire de répondre. "
                          "Pour une nouvelle demande, contactez la CPTS.")
    return follow_up


def record_answer(db: Session, token: str, answer: str, *, now: datetime) -> FollowUp:
    """Record a yes/no answer and apply it. Raises AnswerError.

    first consultation yes → proposals.record_follow_up; médecin traitant declared yes →
    idem; SNP visit yes → completed, no → no-show; still waiting no → withdrawn.
    """
    if answer not in ("oui", "non"):
        raise AnswerError("Réponse inconnue : choisissez oui ou non.")
    follow_up = find_answerable(db, token)
    follow_up.answer = "yes" if answer == "oui" else "no"
    follow_up.done_dt = now
    request = follow_up.request
    yes = answer == "oui"
    proposal = db.get(Proposal, follow_up.proposal_id) if follow_up.proposal_id else None
    if follow_up.kind == "patient_first_consultation" and yes and proposal and proposal.status == "accepted":
        proposals.record_follow_up(db, proposal, now=now, first_consultation=True)
    elif follow_up.kind == "gp_mt_declared" and yes and proposal and proposal.status == "accepted":
        proposals.record_follow_up(db, proposal, now=now, mt_declared=True)
    elif follow_up.kind == "snp_after_visit" and request.status == "booked":
        change_request_status(db, request, "completed" if yes else "no_show", now=now,
                              actor="patient", reason="patient_answer")
    elif follow_up.kind == "patient_still_waiting" and not yes:
        for active in [p for p in request.proposals if p.status in ("proposed", "approved", "sent")]:
            proposals.cancel(db, active, now=now, reason="Le patient n'a plus besoin de médecin traitant.")
        if request.status in ("waiting", "proposed", "submitted"):
            change_request_status(db, request, "withdrawn", now=now, actor="patient",
                                  reason="no_longer_needed")
    db.flush()
    return follow_up


# --- monthly capacity reminders and SNP housekeeping ------------------------------------


def capacity_reminders(db: Session, *, now: datetime, settings: Mapping[str, Any]) -> dict[str, int]:
    """Once a month, remind GPs whose declaration is older than N days (or missing)."""
    month = paris_today(now).strftime("%Y-%m")
    current = aliased(CapacityDeclaration)
    query = (
        select(Doctor, current)
        .outerjoin(current, and_(current.doctor_id == Doctor.id, current.superseded_dt.is_(None)))
        .where(Doctor.is_active, Doctor.email.is_not(None))
        .order_by(Doctor.id)
    )
    sent = 0
    for doctor, declaration in db.execute(query).all():
        days = delay(doctor.territory, "capacity_reminder_days")
        if declaration is not None and declaration.declared_dt > now - timedelta(days=days):
            continue
        key = f"capacity_reminder:{doctor.id}:{month}"
        if db.scalar(select(Notification.id).where(Notification.dedup_key == key)) is not None:
            continue
        notifications.enqueue(
            db, template="capacity_reminder",
            subject="Vos disponibilités pour de nouveaux patients sont-elles à jour ?",
            dedup_key=key, now=now, email=doctor.email,
            user_id=doctor.user.id if doctor.user else None, territory_id=doctor.territory_id,
            context={
                "doctor_name": doctor.display_name, "territory_name": doctor.territory.name,
                "declared_on": date_fr(declaration.declared_dt) if declaration else "",
                "new_patients": declaration.new_patients if declaration else None,
                "has_account": doctor.user is not None,
                "portal_url": str(settings.get("BASE_URL", "")).rstrip("/") + "/medecin",
            },
        )
        sent += 1
    return {"capacity_reminders": sent}


def snp_housekeeping(db: Session, *, now: datetime) -> dict[str, int]:
    """Release past free slots; close booked SNP requests some days after the appointment.

    No-shows are recorded when the patient answers "non" to the day-after question
    (record_answer); a request left without answer is closed as completed.
    """
    released = db.execute(
        update(Slot).where(Slot.status == "free", Slot.start_dt <= now)
        .values(status="released").execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    closed = 0
    query = (
        select(Slot, PatientRequest).join(PatientRequest, Slot.request_id == PatientRequest.id)
        .where(Slot.status == "booked", PatientRequest.status == "booked", Slot.end_dt <= now)
        .order_by(Slot.id)
    )
    for slot, request in db.execute(query).all():
        if slot.end_dt + timedelta(days=delay(request.territory, "snp_close_days")) > now:
            continue
        change_request_status(db, request, "completed", now=now, actor="system",
                              reason="closed_after_visit")
        for follow_up in db.scalars(select(FollowUp).where(
                FollowUp.request_id == request.id, FollowUp.done_dt.is_(None))):
            follow_up.done_dt = now
            follow_up.answer = "no_answer"
        closed += 1
    no_shows = db.scalar(
        select(func.count()).select_from(FollowUp)
        .where(FollowUp.kind == "snp_after_visit", FollowUp.answer == "no",
               FollowUp.done_dt > now - timedelta(days=1))
    ) or 0
    db.flush()
    return {"released_slots": int(released or 0), "closed_requests": closed,
            "no_shows_last_day": int(no_shows)}
