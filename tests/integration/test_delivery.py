"""Delivery of the outbox to a real SMTP server (aiosmtpd): multipart, retries, backoff, letters."""

from __future__ import annotations

import socket
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from guichet.jobs.runner import run_job
from guichet.messaging import delivery, notifications
from guichet.models import JobRun, Notification


class Collector:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp():
    handler = Collector()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, handler
    controller.stop()


def mail_settings(port: int, **extra):
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": port, "SMTP_TIMEOUT_SECONDS": 5,
            "MAIL_FROM": "Guichet CPTS <ne-pas-repondre@cpts.test>", "MAIL_MAX_ATTEMPTS": 3,
            "MAIL_RETRY_BASE_SECONDS": 60, "MAIL_RETRY_MAX_SECONDS": 3600, **extra}


def outbox_message(db, now, key="test:1", email="marie@exemple.fr"):
    message = notifications.enqueue(
        db, template="request_expired_no_answer", subject="Votre demande de médecin traitant est close",
        dedup_key=key, now=now, email=email,
        context={"first_names": "Marie", "reference": "MT-2026-000001", "territory_name": "CPTS Test"},
    )
    db.commit()
    return message


def test_a_due_message_arrives_once_as_french_text_and_html_from_mail_from(sessions, db, now, smtp):
    controller, handler = smtp
    message = outbox_message(db, now)
    counts = delivery.deliver_due(sessions, now=now, settings=mail_settings(controller.port))
    assert counts == {"sent": 1, "retried": 0, "failed": 0}
    assert len(handler.messages) == 1
    rcpt, mail = handler.messages[0]
    assert rcpt == ["marie@exemple.fr"]
    assert mail["Subject"] == "Votre demande de médecin traitant est close"
    assert mail["From"] == "Guichet CPTS <ne-pas-repondre@cpts.test>"
    assert mail.is_multipart() and mail.get_content_type() == "multipart/alternative"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "Bonjour Marie" in text and "MT-2026-000001" in text
    assert "<p>Bonjour Marie,</p>" in html
    db.refresh(message)
    assert (message.status, message.sent_dt, message.attempts) == ("sent", now, 1)
    # a second run sends nothing more
    assert delivery.deliver_due(sessions, now=now + timedelta(minutes=2),
                                settings=mail_settings(controller.port))["sent"] == 0
    assert len(handler.messages) == 1


def test_when_the_server_is_down_nothing_is_lost_and_delivery_resumes_once(sessions, db, now):
    handler = Collector()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    first = outbox_message(db, now, "test:down:1")
    second = outbox_message(db, now, "test:down:2", email="paul@exemple.fr")
    controller.stop()
    counts = delivery.deliver_due(sessions, now=now, settings=mail_settings(port))
    assert counts == {"sent": 0, "retried": 1, "failed": 0}  # the run stops at the first refusal
    db.refresh(first)
    db.refresh(second)
    assert first.status == "pending" and first.attempts == 1
    assert first.next_attempt_dt == now + timedelta(seconds=60)
    assert first.last_error == "ConnectionRefusedError"
    assert second.status == "pending" and second.attempts == 0
    # still down two minutes later: the backoff doubles
    later = now + timedelta(minutes=2)
    delivery.deliver_due(sessions, now=later, settings=mail_settings(port))
    db.refresh(first)
    db.refresh(second)
    # the oldest due message was tried (second, due since `now`); the other waits its backoff
    assert (first.attempts, second.attempts) == (1, 1)
    assert second.next_attempt_dt == later + timedelta(seconds=60)
    delivery.deliver_due(sessions, now=now + timedelta(minutes=3), settings=mail_settings(port))
    db.refresh(first)
    assert first.attempts == 2 and first.next_attempt_dt == now + timedelta(minutes=3, seconds=120)
    # the server comes back: both messages delivered, exactly once each
    restarted = Controller(handler, hostname="127.0.0.1", port=port)
    restarted.start()
    try:
        back = now + timedelta(hours=1)
        assert delivery.deliver_due(sessions, now=back, settings=mail_settings(port))["sent"] == 2
        assert delivery.deliver_due(sessions, now=back + timedelta(hours=1), settings=mail_settings(port))["sent"] == 0
    finally:
        restarted.stop()
    assert sorted(rcpt[0] for rcpt, _ in handler.messages) == ["marie@exemple.fr", "paul@exemple.fr"]


