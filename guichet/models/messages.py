"""Follow-ups and the notification outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from guichet.db import Base
from guichet.models.patients import PatientRequest


class FollowUp(Base):
    """Something to check with a patient or a GP on a due date (relance / suivi)."""

    __tablename__ = "follow_ups"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("patient_requests.id"), index=True)
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposals.id"))
    #: e.g. gp_reminder, patient_first_consultation, gp_mt_declared, snp_after_visit
    kind: Mapped[str] = mapped_column(String(40))
    due_dt: Mapped[datetime]
    done_dt: Mapped[datetime | None]
    #: yes, no, or a short code
    answer: Mapped[str | None] = mapped_column(String(20))
    #: token of the yes/no link sent with the follow-up
    answer_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_dt: Mapped[datetime]

    request: Mapped[PatientRequest] = relationship()

    __table_args__ = (Index("ix_follow_ups_due", "done_dt", "due_dt"),)


class Notification(Base):
    """An outbox row, written in the same transaction as the change that causes it."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: email or letter (printed by staff for patients without e-mail)
    channel: Mapped[str] = mapped_column(String(10))
    recipient_email: Mapped[str | None] = mapped_column(String(254))
    recipient_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("patient_requests.id"))
    territory_id: Mapped[int | None] = mapped_column(ForeignKey("territories.id"), index=True)
    #: template name under web/templates/mail/
    template: Mapped[str] = mapped_column(String(60))
    subject: Mapped[str] = mapped_column(String(200))
    #: values the template needs; erased with the request by the retention job
    context: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: unique: a job run twice never sends the same message twice
    dedup_key: Mapped[str] = mapped_column(String(200), unique=True)
    #: pending, sending (claimed by a deliverer: see messaging/delivery.py), sent,
    #: failed (permanently), printed
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_dt: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_dt: Mapped[datetime]
    sent_dt: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint("channel IN ('email', 'letter')", name="channel"),
        CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed', 'printed')", name="status"),
        CheckConstraint("attempts >= 0", name="attempts_positive"),
        CheckConstraint(
            "channel = 'letter' OR recipient_email IS NOT NULL", name="email_has_address"
        ),
        Index("ix_notifications_due", "status", "next_attempt_dt"),
    )
