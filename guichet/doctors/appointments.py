"""Booked same-day (SNP) appointments: what the patient, the coordinators and the GP read about them.

A patient without e-mail learns of an appointment by letter only if the letter can arrive
in time: otherwise the coordinators call them, from the call list here, and record the call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from guichet.doctors.practice import practice_context
from guichet.messaging.notifications import notify_patient, patient_email
from guichet.models import Doctor, Patient, PatientRequest, RequestEvent, Slot
from guichet.requests.tracking import tracking_url
from guichet.timeutil import PARIS, as_utc, paris_today

#: a letter posted today may take this long to arrive: a sooner appointment is told by phone
LETTER_DELAY = timedelta(days=4)
#: reason of the contact event recorded when a coordinator has told the patient by phone
CALLED_REASON = "appointment_call"


def booked_slot(db: Session, request: PatientRequest) -> Slot | None:
    """The slot booked for this SNP request, if any."""
    return db.scalar(select(Slot).where(Slot.request_id == request.id, Slot.status == "booked"))


def appointment_context(slot: Slot, *, base_url: str | None = None) -> dict[str, Any]:
    """The appointment as a message says it: practice, start (ISO, shown in Paris time), link."""
    # the appointment is booked: the practice's own booking page would only confuse
    context: dict[str, Any] = {**practice_context(slot.doctor), "booking_url": "",
                               "start": as_utc(slot.start_dt).isoformat()}
    request = slot.request
    context["tracking_url"] = tracking_url(base_url, request.tracking_token) if base_url and request else ""
    return context


def too_soon_for_a_letter(slot: Slot, now: datetime) -> bool:
    return as_utc(slot.start_dt) < now + LETTER_DELAY


@dataclass(frozen=True)
class Appointment:
    """One booked slot with its patient, as the coordinators' list shows it."""

    slot: Slot
    request: PatientRequest
    #: no e-mail and too soon for a letter: a coordinator must call
    needs_call: bool
    #: a coordinator recorded that the patient was told by phone
    is_called: bool

    @property
    def patient(self) -> Patient:
        return self.request.patient


def _start_of_today(now: datetime) -> datetime:
    today = paris_today(now)
    return datetime(today.year, today.month, today.day, tzinfo=PARIS)


def booked_appointments(db: Session, *, now: datetime, territory_id: int | None = None,
                        doctor_id: int | None = None, commune_insee: str | None = None) -> list[Appointment]:
    """Booked appointments from the start of today (Paris) on, earliest first.

    Filtered by territory (the coordinators), GP (the GP's portal, or a filter) and the
    practice's commune.
    """
    query = (
        select(Slot).join(Doctor, Doctor.id == Slot.doctor_id)
        .where(Slot.status == "booked", Slot.start_dt >= _start_of_today(now))
        .options(selectinload(Slot.doctor).selectinload(Doctor.commune),
                 selectinload(Slot.request).selectinload(PatientRequest.patient))
        .order_by(Slot.start_dt, Slot.id)
    )
    if territory_id is not None:
        query = query.where(Doctor.territory_id == territory_id)
    if doctor_id is not None:
        query = query.where(Slot.doctor_id == doctor_id)
    if commune_insee:
        query = query.where(Doctor.commune_insee == commune_insee)
    slots = [s for s in db.scalars(query) if s.request is not None]
    called = set(db.scalars(
        select(RequestEvent.request_id).where(
            RequestEvent.request_id.in_([s.request_id for s in slots]), RequestEvent.kind == "contact",
            RequestEvent.reason == CALLED_REASON)
    )) if slots else set()
    return [
        Appointment(slot=s, request=s.request, is_called=s.request.id in called,
                    needs_call=patient_email(s.request.patient) is None and too_soon_for_a_letter(s, now))
        for s in slots if s.request is not None
    ]


def by_day(appointments: list[Appointment], now: datetime) -> dict[str, list[Appointment]]:
    """Today's, tomorrow's and later appointments (Paris days)."""
    today = paris_today(now)
    groups: dict[str, list[Appointment]] = {"today": [], "tomorrow": [], "upcoming": []}
    for appointment in appointments:
        day = (as_utc(appointment.slot.start_dt).astimezone(PARIS).date() - today).days
        groups["today" if day <= 0 else "tomorrow" if day == 1 else "upcoming"].append(appointment)
    return groups


def record_call(db: Session, request: PatientRequest, *, now: datetime, user_id: int | None) -> None:
    """A coordinator told the patient of their appointment by phone."""
    db.add(RequestEvent(request=request, at_dt=now, user_id=user_id, actor="staff", kind="contact",
                        reason=CALLED_REASON, contact_outcome="reached"))
    db.flush()


def send_reminders(db: Session, *, now: datetime, base_url: str | None = None) -> dict[str, int]:
    """E-mail, the day before, each patient with an appointment tomorrow (Paris) booked before today.

    Idempotent (one message per slot and request). Patients without e-mail get no letter,
    which would arrive too late: they are on the call list instead.
    """
    start = _start_of_today(now) + timedelta(days=1)
    booked_before = _start_of_today(now)
    slots = db.scalars(
        select(Slot).where(Slot.status == "booked", Slot.start_dt >= start, Slot.start_dt < start + timedelta(days=1),
                           Slot.booked_dt < booked_before)
        .options(selectinload(Slot.request).selectinload(PatientRequest.patient))
    )
    sent = 0
    for slot in slots:
        request = slot.request
        if request is None or request.status != "booked" or patient_email(request.patient) is None:
            continue
        notify_patient(db, request, template="snp_reminder", subject="Rappel : votre rendez-vous de demain",
                       dedup_key=f"slot:{slot.id}:reminder:{request.id}", now=now,
                       context=appointment_context(slot, base_url=base_url))
        sent += 1
    db.flush()
    return {"reminders": sent}
