"""Patients, their requests and each request's history."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from guichet.db import Base
from guichet.models.geo import Commune, Territory

if TYPE_CHECKING:
    from guichet.models.matching import Proposal


class RequestKind(enum.StrEnum):
    MT = "mt"  # médecin traitant
    SNP = "snp"  # soins non programmés


class Channel(enum.StrEnum):
    WEB = "web"
    PHONE = "phone"
    IMPORT = "import"
    PARTNER = "partner"  # a partner organisation's referral (portal or API)


class RequestStatus(enum.StrEnum):
    TO_CONTACT = "to_contact"
    SUBMITTED = "submitted"
    WAITING = "waiting"
    PROPOSED = "proposed"
    MATCHED = "matched"
    BOOKED = "booked"
    COMPLETED = "completed"
    NO_SHOW = "no_show"
    WITHDRAWN = "withdrawn"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class Sex(enum.StrEnum):
    FEMALE = "F"
    MALE = "M"
    OTHER = "X"


#: statuses of a request still in progress; the others are final. The workflow's rule, kept
#: with the schema because the database's one-open-request-per-person index is built on it.
OPEN_REQUEST_STATUSES = (
    RequestStatus.TO_CONTACT, RequestStatus.SUBMITTED, RequestStatus.WAITING,
    RequestStatus.PROPOSED, RequestStatus.MATCHED, RequestStatus.BOOKED,
)
OPEN_REQUEST_CONDITION = (
    "identity_key IS NOT NULL AND status IN ("
    + ", ".join(f"'{status.value}'" for status in OPEN_REQUEST_STATUSES) + ")"
)


def _in(column: str, values: type[enum.StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


def patient_display_name(birth_name: str, usage_name: str | None, first_names: str) -> str:
    """How staff pages name a patient: "DURAND Inès" (the usage name when there is one)."""
    return f"{(usage_name or birth_name).upper()} {first_names}"


class Patient(Base):
    """A person asking for a GP or for same-day care. No NIR: a CPTS has no use for it."""

    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(ForeignKey("territories.id"), index=True)
    birth_name: Mapped[str] = mapped_column(String(100))
    usage_name: Mapped[str | None] = mapped_column(String(100))
    first_names: Mapped[str] = mapped_column(String(150))
    #: names folded for search (no accents, no case: "ines" finds Inès), kept in step by
    #: guichet.requests.identity on every insert and update; a trigram index on PostgreSQL
    search_name: Mapped[str | None] = mapped_column(String(400))
    birth_date: Mapped[date | None]
    sex: Mapped[str | None] = mapped_column(String(1))
    #: E.164 (+33612345678)
    phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))
    address: Mapped[str | None] = mapped_column(String(250))
    postal_code: Mapped[str | None] = mapped_column(String(5))
    commune_insee: Mapped[str | None] = mapped_column(ForeignKey("communes.insee"), index=True)
    #: email, phone or letter: how the CPTS should reach the patient
    contact_preference: Mapped[str] = mapped_column(String(10), default="email")

    # Who filled in the request: self, relative or professional; the follow-up
    # contact is then that person.
    filled_by: Mapped[str] = mapped_column(String(12), default="self")
    proxy_relation: Mapped[str | None] = mapped_column(String(60))
    proxy_name: Mapped[str | None] = mapped_column(String(150))
    proxy_profession: Mapped[str | None] = mapped_column(String(80))
    proxy_phone: Mapped[str | None] = mapped_column(String(20))
    proxy_email: Mapped[str | None] = mapped_column(String(254))

    # Situation flags that make the patient a priority (weights per territory).
    is_ald: Mapped[bool] = mapped_column(default=False)
    #: complémentaire santé solidaire or aide médicale d'État
    is_css: Mapped[bool] = mapped_column(default=False)
    is_pregnant: Mapped[bool] = mapped_column(default=False)
    is_disabled: Mapped[bool] = mapped_column(default=False)
    hospital_discharge_date: Mapped[date | None]
    #: date the previous médecin traitant retired or left, if that is the reason
    previous_mt_left_date: Mapped[date | None]

    # Mobility.
    max_km: Mapped[int] = mapped_column(default=10)
    needs_home_visit: Mapped[bool] = mapped_column(default=False)
    needs_step_free: Mapped[bool] = mapped_column(default=False)
    #: languages spoken besides French (ISO 639-1 codes)
    languages: Mapped[list[Any]] = mapped_column(default=list)

    created_dt: Mapped[datetime]
    #: set by the retention job once identity and contact are erased
    anonymised_dt: Mapped[datetime | None]

    territory: Mapped[Territory] = relationship()
    commune: Mapped[Commune | None] = relationship()
    requests: Mapped[list[PatientRequest]] = relationship(back_populates="patient")

    __table_args__ = (
        CheckConstraint("max_km > 0 AND max_km <= 200", name="max_km_range"),
        CheckConstraint("filled_by IN ('self', 'relative', 'professional')", name="filled_by"),
        CheckConstraint("contact_preference IN ('email', 'phone', 'letter')", name="contact"),
        CheckConstraint("sex IS NULL OR sex IN ('F', 'M', 'X')", name="sex"),
        Index("ix_patients_identity", "territory_id", "birth_name", "birth_date"),
        # the request list sorted by name reads patients in this order, 50 at a time (issue 18)
        Index("ix_patients_name_order", "birth_name", "first_names"),
        # LIKE '%ines%' on the folded names reads a trigram index (pg_trgm) instead of every
        # patient; SQLite scans, which is fast enough for one CPTS
        Index("ix_patients_search_name_trgm", "search_name", postgresql_using="gin",
              postgresql_ops={"search_name": "gin_trgm_ops"}).ddl_if(dialect="postgresql"),
    )

    @property
    def display_name(self) -> str:
        return patient_display_name(self.birth_name, self.usage_name, self.first_names)

    @property
    def contact_phone(self) -> str | None:
        """The number to call about a request: the helper's when someone filled it in for the patient."""
        return self.proxy_phone if self.filled_by != "self" and self.proxy_phone else self.phone


