"""Unscheduled-care slots: booking that can never happen twice, and cancellation.

`book` is a conditional UPDATE (… WHERE status = 'free'): of two coordinators booking the
same slot at once, exactly one succeeds; the unique slots.request_id also keeps a
request from holding two slots.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from guichet.doctors import appointments
from guichet.messaging import notifications
from guichet.models import PatientRequest, Slot, User
from guichet.timeutil import as_utc
from guichet.workflow import change_request_status


class SlotUnavailable(ValueError):
    """The slot is already booked, cancelled or past."""


def book(db: Session, slot_id: int, request: PatientRequest, *, now: datetime,
         user_id: int | None = None, base_url: str | None = None) -> Slot:
    """Book a free future slot for an SNP request and tell the patient (raises SlotUnavailable).

    The patient gets an e-mail, or a letter when the appointment is far enough for one to
    arrive; otherwise they are on the coordinators' call list (guichet.doctors.appointments).
    """
    result = db.execute(
        update(Slot)
        .where(Slot.id == slot_id, Slot.status == "free", Slot.start_dt > now)
        .values(status="booked", request_id=request.id, booked_dt=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise SlotUnavailable("Ce créneau vient d'être réservé ou n'est plus disponible : choisissez-en un autre.")
    slot = db.get(Slot, slot_id)
    assert slot is not None
    db.refresh(slot)
    change_request_status(db, request, "booked", now=now, actor="staff" if user_id else "system",
                          user_id=user_id)
    if notifications.patient_email(request.patient) is not None or not appointments.too_soon_for_a_letter(slot, now):
        notifications.notify_patient(
            db, request, template="snp_booked", subject="Votre rendez-vous de soins non programmés",
            dedup_key=f"slot:{slot.id}:booked:{request.id}", now=now,
            context=appointments.appointment_context(slot, base_url=base_url),
        )
    db.flush()
    return slot


def _alert_staff(db: Session, request: PatientRequest, slot: Slot, *, now: datetime, template: str,
                 subject: str, event: str) -> None:
    """Tell every coordinator of the territory at once (a same-day appointment cannot wait for a digest)."""
    for staff in db.scalars(select(User).where(User.territory_id == request.territory_id,
                                               User.role.in_(("staff", "admin")), User.is_active)):
        notifications.enqueue(
            db, template=template, subject=subject,
            dedup_key=f"slot:{slot.id}:{event}:{request.id}:{staff.id}", now=now, email=staff.email,
            user_id=staff.id, territory_id=request.territory_id,
            context={"reference": request.reference, "doctor_name": slot.doctor.display_name,
                     "start": as_utc(slot.start_dt).isoformat(), "reason": slot.cancel_reason},
        )


def cancel(db: Session, slot: Slot, *, now: datetime, reason: str | None = None,
           user_id: int | None = None) -> PatientRequest | None:
    """Cancel a slot; return the request that lost it, if any.

    A booked slot needs a reason; its request returns to the board and the coordinators
    are alerted at once.
    """
    if slot.status in ("cancelled", "released"):
        raise SlotUnavailable("Ce créneau est déjà annulé.")
    request = None
    if slot.status in ("booked", "held"):
        if not reason or not reason.strip():
            raise SlotUnavailable("Indiquez pourquoi vous annulez un créneau déjà réservé.")
        request = db.get(PatientRequest, slot.request_id)
    slot.status = "cancelled"
    slot.cancel_reason = (reason or "").strip() or None
    slot.request_id = None
    db.flush()
    if request is not None:
        if request.status == "booked":
            change_request_status(db, request, "waiting", now=now, actor="doctor", user_id=user_id,
                                  reason="slot_cancelled")
        _alert_staff(db, request, slot, now=now, template="slot_cancelled_alert",
                     subject="Urgent : un rendez-vous SNP a été annulé", event="cancelled")
    db.flush()
    return request


def release_for_request(db: Session, request: PatientRequest, *, now: datetime) -> Slot | None:
    """Free the slot a request holds (the patient cancels) and tell the GP.

    A future slot becomes free again for someone else; a past one is left as it is.
    Returns the freed slot, or None when the request held none.
    """
    slot = db.scalar(select(Slot).where(Slot.request_id == request.id))
    if slot is None:
        return None
    if as_utc(slot.start_dt) <= now:
        return None
    slot.status = "free"
    slot.request_id = None
    slot.booked_dt = None
    db.flush()
    doctor = slot.doctor
    if doctor.email:
        notifications.enqueue(
            db, template="snp_cancelled_by_patient", subject="Un rendez-vous de soins non programmés est libéré",
            dedup_key=f"slot:{slot.id}:released:{request.id}", now=now, email=doctor.email,
            user_id=doctor.user.id if doctor.user else None, territory_id=request.territory_id,
            context={"doctor_name": doctor.display_name, "reference": request.reference,
                     "start": as_utc(slot.start_dt).isoformat()},
        )
    _alert_staff(db, request, slot, now=now, template="snp_released_alert",
                 subject="Un patient a annulé son rendez-vous SNP", event="released")
    return slot
