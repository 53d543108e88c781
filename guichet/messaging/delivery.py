"""Deliver the outbox by SMTP, with retries and exponential backoff; printed letters.

Delivery is at most once per message, even across crashes: each message is first
claimed (status "sending", committed), then handed to SMTP outside any transaction,
then marked sent. Two deliverers never send the same message (the claim is a
conditional UPDATE). A crash between the SMTP conversation and the mark leaves the
message "sending": it is tried again only after MAIL_SENDING_STALE_SECONDS, with the
same Message-ID, so that the rare duplicate is recognisable by the mail client. A
database connection lost right after the SMTP send is waited for (a restart takes
seconds) before giving up. A transient failure (server down, 4xx) adds an attempt and
waits MAIL_RETRY_BASE_SECONDS × 2^(attempts − 1) (capped); after MAIL_MAX_ATTEMPTS, or
at once on a permanent 5xx refusal, the message is "failed" and shown to the
coordinators. Errors keep the exception class and SMTP code only: never an address or
a body. Letters (patients without e-mail) are never sent: staff print them and mark
them printed.
"""

from __future__ import annotations

import smtplib
import ssl
import time
from collections.abc import Mapping
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from guichet.accounts import audit
from guichet.messaging import notifications
from guichet.models import Notification


class NotAPrintableLetter(ValueError):
    """The message is not a letter waiting to be printed."""


class NotRetryable(ValueError):
    """Only a message in permanent failure can be tried again."""


def build_message(notification: Notification, settings: Mapping[str, Any]) -> EmailMessage:
    """The e-mail: French subject, plain text and HTML alternatives, From = MAIL_FROM."""
    text, html = notifications.render(notification.template, dict(notification.context or {}))
    message = EmailMessage()
    message["From"] = str(settings["MAIL_FROM"])
    message["To"] = notification.recipient_email or ""
    message["Subject"] = notification.subject
    message["Date"] = format_datetime(notification.created_dt)
    domain = str(settings["MAIL_FROM"]).rpartition("@")[2].strip(" >") or "guichet.invalid"
    # the same on every attempt: a message re-sent after a crash is recognisable as one
    message["Message-ID"] = f"<guichet.n{notification.id}@{domain}>"
    # no out-of-office replies to a no-reply address
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def open_smtp(settings: Mapping[str, Any]) -> smtplib.SMTP:
    smtp = smtplib.SMTP(str(settings["SMTP_HOST"]), int(settings["SMTP_PORT"]),
                        timeout=float(settings.get("SMTP_TIMEOUT_SECONDS", 10)))
    if settings.get("SMTP_STARTTLS"):
        smtp.starttls(context=ssl.create_default_context())
    if settings.get("SMTP_USERNAME"):
        smtp.login(str(settings["SMTP_USERNAME"]), str(settings.get("SMTP_PASSWORD", "")))
    return smtp


def backoff(attempts: int, settings: Mapping[str, Any]) -> timedelta:
    """Wait before the next try after `attempts` failed ones: base × 2^(attempts − 1), capped."""
    base = int(settings.get("MAIL_RETRY_BASE_SECONDS", 60))
    cap = int(settings.get("MAIL_RETRY_MAX_SECONDS", 6 * 3600))
    return timedelta(seconds=min(cap, base * 2 ** max(0, attempts - 1)))


def _error_text(exc: BaseException) -> tuple[str, bool]:
    """(text without personal data, is_permanent)."""
    code: int | None = getattr(exc, "smtp_code", None)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = sorted({c for c, _ in exc.recipients.values()})
        code = codes[0] if codes else None
    text = type(exc).__name__ + (f" {code}" if code else "")
    return text, bool(code and 500 <= code < 600)


def _is_due(now: datetime) -> Any:
    """Pending and due, or claimed by a deliverer that died (its claim has run out)."""
    return (Notification.channel == "email") & Notification.status.in_(("pending", "sending")) & (
        Notification.next_attempt_dt <= now)


def due_ids(db: Session, *, now: datetime, limit: int) -> list[int]:
    query = (
        select(Notification.id)
        .where(_is_due(now))
        .order_by(Notification.next_attempt_dt, Notification.id)
        .limit(limit)
    )
    return list(db.scalars(query))