class PatientRequest(Base):
    """A request for a médecin traitant (mt) or for soins non programmés (snp)."""

    __tablename__ = "patient_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: human-friendly reference, e.g. MT-2026-000123
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    #: private link token (≥ 128 bits, URL-safe)
    tracking_token: Mapped[str] = mapped_column(String(64), unique=True)
    #: 8 Crockford base32 characters read over the phone or printed in letters; with the
    #: reference and the birth date it opens the tracking page (guichet.requests.tracking)
    short_code: Mapped[str | None] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(3))
    channel: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(12))
    territory_id: Mapped[int] = mapped_column(ForeignKey("territories.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)

    priority_score: Mapped[float] = mapped_column(default=0.0)
    #: {"ald": 300, "age_70": 200, "waiting_days": 42, ...}: what made the score
    priority_breakdown: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: children under 16 included in an MT request (ISO birth dates)
    children_birth_dates: Mapped[list[Any]] = mapped_column(default=list)

    # Unscheduled care only.
    snp_category: Mapped[str | None] = mapped_column(String(40))
    snp_reason: Mapped[str | None] = mapped_column(String(500))
    snp_since: Mapped[str | None] = mapped_column(String(40))
    #: [{"day": "2026-11-24", "period": "morning"}, ...] in Europe/Paris
    snp_availability: Mapped[list[Any]] = mapped_column(default=list)
    snp_commune_insee: Mapped[str | None] = mapped_column(ForeignKey("communes.insee"))

    is_consented: Mapped[bool] = mapped_column(default=False)
    consent_dt: Mapped[datetime | None]
    submitted_dt: Mapped[datetime]
    #: waiting time counts from here (priority +1 per day)
    waiting_since_dt: Mapped[datetime]
    status_changed_dt: Mapped[datetime]
    closed_dt: Mapped[datetime | None]
    #: reason given when cancelled: found_elsewhere, unreachable, duplicate, out_of_territory...
    close_reason: Mapped[str | None] = mapped_column(String(40))
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("patient_requests.id"))
    #: identity hash of an insurer-list row, so that re-importing creates nothing twice
    import_key: Mapped[str | None] = mapped_column(String(64))
    import_batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))
    #: SHA-256 of the folded birth name, first names and birth date: with the partial
    #: unique index below, the same person cannot hold two open requests of one kind,
    #: even when a double click submits the form twice at the same instant
    identity_key: Mapped[str | None] = mapped_column(String(64))

    patient: Mapped[Patient] = relationship(back_populates="requests")
    territory: Mapped[Territory] = relationship()
    events: Mapped[list[RequestEvent]] = relationship(
        back_populates="request", order_by="RequestEvent.id"
    )
    proposals: Mapped[list[Proposal]] = relationship(
        back_populates="request", order_by="Proposal.id"
    )

    __table_args__ = (
        CheckConstraint(_in("kind", RequestKind), name="kind"),
        CheckConstraint(_in("channel", Channel), name="channel"),
        CheckConstraint(_in("status", RequestStatus), name="status"),
        CheckConstraint("priority_score >= 0", name="priority_positive"),
        UniqueConstraint("territory_id", "import_key"),
        # The queues staff open every day: by kind/status, most urgent first.
        Index("ix_requests_queue", "territory_id", "kind", "status", "priority_score"),
        Index("ix_requests_waiting_since", "territory_id", "status", "waiting_since_dt"),
        # the default queue order (most urgent, then longest waiting): a page is read from the
        # index instead of sorting every open request (issue 18)
        # (PostgreSQL only: SQLite cannot reflect it, and reads 20,000 rows fast enough)
        Index("ix_requests_priority_order", "territory_id", text("priority_score DESC"), "waiting_since_dt",
              "id").ddl_if(dialect="postgresql"),
        # a reference typed in part ("MT-2026-0100") is found through a trigram index (pg_trgm)
        Index("ix_requests_reference_trgm", "reference", postgresql_using="gin",
              postgresql_ops={"reference": "gin_trgm_ops"}).ddl_if(dialect="postgresql"),
        Index(
            "uq_requests_one_open_per_person",
            "territory_id",
            "kind",
            "identity_key",
            unique=True,
            sqlite_where=text(OPEN_REQUEST_CONDITION),
            postgresql_where=text(OPEN_REQUEST_CONDITION),
        ),
    )

    @property
    def is_closed(self) -> bool:
        return self.status not in OPEN_REQUEST_STATUSES


