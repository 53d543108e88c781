"""Job: publish the anonymous waiting lists and send the coordinators' and GPs' digests."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from guichet.messaging import publication as publication_service


def publication(db: Session, *, now: datetime, settings: Mapping[str, Any]) -> dict[str, int]:
    """Snapshot every territory's waiting list and enqueue the daily digests."""
    return publication_service.publish_all(db, now=now, settings=settings)
