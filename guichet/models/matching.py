"""Matching runs and the proposals they produce."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from guichet.db import Base
from guichet.models.doctors import CapacityDeclaration, Doctor, Slot
from guichet.models.patients import PatientRequest


class ProposalStatus(enum.StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    SENT = "sent"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


#: statuses in which a proposal holds the request (at most one at a time)
ACTIVE_PROPOSAL_STATUSES = ("proposed", "approved", "sent", "accepted")


class MatchingRun(Base):
    """One run of the matching engine for a territory (campagne d'attribution)."""

    __tablename__ = "matching_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(ForeignKey("territories.id"), index=True)
    kind: Mapped[str] = mapped_column(String(3))
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    started_dt: Mapped[datetime]
    finished_dt: Mapped[datetime | None]
    #: km_cost and other knobs the run used
    parameters: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: counts (demands, offers, pairs, assigned, unassigned by reason)
    stats: Mapped[dict[str, Any]] = mapped_column(default=dict)
    solver_seconds: Mapped[float] = mapped_column(default=0.0)
    objective: Mapped[float] = mapped_column(default=0.0)

    proposals: Mapped[list[Proposal]] = relationship(back_populates="run")

    __table_args__ = (CheckConstraint("kind IN ('mt', 'snp')", name="kind"),)


class Proposal(Base):
    """A request ↔ GP (or SNP slot) pairing, from a run or made by hand."""

    __tablename__ = "proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("matching_runs.id"), index=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("patient_requests.id"), index=True)
    doctor_id: Mapped[int] = mapped_column(ForeignKey("doctors.id"))
    declaration_id: Mapped[int | None] = mapped_column(ForeignKey("capacity_declarations.id"))
    slot_id: Mapped[int | None] = mapped_column(ForeignKey("slots.id"))
    status: Mapped[str] = mapped_column(String(10), default=ProposalStatus.PROPOSED.value)
    #: staff assignment: re-runs keep it
    is_pinned: Mapped[bool] = mapped_column(default=False)
    distance_km: Mapped[float | None]
    #: weight − km_cost × distance, as the engine valued the pair
    value: Mapped[float | None]
    #: why this GP: priority breakdown, distance, alternatives
    explanation: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_dt: Mapped[datetime]
    approved_dt: Mapped[datetime | None]
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    sent_dt: Mapped[datetime | None]
    answer_due_date: Mapped[date | None]
    answered_dt: Mapped[datetime | None]
    #: the GP's preset reason (guichet.workflow.DECLINE_REASONS); decline_reason holds their words
    decline_code: Mapped[str | None] = mapped_column(String(20))
    decline_reason: Mapped[str | None] = mapped_column(String(300))
    cancel_reason: Mapped[str | None] = mapped_column(String(300))
    first_consultation_dt: Mapped[datetime | None]
    mt_declared_dt: Mapped[datetime | None]

    run: Mapped[MatchingRun | None] = relationship(back_populates="proposals")
    request: Mapped[PatientRequest] = relationship(back_populates="proposals")
    doctor: Mapped[Doctor] = relationship()
    declaration: Mapped[CapacityDeclaration | None] = relationship()
    slot: Mapped[Slot | None] = relationship()

    __table_args__ = (
        CheckConstraint(
            "status IN ('proposed', 'approved', 'sent', 'accepted', 'declined', 'expired',"
            " 'cancelled')",
            name="status",
        ),
        CheckConstraint("distance_km IS NULL OR distance_km >= 0", name="distance_positive"),
        # A request is held by one live proposal at most.
        Index(
            "uq_proposals_one_active_per_request",
            "request_id",
            unique=True,
            sqlite_where=text("status IN ('proposed', 'approved', 'sent', 'accepted')"),
            postgresql_where=text("status IN ('proposed', 'approved', 'sent', 'accepted')"),
        ),
        Index("ix_proposals_doctor_inbox", "doctor_id", "status"),
    )
