"""Published anonymous snapshots of the territories' waiting lists."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from guichet.db import Base


class PublishedWaitingList(Base):
    """One day's public view of a territory's waiting list: anonymous counts only.

    Written by the publication job so that the public page is stable and cheap; a
    second run the same day replaces the day's snapshot instead of adding one.
    """

    __tablename__ = "published_waiting_lists"

    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(
        ForeignKey("territories.id", ondelete="CASCADE"), index=True
    )
    #: the day (Europe/Paris) the snapshot stands for
    publication_date: Mapped[date]
    published_dt: Mapped[datetime]
    #: rows per commune and priority group, already masked ("moins de 5"), median wait
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)

    __table_args__ = (UniqueConstraint("territory_id", "publication_date"),)
