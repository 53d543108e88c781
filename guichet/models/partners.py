"""Partner organisations, their API keys and the referrals they make."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from guichet.db import Base
from guichet.models.geo import Territory
from guichet.models.patients import PatientRequest


class PartnerKind(enum.StrEnum):
    HOSPITAL = "hospital"  # hospital or clinic discharge team
    PHARMACY = "pharmacy"
    SOCIAL = "social"  # social services
    SAS = "sas"  # the Service d'accès aux soins regulation


class ApiScope(enum.StrEnum):
    READ = "read"
    WRITE = "write"


class Partner(Base):
    """An organisation of the territory that refers patients (hospital, pharmacy, SAS…)."""

    __tablename__ = "partners"

    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(ForeignKey("territories.id"), index=True)
    name: Mapped[str] = mapped_column(String(150))
    kind: Mapped[str] = mapped_column(String(10))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_dt: Mapped[datetime]

    territory: Mapped[Territory] = relationship()

    __table_args__ = (
        CheckConstraint("kind IN ('hospital', 'pharmacy', 'social', 'sas')", name="kind"),
    )


class ApiKey(Base):
    """A key for a partner's software. Only its SHA-256 is stored; the key is shown once."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"), index=True)
    label: Mapped[str] = mapped_column(String(100))
    #: the key's first characters, so that staff can tell keys apart without the secret
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: read (status, figures, slots) or write (read, and create referrals)
    scope: Mapped[str] = mapped_column(String(5))
    created_dt: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoked_dt: Mapped[datetime | None]
    last_used_dt: Mapped[datetime | None]

    partner: Mapped[Partner] = relationship()

    __table_args__ = (CheckConstraint("scope IN ('read', 'write')", name="scope"),)

    @property
    def is_active(self) -> bool:
        return self.revoked_dt is None


class Referral(Base):
    """A request sent by a partner for a patient who consented, with what makes it urgent."""

    __tablename__ = "referrals"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"))
    request_id: Mapped[int] = mapped_column(ForeignKey("patient_requests.id"), unique=True)
    #: the partner's user, or None when the partner's software sent it with an API key
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"))
    discharge_date: Mapped[date | None]
    #: why the patient is fragile (vocabulary.FRAGILITY_REASONS); None when not fragile
    fragility_reason: Mapped[str | None] = mapped_column(String(20))
    #: a fragile patient should see a GP within this many days of the referral
    target_delay_days: Mapped[int | None]
    #: referral time + target delay: what the dashboard compares with "now"
    target_dt: Mapped[datetime | None]
    created_dt: Mapped[datetime]

    partner: Mapped[Partner] = relationship()
    request: Mapped[PatientRequest] = relationship(backref=backref("referral", uselist=False))

    __table_args__ = (
        CheckConstraint("target_delay_days IS NULL OR (target_delay_days >= 1 AND target_delay_days <= 90)",
                        name="target_delay_range"),
        CheckConstraint("(fragility_reason IS NULL) = (target_delay_days IS NULL)", name="fragile_has_delay"),
        Index("ix_referrals_partner", "partner_id", "id"),
        Index("ix_referrals_target", "target_dt"),
    )
