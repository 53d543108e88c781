"""GPs, their declared capacity and their unscheduled-care slots."""

from __future__ import annotations

import enum
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from guichet.db import Base
from guichet.models.geo import Commune, Territory

if TYPE_CHECKING:
    from guichet.models.accounts import User
    from guichet.models.patients import PatientRequest


class SlotStatus(enum.StrEnum):
    FREE = "free"
    HELD = "held"
    BOOKED = "booked"
    CANCELLED = "cancelled"
    #: a free slot whose time has passed
    RELEASED = "released"


class Doctor(Base):
    """A médecin généraliste of the territory."""

    __tablename__ = "doctors"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Répertoire partagé des professionnels de santé: 11 digits, Luhn key
    rpps: Mapped[str] = mapped_column(String(11), unique=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254))
    #: the practice's phone, given to patients (E.164)
    phone: Mapped[str | None] = mapped_column(String(20))
    practice_address: Mapped[str] = mapped_column(String(250))
    #: online booking page of the practice (https), given to patients; set by the GP or staff
    booking_url: Mapped[str | None] = mapped_column(String(300))
    commune_insee: Mapped[str] = mapped_column(ForeignKey("communes.insee"))
    #: practice position; the commune's when the address is not geocoded
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    territory_id: Mapped[int] = mapped_column(ForeignKey("territories.id"), index=True)
    has_step_free_access: Mapped[bool] = mapped_column(default=False)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_dt: Mapped[datetime]

    territory: Mapped[Territory] = relationship(back_populates="doctors")
    commune: Mapped[Commune] = relationship()
    user: Mapped[User | None] = relationship(back_populates="doctor")
    declarations: Mapped[list[CapacityDeclaration]] = relationship(
        back_populates="doctor", order_by="CapacityDeclaration.declared_dt.desc()"
    )
    slots: Mapped[list[Slot]] = relationship(back_populates="doctor", order_by="Slot.start_dt")

    __table_args__ = (CheckConstraint("length(rpps) = 11", name="rpps_length"),)

    @property
    def display_name(self) -> str:
        return f"Dr {self.first_name} {self.last_name.upper()}"


class CapacityDeclaration(Base):
    """A GP's declared capacity for new médecin traitant patients over a period.

    Private to the CPTS. The newest declaration of a doctor (superseded_dt NULL) is the
    current one. `committed` counts the proposals approved, sent or accepted under it:
    approvals increase it with a conditional UPDATE, which is what guarantees at the
    database level that two coordinators approving at once cannot over-commit a GP.
    """

    __tablename__ = "capacity_declarations"

    id: Mapped[int] = mapped_column(primary_key=True)
    doctor_id: Mapped[int] = mapped_column(ForeignKey("doctors.id"), index=True)
    #: new patients the GP accepts during the period
    new_patients: Mapped[int]
    #: places already used by approved, sent or accepted proposals
    committed: Mapped[int] = mapped_column(default=0)
    valid_until: Mapped[date | None]
    #: how far from the practice patients may live
    max_km: Mapped[int] = mapped_column(default=10)
    #: only patients with one of `priority_flags`
    is_priority_only: Mapped[bool] = mapped_column(default=False)
    priority_flags: Mapped[list[Any]] = mapped_column(default=list)
    accepts_children: Mapped[bool] = mapped_column(default=True)
    does_home_visits: Mapped[bool] = mapped_column(default=False)
    #: languages spoken besides French (ISO 639-1)
    languages: Mapped[list[Any]] = mapped_column(default=list)
    is_paused: Mapped[bool] = mapped_column(default=False)
    declared_dt: Mapped[datetime]
    superseded_dt: Mapped[datetime | None]

    doctor: Mapped[Doctor] = relationship(back_populates="declarations")

    __table_args__ = (
        CheckConstraint("new_patients >= 0 AND new_patients <= 500", name="new_patients_range"),
        CheckConstraint("committed >= 0", name="committed_positive"),
        CheckConstraint("max_km > 0 AND max_km <= 200", name="max_km_range"),
        Index("ix_capacity_current", "doctor_id", "superseded_dt"),
    )


class Slot(Base):
    """One unscheduled-care (SNP) appointment slot offered by a GP."""

    __tablename__ = "slots"

    id: Mapped[int] = mapped_column(primary_key=True)
    doctor_id: Mapped[int] = mapped_column(ForeignKey("doctors.id"))
    start_dt: Mapped[datetime]
    end_dt: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(10), default=SlotStatus.FREE.value)
    #: the SNP request booked into this slot; unique, so a request holds one slot at most
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("patient_requests.id"), unique=True
    )
    booked_dt: Mapped[datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(String(200))
    created_dt: Mapped[datetime]
    #: the weekly pattern that created this slot; None for a one-off slot
    pattern_id: Mapped[int | None] = mapped_column(ForeignKey("slot_patterns.id"), index=True)

    doctor: Mapped[Doctor] = relationship(back_populates="slots")
    request: Mapped[PatientRequest | None] = relationship()
    pattern: Mapped[SlotPattern | None] = relationship(back_populates="slots")

    __table_args__ = (
        CheckConstraint("end_dt > start_dt", name="ends_after_start"),
        CheckConstraint(
            "status IN ('free', 'held', 'booked', 'cancelled', 'released')", name="status"
        ),
        CheckConstraint(
            "(status IN ('held', 'booked')) = (request_id IS NOT NULL)", name="booked_has_request"
        ),
        Index("ix_slots_board", "doctor_id", "status", "start_dt"),
    )


class SlotPattern(Base):
    """A GP's weekly series of unscheduled-care slots, edited or removed as a whole.

    The slots it created point to it (Slot.pattern_id). Its times are Paris wall-clock
    times: the slots keep their Paris hour across the daylight-saving changes.
    """

    __tablename__ = "slot_patterns"

    id: Mapped[int] = mapped_column(primary_key=True)
    doctor_id: Mapped[int] = mapped_column(ForeignKey("doctors.id"), index=True)
    #: days of the week as digits, 0 = Monday: "14" is every Tuesday and Friday
    weekdays: Mapped[str] = mapped_column(String(7))
    #: Paris wall-clock time of the first slot of each day
    start_time: Mapped[time]
    minutes: Mapped[int]
    #: consecutive slots each day
    count: Mapped[int]
    #: last day of the series (included), in Paris
    until: Mapped[date]
    created_dt: Mapped[datetime]
    updated_dt: Mapped[datetime | None]
    #: set when the GP removes the series: its future free slots are gone, booked ones stay
    removed_dt: Mapped[datetime | None]

    doctor: Mapped[Doctor] = relationship()
    slots: Mapped[list[Slot]] = relationship(back_populates="pattern")

    __table_args__ = (
        CheckConstraint("minutes >= 5 AND minutes <= 240", name="minutes_range"),
        CheckConstraint("count >= 1 AND count <= 48", name="count_range"),
    )
