"""Jobs: daily follow-ups and expiries, monthly capacity reminders, SNP housekeeping."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from guichet.doctors import appointments
from guichet.messaging import follow_up


def follow_ups(db: Session, *, now: datetime, settings: Mapping[str, Any]) -> dict[str, int]:
    """GP reminders, proposal expiry, patient and GP questions, stale requests."""
    return follow_up.run_follow_ups(db, now=now, settings=settings)


def capacity_reminders(db: Session, *, now: datetime, settings: Mapping[str, Any]) -> dict[str, int]:
    """Remind GPs who have not updated their capacity declaration."""
    return follow_up.capacity_reminders(db, now=now, settings=settings)


def snp_housekeeping(db: Session, *, now: datetime, settings: Mapping[str, Any]) -> dict[str, int]:
    """Release past free slots and close past appointments."""
    return follow_up.snp_housekeeping(db, now=now)


def snp_reminders(db: Session, *, now: datetime, settings: Mapping[str, Any]) -> dict[str, int]:
    """Remind patients by e-mail of tomorrow's same-day care appointment."""
    return appointments.send_reminders(db, now=now, base_url=str(settings.get("BASE_URL") or "") or None)
