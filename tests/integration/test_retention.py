"""Retention: anonymise patients whose requests all closed long ago; purge the old audit log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from guichet.accounts import audit
from guichet.jobs.runner import run_job
from guichet.messaging import notifications
from guichet.models import AuditEvent, FollowUp, Notification, RequestEvent
from guichet.requests import retention
from guichet.workflow import change_request_status

SETTINGS = {"RETENTION_MONTHS": 24, "AUDIT_RETENTION_MONTHS": 12}


def closed_request(db, factory, now, closed_at, **patient_fields):
    patient = factory.patient(created_dt=closed_at - timedelta(days=30), **patient_fields)
    request = factory.request(patient)
    change_request_status(db, request, "cancelled", now=closed_at, actor="staff", reason="found_elsewhere",
                          note="Appelée : a trouvé le Dr Martin")
    notifications.enqueue(db, template="request_expired_no_answer", subject="Close", dedup_key=f"r:{request.id}",
                          now=closed_at, email=patient.email, request_id=request.id,
                          context={"first_names": patient.first_names, "reference": request.reference,
                                   "territory_name": "CPTS"})
    db.add(FollowUp(request_id=request.id, kind="patient_still_waiting", due_dt=closed_at,
                    answer_token="jeton-" + str(request.id), created_dt=closed_at))
    db.flush()
    return patient, request


def test_months_before_clamps_to_the_end_of_the_month():
    assert retention.months_before(datetime(2026, 3, 31, tzinfo=UTC), 1) == datetime(2026, 2, 28, tzinfo=UTC)
    assert retention.months_before(datetime(2026, 11, 24, tzinfo=UTC), 24) == datetime(2024, 11, 24, tzinfo=UTC)


def test_a_request_closed_more_than_24_months_ago_is_anonymised_statistics_kept(db, factory, now):
    patient, request = closed_request(db, factory, now, now - timedelta(days=740), is_ald=True,
                                      proxy_name="Jean Aidant", proxy_email="aidant@exemple.fr")
    token = request.tracking_token
    result = retention.apply_retention(db, now=now)
    assert result["anonymised_patients"] == 1
    db.refresh(patient)
    assert patient.birth_name == "ANONYME" and patient.first_names == "ANONYME"
    assert patient.phone is None and patient.email is None and patient.address is None
    assert patient.proxy_name is None and patient.proxy_email is None
    assert patient.birth_date.year == 1950 and (patient.birth_date.month, patient.birth_date.day) == (1, 1)
    assert patient.is_ald and patient.commune_insee == "26223" and patient.anonymised_dt == now
    assert request.status == "cancelled" and request.tracking_token != token
    assert db.scalars(select(RequestEvent.text).where(RequestEvent.request_id == request.id)).all() == [None, None]
    assert db.scalar(select(Notification).where(Notification.request_id == request.id)) is None
    assert db.scalar(select(FollowUp.answer_token).where(FollowUp.request_id == request.id)) is None
    # twice: nothing more to do
    assert retention.apply_retention(db, now=now)["anonymised_patients"] == 0


def test_recent_or_open_requests_keep_the_patient_identity(db, factory, now):
    recent, _ = closed_request(db, factory, now, now - timedelta(days=600))
    mixed, _ = closed_request(db, factory, now, now - timedelta(days=800))
    factory.request(mixed)  # still open
    assert retention.apply_retention(db, now=now)["anonymised_patients"] == 0
    assert recent.birth_name.startswith("Dupont") and mixed.birth_name.startswith("Dupont")


def test_audit_events_older_than_twelve_months_are_deleted(db, now):
    old = audit.record(db, "request.view", now=now - timedelta(days=370), object_type="patient_request", object_id=1)
    kept = audit.record(db, "request.view", now=now - timedelta(days=300), object_type="patient_request", object_id=1)
    db.flush()
    old_id, kept_id = old.id, kept.id
    assert retention.apply_retention(db, now=now)["deleted_audit_events"] >= 1
    db.expire_all()
    assert db.get(AuditEvent, old_id) is None and db.get(AuditEvent, kept_id) is not None


def test_the_retention_job_moved_two_years_on_anonymises_once(sessions, db, factory, now):
    patient, _ = closed_request(db, factory, now, now)
    db.commit()
    assert run_job("retention", sessions, now + timedelta(days=700), settings=SETTINGS).summary["anonymised_patients"] == 0
    later = now + timedelta(days=735)
    assert run_job("retention", sessions, later, settings=SETTINGS).summary["anonymised_patients"] == 1
    assert run_job("retention", sessions, later, settings=SETTINGS).summary["anonymised_patients"] == 0
    db.refresh(patient)
    assert patient.birth_name == "ANONYME"