def test_after_max_attempts_the_message_fails_permanently_with_backoff_in_between(sessions, db, now):
    message = outbox_message(db, now, "test:fail")
    settings = mail_settings(free_port())  # nobody listens there
    when = now
    waits = []
    for _ in range(3):
        delivery.deliver_due(sessions, now=when, settings=settings)
        db.refresh(message)
        waits.append(message.next_attempt_dt - when)
        when = message.next_attempt_dt
    assert message.status == "failed" and message.attempts == 3
    assert waits[:2] == [timedelta(seconds=60), timedelta(seconds=120)]
    assert "marie" not in (message.last_error or "")


def test_a_permanent_refusal_fails_at_once_and_other_messages_still_go(sessions, db, now):
    class Refusing(Collector):
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
            if address.startswith("inconnu"):
                return "550 5.1.1 Mailbox unknown"
            envelope.rcpt_tos.append(address)
            return "250 OK"

    handler = Refusing()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        bad = outbox_message(db, now, "test:bad", email="inconnu@exemple.fr")
        good = outbox_message(db, now, "test:good", email="marie@exemple.fr")
        counts = delivery.deliver_due(sessions, now=now, settings=mail_settings(controller.port))
    finally:
        controller.stop()
    db.refresh(bad)
    db.refresh(good)
    assert counts == {"sent": 1, "retried": 0, "failed": 1}
    assert bad.status == "failed" and bad.last_error == "SMTPRecipientsRefused 550"
    assert good.status == "sent"


def test_letters_are_never_emailed_and_wait_in_the_print_list(sessions, db, factory, now, smtp):
    controller, handler = smtp
    territory = factory.territory()
    letter = notifications.enqueue(
        db, template="request_expired_no_answer", subject="Votre demande est close", dedup_key="test:letter",
        now=now, email=None, territory_id=territory.id,
        context={"first_names": "Marie", "reference": "MT-2026-000001", "territory_name": "CPTS Test"},
    )
    db.commit()
    delivery.deliver_due(sessions, now=now, settings=mail_settings(controller.port))
    assert handler.messages == []
    assert delivery.letters_to_print(db, territory.id) == [letter]
    delivery.mark_printed(db, letter, now=now)
    assert letter.status == "printed"
    assert delivery.letters_to_print(db, territory.id) == []
    with pytest.raises(delivery.NotAPrintableLetter):
        delivery.mark_printed(db, letter, now=now)


def test_the_delivery_job_records_its_counts(sessions, db, now, smtp):
    controller, handler = smtp
    outbox_message(db, now, "test:job")
    result = run_job("delivery", sessions, now, settings=mail_settings(controller.port))
    assert result.outcome == "success" and result.summary["sent"] == 1
    assert db.get(JobRun, result.run_id).summary == {"sent": 1, "retried": 0, "failed": 0}
    assert db.scalar(select(Notification.status).where(Notification.dedup_key == "test:job")) == "sent"


def test_a_message_is_claimed_before_smtp_so_a_crash_after_the_send_does_not_resend_it_at_once(
        sessions, db, now, smtp, monkeypatch):
    controller, handler = smtp
    message = outbox_message(db, now)
    settings = mail_settings(controller.port, MAIL_SENDING_STALE_SECONDS=900)

    def crash(*_args, **_kwargs):
        raise KeyboardInterrupt  # the process dies between the SMTP send and the mark

    monkeypatch.setattr(delivery, "_settle", crash)
    with pytest.raises(KeyboardInterrupt):
        delivery.deliver_due(sessions, now=now, settings=settings)
    monkeypatch.undo()
    db.refresh(message)
    assert message.status == "sending" and len(handler.messages) == 1
    # the next runs leave it alone while the claim is fresh…
    assert delivery.deliver_due(sessions, now=now + timedelta(minutes=2), settings=settings)["sent"] == 0
    # …then try again with the same Message-ID, so that the copy is recognisable
    assert delivery.deliver_due(sessions, now=now + timedelta(minutes=16), settings=settings)["sent"] == 1
    first, second = (mail["Message-ID"] for _, mail in handler.messages)
    assert first == second == f"<guichet.n{message.id}@cpts.test>"
    db.refresh(message)
    assert message.status == "sent"


def test_a_message_claimed_by_another_deliverer_is_not_sent(sessions, db, now, smtp):
    controller, handler = smtp
    message = outbox_message(db, now)
    message.status = "sending"
    message.next_attempt_dt = now + timedelta(minutes=10)
    db.commit()
    assert delivery.deliver_due(sessions, now=now, settings=mail_settings(controller.port))["sent"] == 0
    assert handler.messages == []
