"""Job: the nightly médecin traitant matching of the territories that enabled it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from guichet.models import MatchingRun, Territory
from guichet.territories import settings as territory_settings
from guichet.timeutil import PARIS, paris_today

SOURCE = "scheduler"


def _already_ran_today(db: Session, territory: Territory, now: datetime) -> bool:
    day = paris_today(now)
    start = datetime(day.year, day.month, day.day, tzinfo=PARIS)
    runs = db.scalars(select(MatchingRun).where(
        MatchingRun.territory_id == territory.id, MatchingRun.kind == "mt",
        MatchingRun.started_dt >= start, MatchingRun.started_dt < start + timedelta(days=1)))
    return any((run.parameters or {}).get("source") == SOURCE for run in runs)


def nightly_matching(db: Session, *, now: datetime, settings: Mapping[str, Any]) -> dict[str, int]:
    """Run the MT matching once a day for each territory with automatic matching.

    The drafts wait for the coordinators' review, or go to the GPs at once when the
    territory allows automatic approval (runs.run_mt does that). The scheduler
    ticks every few minutes: a territory runs at or after its own time of day (setting
    "nightly_matching_time"), and one already matched by the scheduler today is skipped,
    so a second run changes nothing.
    """
    from guichet.assignment import runs

    counts = {"territories": 0, "skipped": 0, "not_yet": 0, "drafts": 0, "sent": 0}
    territories = db.scalars(select(Territory).where(Territory.is_auto_matching).order_by(Territory.id))
    for territory in territories.all():
        if not territory_settings.is_due(territory, "nightly_matching_time", now):
            counts["not_yet"] += 1
            continue
        if _already_ran_today(db, territory, now):
            counts["skipped"] += 1
            continue
        outcome = runs.run_mt(db, territory, now=now, source=SOURCE)
        counts["territories"] += 1
        counts["drafts"] += len(outcome.drafts)
        counts["sent"] += sum(1 for p in outcome.drafts if p.status == "sent")
    return counts
