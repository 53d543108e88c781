"""Constraints the database itself enforces."""

from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from guichet.messaging import notifications
from guichet.models import Notification, Proposal, Slot


def test_duplicate_rpps_is_refused_by_the_database(factory, db):
    doctor = factory.doctor()
    with pytest.raises(IntegrityError):
        factory.doctor(rpps=doctor.rpps)


def test_status_outside_the_workflow_is_refused(factory, db):
    request = factory.request()
    request.status = "lost"
    with pytest.raises(IntegrityError):
        db.flush()


def test_tracking_tokens_are_unique(factory, db):
    a = factory.request()
    b = factory.request()
    b.tracking_token = a.tracking_token
    with pytest.raises(IntegrityError):
        db.flush()


def test_negative_capacity_is_refused(factory, db):
    with pytest.raises(IntegrityError):
        factory.declaration(factory.doctor(), new_patients=-1)


def test_slot_must_end_after_it_starts(factory, db, now):
    doctor = factory.doctor()
    db.add(Slot(doctor=doctor, start_dt=now, end_dt=now - timedelta(minutes=5)))
    with pytest.raises(IntegrityError):
        db.flush()


def test_a_request_holds_one_slot_at_most(factory, db, now):
    doctor = factory.doctor()
    request = factory.request(kind="snp")
    factory.slot(doctor, status="booked", request_id=request.id)
    with pytest.raises(IntegrityError):
        factory.slot(doctor, start=now + timedelta(hours=5), status="booked", request_id=request.id)


def test_a_request_has_one_live_proposal_at_most(factory, db, now):
    doctor = factory.doctor()
    request = factory.request()
    db.add(Proposal(request=request, doctor=doctor, status="sent", created_dt=now))
    db.flush()
    db.add(Proposal(request=request, doctor=doctor, status="declined", created_dt=now))
    db.flush()  # closed proposals do not count
    db.add(Proposal(request=request, doctor=doctor, status="proposed", created_dt=now))
    with pytest.raises(IntegrityError):
        db.flush()


def test_notification_dedup_key_is_unique_and_enqueue_is_idempotent(factory, db, now):
    first = notifications.enqueue(db, template="password_reset", subject="s", dedup_key="k1", now=now,
                                  email="a@exemple.fr", context={"full_name": "A", "link": "x"})
    again = notifications.enqueue(db, template="password_reset", subject="s", dedup_key="k1", now=now,
                                  email="a@exemple.fr", context={"full_name": "A", "link": "x"})
    assert first is again
    db.add(Notification(channel="email", recipient_email="b@exemple.fr", template="t", subject="s",
                        dedup_key="k1"))
    with pytest.raises(IntegrityError):
        db.flush()


def test_timestamps_come_back_in_utc(factory, db, now):
    request = factory.request()
    db.expire_all()
    assert request.submitted_dt.tzinfo is not None
    assert request.submitted_dt == now - timedelta(days=10)


def test_sqlite_savepoint_release_does_not_commit_the_outer_transaction(tmp_path):
    # Production engines, not only the test harness, must keep savepoints nested.
    from sqlalchemy import text

    from guichet.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'sp.sqlite3'}")
    with engine.connect() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
        conn.commit()
        outer = conn.begin()
        inner = conn.begin_nested()
        conn.execute(text("INSERT INTO t VALUES (1)"))
        inner.commit()
        outer.rollback()
        assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 0
    engine.dispose()
