"""Job: deliver the outbox by SMTP (each message committed on its own)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from guichet.messaging import delivery as delivery_service


def delivery(sessions: sessionmaker[Session], *, now: datetime, settings: Mapping[str, Any]) -> dict[str, int]:
    """Send the due e-mails; see guichet.messaging.delivery.deliver_due."""
    return delivery_service.deliver_due(sessions, now=now, settings=settings)
