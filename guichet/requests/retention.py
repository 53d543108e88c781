"""Retention (CNIL): anonymise requests closed too long ago; purge the old audit log.

A patient is anonymised only when ALL their requests are closed since more than
RETENTION_MONTHS (a patient with an open request keeps their identity). What stays is
what the statistics need: territory, commune and postal code, sex, year of birth
(stored as 1 January of that year), the priority flags, the requests' kinds, channels,
dates, statuses and scores. Names, contacts, address, proxy, free texts, notes,
children's birth dates, the messages and the answer links are erased.
"""

from __future__ import annotations

import calendar
import secrets
from datetime import date, datetime

from sqlalchemy import delete, exists, select, update
from sqlalchemy.orm import Session, aliased

from guichet.models import (
    AuditEvent,
    FollowUp,
    Notification,
    Patient,
    PatientRequest,
    RequestEvent,
)
from guichet.workflow import FINAL_REQUEST_STATUSES

ANONYMOUS = "ANONYME"


def months_before(now: datetime, months: int) -> datetime:
    """The same instant `months` calendar months earlier (day clamped to the month's end)."""
    index = now.year * 12 + now.month - 1 - months
    year, month0 = divmod(index, 12)
    day = min(now.day, calendar.monthrange(year, month0 + 1)[1])
    return now.replace(year=year, month=month0 + 1, day=day)


def patients_due(db: Session, cutoff: datetime) -> list[Patient]:
    """Patients not yet anonymised whose every request closed before the cutoff."""
    other = aliased(PatientRequest)
    recent_or_open = exists().where(
        other.patient_id == Patient.id,
        (other.closed_dt.is_(None)) | (other.closed_dt >= cutoff)
        | other.status.not_in(list(FINAL_REQUEST_STATUSES)),
    )
    return list(db.scalars(
        select(Patient)
        .where(Patient.anonymised_dt.is_(None), Patient.created_dt < cutoff, ~recent_or_open)
        .order_by(Patient.id)
    ))


def anonymise_patient(db: Session, patient: Patient, *, now: datetime) -> None:
    """Erase identity and contact of the patient and the personal content of their requests."""
    patient.birth_name = ANONYMOUS
    patient.first_names = ANONYMOUS
    patient.usage_name = None
    if patient.birth_date is not None:
        patient.birth_date = date(patient.birth_date.year, 1, 1)
    patient.phone = patient.email = patient.address = None
    patient.contact_preference = "letter"
    patient.filled_by = "self"
    patient.proxy_relation = patient.proxy_name = patient.proxy_profession = None
    patient.proxy_phone = patient.proxy_email = None
    patient.hospital_discharge_date = patient.previous_mt_left_date = None
    patient.anonymised_dt = now
    request_ids = [r.id for r in patient.requests]
    for request in patient.requests:
        request.children_birth_dates = []
        request.snp_reason = request.snp_since = None
        request.snp_availability = []
        request.import_key = None
        # the old private link must not open anything any more
        request.tracking_token = secrets.token_urlsafe(24)
    if request_ids:
        db.execute(update(RequestEvent).where(RequestEvent.request_id.in_(request_ids))
                   .values(text=None).execution_options(synchronize_session=False))
        db.execute(update(FollowUp).where(FollowUp.request_id.in_(request_ids))
                   .values(answer_token=None).execution_options(synchronize_session=False))
        # messages carry names and addresses in their context: nothing of them is needed
        db.execute(delete(Notification).where(Notification.request_id.in_(request_ids))
                   .execution_options(synchronize_session=False))
    db.flush()


def apply_retention(db: Session, *, now: datetime, retention_months: int = 24,
                    audit_months: int = 12) -> dict[str, int]:
    """Anonymise what is past retention and delete audit events past the log retention."""
    cutoff = months_before(now, retention_months)
    patients = patients_due(db, cutoff)
    for patient in patients:
        anonymise_patient(db, patient, now=now)
    purged = db.execute(
        delete(AuditEvent).where(AuditEvent.at_dt < months_before(now, audit_months))
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    db.flush()
    return {"anonymised_patients": len(patients), "deleted_audit_events": int(purged or 0)}
