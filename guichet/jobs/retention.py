"""Job: anonymise requests closed past the retention period; purge old audit events and job runs."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from guichet.jobs.runner import purge_runs
from guichet.requests import retention as retention_service


def retention(db: Session, *, now: datetime, settings: Mapping[str, Any]) -> dict[str, int]:
    """Apply RETENTION_MONTHS, AUDIT_RETENTION_MONTHS and JOB_RUNS_RETENTION_DAYS."""
    counts = retention_service.apply_retention(
        db, now=now, retention_months=int(settings.get("RETENTION_MONTHS", 24)),
        audit_months=int(settings.get("AUDIT_RETENTION_MONTHS", 12)),
    )
    counts["job_runs_purged"] = purge_runs(db, now=now, days=int(settings.get("JOB_RUNS_RETENTION_DAYS", 90)))
    return counts
