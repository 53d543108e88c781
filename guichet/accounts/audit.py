"""The audit log: every login, failed access, and staff read or change of a patient record."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from guichet.models import AuditEvent


def record(
    db: Session,
    action: str,
    *,
    now: datetime,
    user_id: int | None = None,
    object_type: str | None = None,
    object_id: int | None = None,
    territory_id: int | None = None,
    ip: str | None = None,
    **detail: Any,
) -> AuditEvent:
    """Add an audit row. `detail` holds ids and codes only, never names or contacts."""
    event = AuditEvent(
        at_dt=now,
        action=action,
        user_id=user_id,
        object_type=object_type,
        object_id=object_id,
        territory_id=territory_id,
        ip=ip,
        detail=detail,
    )
    db.add(event)
    return event
