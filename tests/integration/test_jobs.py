"""Scheduler registry, job runner (JobRun, advisory lock) and the `jobs` CLI commands."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import select

from guichet.db import make_engine, make_sessionmaker
from guichet.jobs import registry, runner
from guichet.jobs.registry import JOBS, JobSpec
from guichet.models import JobRun, Notification, Territory
from guichet.settings import SettingsError, load_settings

SETTINGS = {"BASE_URL": "https://guichet.test", "RETENTION_MONTHS": 24, "AUDIT_RETENTION_MONTHS": 12,
            "MAIL_MAX_ATTEMPTS": 3, "JOBS": {}}

# -- jobs used to test the runner itself ----------------------------------------------

started = threading.Event()
release = threading.Event()


def job_ok(db, *, now, settings):
    db.add(Territory(name="Créée par la tâche", slug="creee-par-la-tache", created_dt=now))
    return {"created": 1}


def job_fails(db, *, now, settings):
    db.add(Territory(name="Jamais enregistrée", slug="jamais-enregistree", created_dt=now))
    db.flush()
    raise RuntimeError("Mme Dupont, 06 12 34 56 78")  # a message that must not be recorded


def job_blocks(db, *, now, settings):
    started.set()
    assert release.wait(30)
    return {"ran": 1}


TEST_JOBS = {
    "ok": JobSpec("ok", "Test", "tests.integration.test_jobs:job_ok", "02:00"),
    "fails": JobSpec("fails", "Test", "tests.integration.test_jobs:job_fails", "02:00"),
    "blocks": JobSpec("blocks", "Test", "tests.integration.test_jobs:job_blocks", "02:00"),
}


# -- registry ----------------------------------------------------------------------------


def test_every_job_is_registered_with_coalesce_one_instance_and_a_grace_of_minutes(sessions, clock):
    settings = load_settings({"DATABASE_URL": "sqlite://"})
    scheduler = registry.build_scheduler(settings, sessions, clock)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == set(JOBS) == {"nightly_matching", "publication", "follow_ups", "capacity_reminders",
                                      "snp_housekeeping", "snp_reminders", "retention", "delivery"}
    for job in jobs.values():
        assert job.coalesce is True
        assert job.max_instances == 1
        assert 60 <= job.misfire_grace_time <= 3600
        assert isinstance(job.trigger, CronTrigger)
        assert str(job.trigger.timezone) == "Europe/Paris"
    assert not scheduler.running  # built, never started: only `jobs run` starts it


def test_triggers_read_the_jobs_section_in_paris_time():
    trigger = registry.make_trigger("02:30")
    from datetime import UTC, datetime

    # 24 November: Paris is UTC+1, so 02:30 in Paris is 01:30 UTC
    fire = trigger.get_next_fire_time(None, datetime(2026, 11, 24, 0, 0, tzinfo=UTC))
    assert fire.astimezone(UTC) == datetime(2026, 11, 24, 1, 30, tzinfo=UTC)
    monthly = registry.make_trigger("day=1 09:00").get_next_fire_time(None, datetime(2026, 11, 24, tzinfo=UTC))
    assert (monthly.month, monthly.day, monthly.hour) == (12, 1, 9)
    assert registry.describe_trigger("*/30") == "toutes les 30 minutes"
    with pytest.raises(SettingsError, match="Horaire de tâche invalide"):
        registry.make_trigger("vers 2h")


def test_create_app_does_not_start_a_scheduler(app):
    import apscheduler.schedulers.base as base

    assert not any(isinstance(v, base.BaseScheduler) for v in app.extensions.values())


# -- runner --------------------------------------------------------------------------------


def test_a_successful_run_records_its_counts_and_commits_its_work(sessions, db, now):
    result = runner.run_job("ok", sessions, now, settings=SETTINGS, jobs=TEST_JOBS)
    assert result.outcome == "success" and result.summary == {"created": 1}
    run = db.get(JobRun, result.run_id)
    assert (run.outcome, run.summary, run.error) == ("success", {"created": 1}, None)
    assert run.started_dt == now and run.finished_dt >= now
    assert db.scalar(select(Territory).where(Territory.slug == "creee-par-la-tache")) is not None


def test_a_failing_run_is_recorded_without_personal_data_and_its_work_rolled_back(sessions, db, now):
    result = runner.run_job("fails", sessions, now, settings=SETTINGS, jobs=TEST_JOBS)
    assert result.outcome == "failure"
    run = db.get(JobRun, result.run_id)
    assert run.outcome == "failure" and run.finished_dt is not None
    assert "RuntimeError" in run.error and "test_jobs.py" in run.error
    assert "Dupont" not in run.error and "06 12" not in run.error
    assert db.scalar(select(Territory).where(Territory.slug == "jamais-enregistree")) is None


def test_an_unknown_job_is_refused(sessions, now):
    with pytest.raises(runner.UnknownJob, match="Tâche inconnue"):
        runner.run_job("nope", sessions, now, settings=SETTINGS)


def test_every_registered_job_runs_on_an_empty_territory_and_twice_changes_nothing(sessions, db, factory, now):
    factory.territory()
    for job_id in JOBS:
        if job_id == "delivery":
            continue  # needs an SMTP server: see test_delivery.py
        first = runner.run_job(job_id, sessions, now, settings=SETTINGS)
        assert first.outcome == "success", (job_id, first.error)
    count = db.scalar(select(Notification.id).order_by(Notification.id.desc()).limit(1))
    for job_id in JOBS:
        if job_id != "delivery":
            assert runner.run_job(job_id, sessions, now, settings=SETTINGS).outcome == "success"
    assert db.scalar(select(Notification.id).order_by(Notification.id.desc()).limit(1)) == count


# -- CLI -------------------------------------------------------------------------------------


def test_jobs_list_shows_each_job_its_paris_trigger_and_last_run(runner, sessions, now):
    from guichet.jobs.runner import run_job

    run_job("retention", sessions, now, settings=SETTINGS)
    result = runner.invoke(args=["jobs", "list"])
    assert result.exit_code == 0, result.output
    for job_id in JOBS:
        assert job_id in result.output
    assert "Europe/Paris" in result.output
    assert "tous les jours à 03 h 30" in result.output  # retention
    assert "toutes les 15 minutes" in result.output  # per-territory daily jobs look every 15 min
    assert "24/11/2026 10:00 — réussie" in result.output  # retention's run, shown in Paris time
    assert "jamais exécutée" in result.output


def test_jobs_run_once_runs_a_job_and_records_it(runner, db):
    result = runner.invoke(args=["jobs", "run-once", "snp_housekeeping"])
    assert result.exit_code == 0, result.output
    assert "snp_housekeeping : réussie" in result.output
    assert db.scalar(select(JobRun).where(JobRun.job_id == "snp_housekeeping")) is not None
    unknown = runner.invoke(args=["jobs", "run-once", "inconnue"])
    assert unknown.exit_code == 2 and "Tâche inconnue" in unknown.output


# -- two scheduler processes on PostgreSQL ------------------------------------------------


@pytest.fixture
def committed_sessions(clone_database, is_postgres):
    """A real database where commits are visible to other connections (PostgreSQL only)."""
    if not is_postgres:
        pytest.skip("advisory locks exist on PostgreSQL only; SQLite runs a single scheduler")
    engine = make_engine(clone_database("jobs_lock"))
    yield make_sessionmaker(engine)
    engine.dispose()


def test_a_second_scheduler_skips_a_job_the_first_is_running(committed_sessions, now):
    started.clear()
    release.clear()
    results = {}
    first = threading.Thread(target=lambda: results.setdefault(
        "first", runner.run_job("blocks", committed_sessions, now, settings=SETTINGS, jobs=TEST_JOBS)))
    first.start()
    assert started.wait(30)
    second = runner.run_job("blocks", committed_sessions, now, settings=SETTINGS, jobs=TEST_JOBS)
    release.set()
    first.join(30)
    assert second.outcome == "skipped"
    assert results["first"].outcome == "success"
    with committed_sessions() as db:
        outcomes = sorted(db.scalars(select(JobRun.outcome).where(JobRun.job_id == "blocks")))
    assert outcomes == ["skipped", "success"]
    # the lock is released at the end: the next run goes ahead
    started.clear()
    release.set()
    assert runner.run_job("blocks", committed_sessions, now + timedelta(minutes=1), settings=SETTINGS,
                          jobs=TEST_JOBS).outcome == "success"


def test_two_scheduler_processes_publishing_at_once_send_each_digest_once(committed_sessions, now):
    from guichet.accounts import users
    from guichet.territories import geo

    with committed_sessions.begin() as db:
        territory = geo.create_territory(db, "CPTS Verrou", ("26059", "26117"), now=now)
        users.create_user(db, email="coord@exemple.fr", full_name="Coord", role="staff", now=now,
                             password="Correct-Horse-42!", territory_id=territory.id)
    barrier = threading.Barrier(2)
    outcomes = []

    def scheduler_process():
        barrier.wait(10)
        outcomes.append(runner.run_job("publication", committed_sessions, now, settings=SETTINGS).outcome)

    threads = [threading.Thread(target=scheduler_process) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert "success" in outcomes and len(outcomes) == 2
    with committed_sessions() as db:
        digests = db.scalars(select(Notification).where(Notification.template == "digest_staff")).all()
    assert len(digests) == 1