class RequestEvent(Base):
    """One line of a request's history: status change, note, contact attempt, edit."""

    __tablename__ = "request_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("patient_requests.id", ondelete="CASCADE"), index=True
    )
    at_dt: Mapped[datetime]
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: patient, staff, doctor or system
    actor: Mapped[str] = mapped_column(String(10))
    #: status, note, contact, edit, merge
    kind: Mapped[str] = mapped_column(String(10))
    from_status: Mapped[str | None] = mapped_column(String(12))
    to_status: Mapped[str | None] = mapped_column(String(12))
    reason: Mapped[str | None] = mapped_column(String(40))
    #: free text of a note (staff only); never logged
    text: Mapped[str | None] = mapped_column(Text)
    #: for contact attempts: called, no_answer, message_left, reached
    contact_outcome: Mapped[str | None] = mapped_column(String(15))

    request: Mapped[PatientRequest] = relationship(back_populates="events")

    __table_args__ = (
        CheckConstraint("actor IN ('patient', 'staff', 'doctor', 'system')", name="actor"),
        CheckConstraint(
            "kind IN ('status', 'note', 'contact', 'edit', 'merge', 'created')", name="kind"
        ),
    )


class PairExclusion(Base):
    """A GP who must never be proposed to a patient again (declined, or excluded by staff)."""

    __tablename__ = "pair_exclusions"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    doctor_id: Mapped[int] = mapped_column(ForeignKey("doctors.id"), index=True)
    #: declined (by the GP) or excluded (by staff)
    reason: Mapped[str] = mapped_column(String(10))
    created_dt: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    __table_args__ = (
        UniqueConstraint("patient_id", "doctor_id"),
        CheckConstraint("reason IN ('declined', 'excluded')", name="reason"),
    )
