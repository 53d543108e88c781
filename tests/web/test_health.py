"""/api/v1/health says when the scheduler stopped or the outbox ages (guichet/jobs/health.py)."""

from __future__ import annotations

from datetime import timedelta

from guichet.jobs import registry
from guichet.messaging import notifications
from guichet.models import JobRun


def every_job_ran(db, at):
    for job_id in registry.JOBS:
        db.add(JobRun(job_id=job_id, started_dt=at, finished_dt=at + timedelta(seconds=2), outcome="success",
                      summary={}))
    db.commit()


def test_a_stopped_scheduler_is_reported_within_two_periods(client, db, clock):
    every_job_ran(db, clock())
    assert client.get("/api/v1/health").status_code == 200
    clock.advance(timedelta(minutes=3))  # delivery runs every 2 minutes: one missed run is fine
    assert client.get("/api/v1/health").json["status"] == "ok"
    clock.advance(timedelta(minutes=2))  # more than twice its period
    response = client.get("/api/v1/health")
    assert response.status_code == 503
    assert response.json["status"] == "degraded" and response.json["scheduler"] == "late"
    assert response.json["late_jobs"] == ["delivery"]


def test_a_job_that_never_ran_is_late_once_the_scheduler_has_been_up_twice_its_period(client, db, clock):
    db.add(JobRun(job_id="delivery", started_dt=clock(), finished_dt=clock(), outcome="success", summary={}))
    db.commit()
    assert "follow_ups" not in client.get("/api/v1/health").json["late_jobs"]  # daily: not due yet
    clock.advance(timedelta(days=2, minutes=1))
    assert "follow_ups" in client.get("/api/v1/health").json["late_jobs"]


def test_an_aging_outbox_is_degraded_but_not_an_outage(client, db, clock):
    notifications.enqueue(db, template="request_expired_no_answer", subject="Sujet", dedup_key="health:1",
                          now=clock(), email="marie@exemple.fr",
                          context={"first_names": "Marie", "reference": "MT-2026-000001", "territory_name": "T"})
    clock.advance(timedelta(minutes=31))
    every_job_ran(db, clock())
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json["status"] == "degraded" and response.json["outbox"] == "late"
    assert response.json["outbox_due"] == 1
