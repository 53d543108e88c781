"""Records of scheduled job runs and insurer-list imports; the request-number counters."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from guichet.db import Base


class JobRun(Base):
    """One run of a scheduled job."""

    __tablename__ = "job_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[str] = mapped_column(String(60))
    started_dt: Mapped[datetime]
    finished_dt: Mapped[datetime | None]
    #: running, success, failure, skipped (another process holds the lock)
    outcome: Mapped[str] = mapped_column(String(10), default="running")
    #: counts of what the job did
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint(
            "outcome IN ('running', 'success', 'failure', 'skipped')", name="outcome"
        ),
        Index("ix_job_runs_latest", "job_id", "started_dt"),
    )


class ImportBatch(Base):
    """One confirmed import of an insurer list of patients without médecin traitant."""

    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(ForeignKey("territories.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    filename: Mapped[str] = mapped_column(String(200))
    #: SHA-256 of the file content
    file_sha256: Mapped[str] = mapped_column(String(64))
    n_rows: Mapped[int] = mapped_column(default=0)
    n_imported: Mapped[int] = mapped_column(default=0)
    n_skipped: Mapped[int] = mapped_column(default=0)
    created_dt: Mapped[datetime]

    __table_args__ = (UniqueConstraint("territory_id", "file_sha256"),)


class ReferenceCounter(Base):
    """The last request number given for one (year, kind): MT-2026-000123 is (2026, "mt", 123).

    One row per year and kind, incremented by a single UPDATE … RETURNING: the row lock
    makes concurrent submissions wait for each other instead of picking the same number.
    """

    __tablename__ = "reference_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    last: Mapped[int] = mapped_column(Integer)
