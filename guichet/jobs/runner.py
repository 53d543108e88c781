"""Run one job: leader lock, JobRun record, one transaction for the job's work.

The JobRun rows are written in their own short transactions, so that a failing job
is recorded (outcome "failure", error without personal data) while its own work is
rolled back. On PostgreSQL the run takes an advisory lock on a dedicated connection:
a second scheduler process finds it taken and records "skipped" instead of running
the job again. SQLite has no such lock; there, run a single scheduler.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from guichet.jobs.registry import JOBS, JobSpec
from guichet.logs import safe_error
from guichet.models import JobRun

log = logging.getLogger("guichet.jobs")
#: the error recorded on a run its process never finished (killed, or the database went away)
INTERRUPTED = "interrupted: the process stopped before the end of the run"


@dataclass
class RunResult:
    """What a run did, for the CLI and the tests."""

    job_id: str
    outcome: str
    run_id: int
    summary: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


class UnknownJob(LookupError):
    """No job has this id."""

    def __init__(self, job_id: str) -> None:
        super().__init__(f"Tâche inconnue : « {job_id} ». Tâches : {', '.join(JOBS)}.")


def lock_key(job_id: str) -> int:
    """A stable signed 64-bit key for pg_try_advisory_lock, one per job."""
    digest = hashlib.sha256(f"guichet.job:{job_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _engine_of(sessions: sessionmaker[Session]) -> Engine:
    bind = sessions.kw.get("bind")
    if isinstance(bind, Connection):
        return bind.engine
    if isinstance(bind, Engine):
        return bind
    raise TypeError("the sessionmaker must be bound to an engine or a connection")


@contextmanager
def advisory_lock(sessions: sessionmaker[Session], job_id: str) -> Iterator[bool]:
    """Yield True when this process may run the job (always on SQLite).

    On PostgreSQL: a session-level advisory lock on a connection of its own, held for
    the whole run and released at the end (or by the server if the process dies).
    """
    engine = _engine_of(sessions)
    if engine.dialect.name != "postgresql":
        yield True
        return
    key = lock_key(job_id)
    conn = engine.connect()
    try:
        acquired = bool(conn.execute(select(func.pg_try_advisory_lock(key))).scalar())
        conn.commit()  # do not sit "idle in transaction" while the job runs
        try:
            yield acquired
        finally:
            if acquired:
                _unlock(conn, key)
    finally:
        conn.close()


def _unlock(conn: Connection, key: int) -> None:
    try:
        conn.execute(select(func.pg_advisory_unlock(key)))
        conn.commit()
    except SQLAlchemyError:
        # the connection died (database restart): the server already dropped its locks
        conn.invalidate()


def _record(sessions: sessionmaker[Session], run: JobRun) -> int:
    with sessions.begin() as db:
        merged = db.merge(run)
        db.flush()
        return merged.id


def run_job(
    job_id: str,
    sessions: sessionmaker[Session],
    now: datetime,
    *,
    settings: Mapping[str, Any] | None = None,
    jobs: Mapping[str, JobSpec] | None = None,
) -> RunResult:
    """Run the job once now and record a JobRun; return what happened.

    Raises UnknownJob for an unknown id. A failure inside the job is recorded, not raised.
    `now` is the job's clock (tests move it); `jobs` replaces the registry in tests.
    """
    registry = JOBS if jobs is None else jobs
    if job_id not in registry:
        raise UnknownJob(job_id)
    spec = registry[job_id]
    if settings is None:
        from guichet.settings import load_settings

        settings = load_settings()
    start = now
    with advisory_lock(sessions, job_id) as acquired:
        if not acquired:
            run_id = _record(sessions, JobRun(job_id=job_id, started_dt=start, finished_dt=start,
                                              outcome="skipped", summary={}))
            log.info("job skipped: another process holds its lock", extra={"job_id": job_id, "outcome": "skipped"})
            return RunResult(job_id, "skipped", run_id)
        close_interrupted_runs(sessions, job_id, now=start)
        run = JobRun(job_id=job_id, started_dt=start, outcome="running", summary={})
        run.id = _record(sessions, run)
        clock = time.monotonic()
        outcome, summary, error = "success", {}, None
        try:
            function = spec.function()
            if spec.mode == "sessionmaker":
                summary = function(sessions, now=start, settings=settings)
            else:
                with sessions.begin() as db:
                    summary = function(db, now=start, settings=settings)
        except Exception as exc:  # recorded for the coordinators, then the next job goes on
            outcome, error = "failure", safe_error(exc)
            log.error("job failed", extra={"job_id": job_id, "outcome": "failure", "error": error})
        run.outcome = outcome
        run.summary = {k: v for k, v in (summary or {}).items()}
        run.error = error
        run.finished_dt = start + timedelta(seconds=time.monotonic() - clock)
        _record(sessions, run)
        return RunResult(job_id, outcome, run.id, run.summary, error)


def close_interrupted_runs(sessions: sessionmaker[Session], job_id: str, *, now: datetime) -> int:
    """Close the job's runs left "running" by a process that died; return how many.

    Called once this process holds the job's lock: no other run of it can be alive.
    """
    with sessions.begin() as db:
        closed = db.execute(
            update(JobRun)
            .where(JobRun.job_id == job_id, JobRun.outcome == "running")
            .values(outcome="failure", finished_dt=now, error=INTERRUPTED)
            .execution_options(synchronize_session=False)
        )
        count = int(closed.rowcount)  # type: ignore[attr-defined]
    if count:
        log.warning("job %s: %d interrupted run(s) closed", job_id, count)
    return count


def purge_runs(db: Session, *, now: datetime, days: int) -> int:
    """Delete runs older than `days`, keeping each job's latest (the health check reads it)."""
    latest = select(func.max(JobRun.id)).group_by(JobRun.job_id)
    deleted = db.execute(
        delete(JobRun)
        .where(JobRun.started_dt < now - timedelta(days=days), JobRun.id.not_in(latest))
        .execution_options(synchronize_session=False)
    )
    return int(deleted.rowcount)  # type: ignore[attr-defined]


def last_runs(db: Session) -> dict[str, JobRun]:
    """The latest run of each job (any outcome)."""
    latest = (
        select(JobRun.job_id, func.max(JobRun.id).label("id")).group_by(JobRun.job_id).subquery()
    )
    rows = db.scalars(select(JobRun).join(latest, JobRun.id == latest.c.id))
    return {run.job_id: run for run in rows}
