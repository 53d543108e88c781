"""Is the service doing its work? The one place that says so, for /api/v1/health and /metrics.

- the scheduler is "late" when a job has not started for twice its period (any outcome: a
  run skipped because another scheduler holds the lock still proves one is alive); a job
  that never ran is judged from the first run of any job (when the scheduler first started);
- the outbox is "late" when an e-mail due to leave has waited more than
  MAIL_BACKLOG_ALERT_MINUTES (the delivery job is stuck or the SMTP server refuses).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from guichet.jobs import registry
from guichet.jobs.runner import last_runs
from guichet.models import JobRun, Notification, PatientRequest
from guichet.models.patients import OPEN_REQUEST_STATUSES


@dataclass
class JobState:
    """A job's latest run and whether it is overdue."""

    job_id: str
    period: timedelta
    last_started: datetime | None
    last_outcome: str | None
    last_duration_seconds: float | None
    is_late: bool


@dataclass
class Snapshot:
    """What monitoring reads from the database at one instant."""

    jobs: list[JobState] = field(default_factory=list)
    #: e-mails due to leave now (pending or a stale claim)
    outbox_due: int = 0
    outbox_oldest_due_seconds: float = 0.0
    #: open requests by (kind, status)
    queue: dict[tuple[str, str], int] = field(default_factory=dict)

    @property
    def late_jobs(self) -> list[str]:
        return [job.job_id for job in self.jobs if job.is_late]


def snapshot(db: Session, *, now: datetime, settings: Mapping[str, Any]) -> Snapshot:
    """Read the jobs' latest runs, the outbox backlog and the queue sizes."""
    latest = last_runs(db)
    first_seen = db.scalar(select(func.min(JobRun.started_dt)))
    result = Snapshot()
    for job_id in registry.JOBS:
        period = registry.period_of(registry.job_trigger_spec(job_id, settings))
        run = latest.get(job_id)
        since = run.started_dt if run is not None else first_seen
        duration = None
        if run is not None and run.finished_dt is not None:
            duration = (run.finished_dt - run.started_dt).total_seconds()
        result.jobs.append(JobState(
            job_id, period, run.started_dt if run else None, run.outcome if run else None, duration,
            is_late=since is None or now - since > 2 * period,
        ))
    due = (Notification.channel == "email") & Notification.status.in_(("pending", "sending")) & (
        Notification.next_attempt_dt <= now)
    count, oldest = db.execute(select(func.count(), func.min(Notification.next_attempt_dt)).where(due)).one()
    result.outbox_due = int(count)
    result.outbox_oldest_due_seconds = (now - oldest).total_seconds() if oldest is not None else 0.0
    rows = db.execute(
        select(PatientRequest.kind, PatientRequest.status, func.count())
        .where(PatientRequest.status.in_([str(s) for s in OPEN_REQUEST_STATUSES]))
        .group_by(PatientRequest.kind, PatientRequest.status)
    )
    result.queue = {(kind, status): int(n) for kind, status, n in rows}
    return result


def check(db: Session, *, now: datetime, settings: Mapping[str, Any]) -> tuple[dict[str, Any], int]:
    """The health answer and its HTTP status.

    200 "ok"; 200 "degraded" when only the outbox is late; 503 "degraded" when the
    scheduler is late (nothing leaves, nothing expires: someone must act); 503 "error"
    when the database does not answer.
    """
    try:
        db.execute(text("SELECT 1"))
        state = snapshot(db, now=now, settings=settings)
    except SQLAlchemyError:
        return {"status": "error", "database": "unavailable"}, 503
    alert = timedelta(minutes=int(settings.get("MAIL_BACKLOG_ALERT_MINUTES", 30)))
    outbox_late = state.outbox_oldest_due_seconds > alert.total_seconds()
    late = state.late_jobs
    body: dict[str, Any] = {
        "status": "degraded" if late or outbox_late else "ok",
        "database": "ok",
        "scheduler": "late" if late else "ok",
        "late_jobs": late,
        "outbox": "late" if outbox_late else "ok",
        "outbox_due": state.outbox_due,
    }
    return body, 503 if late else 200
