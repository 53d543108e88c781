"""Accounts, one-time tokens and the audit log."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from guichet.db import Base
from guichet.models.geo import Territory

if TYPE_CHECKING:
    from guichet.models.doctors import Doctor
    from guichet.models.partners import Partner


class Role(enum.StrEnum):
    STAFF = "staff"
    ADMIN = "admin"
    DOCTOR = "doctor"
    PARTNER = "partner"


class User(Base):
    """A staff, admin or GP account. Patients have no account."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(150))
    #: argon2id; NULL until an invited user sets a password
    password_hash: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(10))
    #: staff and admins belong to one CPTS; GPs through their Doctor row
    territory_id: Mapped[int | None] = mapped_column(ForeignKey("territories.id"), index=True)
    doctor_id: Mapped[int | None] = mapped_column(ForeignKey("doctors.id"), unique=True)
    #: a partner organisation's user (hospital discharge team, pharmacy…)
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id"), index=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until_dt: Mapped[datetime | None]
    last_login_dt: Mapped[datetime | None]
    password_changed_dt: Mapped[datetime | None]
    #: changed at logout and password change: every session cookie issued before dies
    session_nonce: Mapped[str] = mapped_column(String(32), default="")
    #: base32 TOTP secret (RFC 6238); set at the start of enrolment, in force once confirmed
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    #: when the first code confirmed the second factor (NULL: none, or enrolment not finished)
    totp_enrolled_dt: Mapped[datetime | None]
    #: the 30-second time step of the last accepted code: that code and earlier ones are refused
    totp_last_step: Mapped[int | None]
    created_dt: Mapped[datetime]

    territory: Mapped[Territory | None] = relationship()
    doctor: Mapped[Doctor | None] = relationship(back_populates="user")
    partner: Mapped[Partner | None] = relationship()

    __table_args__ = (
        CheckConstraint("role IN ('staff', 'admin', 'doctor', 'partner')", name="role"),
        CheckConstraint("failed_logins >= 0", name="failed_logins_positive"),
        CheckConstraint("role != 'doctor' OR doctor_id IS NOT NULL", name="doctor_has_doctor"),
        CheckConstraint("role != 'partner' OR partner_id IS NOT NULL", name="partner_has_partner"),
    )

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.STAFF, Role.ADMIN)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def has_second_factor(self) -> bool:
        """Sign-in asks a code from an authenticator app after the password."""
        return self.totp_enrolled_dt is not None and bool(self.totp_secret)


class UserToken(Base):
    """A single-use, expiring token for a password reset or an invitation.

    Only its SHA-256 is stored: a copy of the database does not open accounts.
    """

    __tablename__ = "user_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: reset or invitation
    purpose: Mapped[str] = mapped_column(String(12))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_dt: Mapped[datetime]
    used_dt: Mapped[datetime | None]
    created_dt: Mapped[datetime]

    user: Mapped[User] = relationship()

    __table_args__ = (CheckConstraint("purpose IN ('reset', 'invitation')", name="purpose"),)


class RecoveryCode(Base):
    """A single-use code that replaces the authenticator app once (a lost or broken phone).

    Only its SHA-256 is stored; the person sees the codes once, when they are made.
    """

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_dt: Mapped[datetime | None]
    created_dt: Mapped[datetime]


class AuditEvent(Base):
    """Who did what to which record, when, from where. Never holds personal data itself."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at_dt: Mapped[datetime] = mapped_column(index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: e.g. login, login_failed, access_denied, request.view, request.update
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[int | None]
    territory_id: Mapped[int | None] = mapped_column(ForeignKey("territories.id"))
    ip: Mapped[str | None] = mapped_column(String(45))
    #: ids and codes only
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)

    __table_args__ = (Index("ix_audit_object", "object_type", "object_id"),)


class LoginThrottle(Base):
    """Failed sign-ins counted per key: an address, a typed e-mail, or the pair of both.

    The e-mail is stored as a SHA-256 so that the table names nobody, and an address that has
    no account is counted exactly like one that has (nothing tells them apart).
    """

    __tablename__ = "login_throttles"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: "pair:<sha256>|<ip>", "account:<sha256>" or "address:<ip>"
    key: Mapped[str] = mapped_column(String(120), unique=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_failure_dt: Mapped[datetime]
    #: no sign-in is tried for this key before then
    blocked_until_dt: Mapped[datetime | None]
