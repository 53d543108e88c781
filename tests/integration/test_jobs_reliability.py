"""Jobs across crashes: interrupted runs closed, old runs purged, a lost database is one French line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from guichet.jobs import runner
from guichet.models import JobRun
from tests.integration.test_jobs import SETTINGS, TEST_JOBS

ROOT = Path(__file__).resolve().parents[2]


def test_a_run_left_running_by_a_dead_process_is_closed_when_the_job_next_starts(sessions, db, now):
    db.add(JobRun(job_id="ok", started_dt=now - timedelta(hours=1), outcome="running", summary={}))
    db.commit()
    result = runner.run_job("ok", sessions, now, settings=SETTINGS, jobs=TEST_JOBS)
    runs = db.scalars(select(JobRun).where(JobRun.job_id == "ok").order_by(JobRun.id)).all()
    assert [r.outcome for r in runs] == ["failure", "success"]
    assert runs[0].error == runner.INTERRUPTED and runs[0].finished_dt == now
    assert runs[1].id == result.run_id


def test_old_runs_are_purged_but_each_jobs_latest_is_kept(db, now):
    old = now - timedelta(days=200)
    for job_id in ("ok", "ok", "rare"):
        db.add(JobRun(job_id=job_id, started_dt=old, finished_dt=old, outcome="success", summary={}))
    db.add(JobRun(job_id="ok", started_dt=now, finished_dt=now, outcome="success", summary={}))
    db.flush()
    assert runner.purge_runs(db, now=now, days=90) == 2
    left = sorted((r.job_id, r.started_dt == now) for r in db.scalars(select(JobRun)))
    assert left == [("ok", True), ("rare", False)]


def _flask(database_url: str, *args: str, **popen: object) -> subprocess.Popen[str]:
    # waits below take no timeout (subprocess would poll with time.sleep, which libfaketime
    # breaks in CI's shifted-date runs): pytest-timeout stops a command that hangs
    env = {**os.environ, "DATABASE_URL": database_url, "GUICHET_SMTP_PORT": "1", "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)  # type: ignore[call-overload]


@pytest.mark.slow
def test_run_once_on_an_unreachable_database_ends_with_one_french_line(tmp_path):
    url = "postgresql://postgres@127.0.0.1:1/nowhere"
    out, err = _flask(url, "jobs", "run-once", "snp_housekeeping").communicate()
    assert "La base de données est injoignable" in err, err
    assert "Traceback" not in err + out


@pytest.mark.slow
def test_the_scheduler_stops_cleanly_on_sigterm(clone_database):
    process = _flask(clone_database("sigterm"), "jobs", "run")
    assert process.stdout is not None
    started = process.stdout.readline()  # the scheduler says it runs: now stop it as systemd would
    assert "Planificateur démarré" in started, started
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate()
    assert process.returncode == 0, err
    assert "Planificateur arrêté." in out and "Traceback" not in err