def _claim(sessions: sessionmaker[Session], notification_id: int, *, now: datetime,
           settings: Mapping[str, Any]) -> Notification | None:
    """Mark the message "sending" and commit, or None when another deliverer has it."""
    stale = timedelta(seconds=int(settings.get("MAIL_SENDING_STALE_SECONDS", 900)))
    with sessions.begin() as db:
        claimed = db.execute(
            update(Notification)
            .where(Notification.id == notification_id, _is_due(now))
            .values(status="sending", next_attempt_dt=now + stale)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return None
        return db.get(Notification, notification_id)


def _settle(sessions: sessionmaker[Session], notification_id: int, values: dict[str, Any],
            *, patience_seconds: float) -> None:
    """Record the outcome of a claimed message; wait for a database that is restarting.

    After a successful send, giving up here would send the message again later: retry
    on a lost connection for `patience_seconds` before letting the error go up.
    """
    deadline = time.monotonic() + patience_seconds
    while True:
        try:
            with sessions.begin() as db:
                db.execute(update(Notification)
                           .where(Notification.id == notification_id, Notification.status == "sending")
                           .values(**values).execution_options(synchronize_session=False))
            return
        except OperationalError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(1)


def deliver_due(sessions: sessionmaker[Session], *, now: datetime,
                settings: Mapping[str, Any]) -> dict[str, int]:
    """Send every due e-mail of the outbox; return counts (sent, retried, failed).

    Raises nothing for SMTP trouble: it is recorded on the message. A connection
    failure stops the run (the server is down: the others wait for the next run).
    Raises sqlalchemy.exc.OperationalError when the database stays unreachable.
    """
    counts = {"sent": 0, "retried": 0, "failed": 0}
    max_attempts = int(settings.get("MAIL_MAX_ATTEMPTS", 8))
    patience = float(settings.get("MAIL_DATABASE_PATIENCE_SECONDS", 60))
    with sessions() as db:
        ids = due_ids(db, now=now, limit=int(settings.get("MAIL_BATCH_SIZE", 200)))
    smtp: smtplib.SMTP | None = None
    try:
        for notification_id in ids:
            notification = _claim(sessions, notification_id, now=now, settings=settings)
            if notification is None:
                continue
            stop = False
            try:
                message = build_message(notification, settings)
                if smtp is None:
                    smtp = open_smtp(settings)
                smtp.send_message(message)
            except (smtplib.SMTPException, OSError) as exc:
                text, permanent = _error_text(exc)
                attempts = notification.attempts + 1
                values: dict[str, Any] = {"attempts": attempts, "last_error": text}
                if permanent or attempts >= max_attempts:
                    values["status"] = "failed"
                    counts["failed"] += 1
                else:
                    values.update(status="pending", next_attempt_dt=now + backoff(attempts, settings))
                    counts["retried"] += 1
                # the connection is unusable or refused: the others wait for the next run
                stop = not isinstance(exc, (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError))
                if stop and smtp is not None:
                    _close(smtp)
                    smtp = None
            else:
                values = {"status": "sent", "sent_dt": now, "attempts": notification.attempts + 1,
                          "last_error": None}
                counts["sent"] += 1
            _settle(sessions, notification_id, values, patience_seconds=patience)
            if stop:
                break
    finally:
        if smtp is not None:
            _close(smtp)
    return counts


def _close(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def letters_to_print(db: Session, territory_id: int) -> list[Notification]:
    """Letters of the territory waiting to be printed, oldest first."""
    return list(db.scalars(
        select(Notification)
        .where(Notification.channel == "letter", Notification.status == "pending",
               Notification.territory_id == territory_id)
        .order_by(Notification.created_dt, Notification.id)
    ))


def failed_messages(db: Session, territory_id: int, limit: int = 200) -> list[Notification]:
    """E-mails of the territory in permanent failure, newest first."""
    return list(db.scalars(
        select(Notification)
        .where(Notification.channel == "email", Notification.status == "failed",
               Notification.territory_id == territory_id)
        .order_by(Notification.created_dt.desc(), Notification.id.desc())
        .limit(limit)
    ))


def mark_printed(db: Session, notification: Notification, *, now: datetime,
                 user_id: int | None = None) -> None:
    """Staff printed and posted the letter. Raises NotAPrintableLetter."""
    if notification.channel != "letter" or notification.status != "pending":
        raise NotAPrintableLetter("Ce courrier a déjà été marqué comme imprimé.")
    notification.status = "printed"
    notification.sent_dt = now
    audit.record(db, "letter.printed", now=now, user_id=user_id, object_type="notification",
                 object_id=notification.id, territory_id=notification.territory_id)
    db.flush()


def mark_all_printed(db: Session, territory_id: int, ids: list[int], *, now: datetime,
                     user_id: int | None = None) -> int:
    """Mark printed the listed letters of the territory still pending; return how many.

    Only the letters the coordinator had on screen: one created meanwhile stays to print.
    """
    letters = db.scalars(select(Notification).where(
        Notification.id.in_(ids), Notification.channel == "letter", Notification.status == "pending",
        Notification.territory_id == territory_id))
    count = 0
    for letter in letters:
        mark_printed(db, letter, now=now, user_id=user_id)
        count += 1
    return count


def retry(db: Session, notification: Notification, *, now: datetime, user_id: int | None = None) -> None:
    """Put a failed e-mail back in the queue for a fresh series of attempts. Raises NotRetryable."""
    if notification.channel != "email" or notification.status != "failed":
        raise NotRetryable("Seul un message en échec définitif peut être renvoyé.")
    notification.status = "pending"
    notification.attempts = 0
    notification.next_attempt_dt = now
    audit.record(db, "notification.retry", now=now, user_id=user_id, object_type="notification",
                 object_id=notification.id, territory_id=notification.territory_id)
    db.flush()


def letter_recipient(db: Session, notification: Notification) -> list[str]:
    """The postal address block of a letter: the patient's, or the GP's practice."""
    from guichet.models import Doctor, PatientRequest, User

    if notification.request_id is not None:
        request = db.get(PatientRequest, notification.request_id)
        if request is not None:
            patient = request.patient
            if patient.anonymised_dt is not None:
                return []
            commune = patient.commune.name if patient.commune else ""
            lines = [f"{patient.first_names} {(patient.usage_name or patient.birth_name).upper()}"]
            if patient.filled_by != "self" and patient.proxy_name:
                lines.append(f"aux bons soins de {patient.proxy_name}")
            lines += [patient.address or "", f"{patient.postal_code or ''} {commune.upper()}".strip()]
            return [line for line in lines if line]
    if notification.recipient_user_id is not None:
        user = db.get(User, notification.recipient_user_id)
        doctor: Doctor | None = user.doctor if user else None
        if doctor is not None:
            return [doctor.display_name, doctor.practice_address,
                    f"{doctor.commune.postal_codes[0].postal_code if doctor.commune.postal_codes else ''} "
                    f"{doctor.commune.name.upper()}".strip()]
        if user is not None:
            return [user.full_name]
    return []


def letter_text(notification: Notification) -> str:
    """The letter's body: the same French text as the e-mail."""
    text, _html = notifications.render(notification.template, dict(notification.context or {}))
    return text
