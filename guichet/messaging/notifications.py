"""The notification outbox: messages are written with the change that causes them.

A job (guichet.jobs) delivers them; this module only enqueues and renders. The French
bodies live in web/templates/mail/<template>.txt and .html and are rendered with the
row's context, so that the same text is used by e-mail and by printed letters.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session

from guichet.formatting import FILTERS
from guichet.identifiers import format_short_code
from guichet.models import Notification, Patient, PatientRequest
from guichet.territories.contact import OUT_OF_HOURS_NUMBER, contact_context

MAIL_TEMPLATES = Path(__file__).resolve().parent.parent / "web" / "templates" / "mail"

_env = Environment(
    loader=FileSystemLoader(str(MAIL_TEMPLATES)),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters.update(FILTERS)


def enqueue(
    db: Session,
    *,
    template: str,
    subject: str,
    dedup_key: str,
    now: datetime,
    email: str | None = None,
    user_id: int | None = None,
    request_id: int | None = None,
    territory_id: int | None = None,
    context: dict[str, Any] | None = None,
) -> Notification:
    """Add a message to the outbox, or return the one already there with that dedup key.

    Without an e-mail address the message becomes a letter for staff to print.
    """
    existing = db.scalar(select(Notification).where(Notification.dedup_key == dedup_key))
    if existing is not None:
        return existing
    # render once now so that a template error fails the change, not the delivery later
    ctx = dict(context or {})
    render(template, ctx)
    notification = Notification(
        channel="email" if email else "letter",
        recipient_email=email,
        recipient_user_id=user_id,
        request_id=request_id,
        territory_id=territory_id,
        template=template,
        subject=subject,
        context=ctx,
        dedup_key=dedup_key,
        next_attempt_dt=now,
        created_dt=now,
    )
    db.add(notification)
    db.flush()
    return notification


def patient_email(patient: Patient) -> str | None:
    """Where messages about a request go; None means a printed letter.

    The helper who filled the request in for the patient is the follow-up contact.
    """
    if patient.contact_preference == "letter":
        return None
    if patient.filled_by != "self" and patient.proxy_email:
        return patient.proxy_email
    return patient.email


def notify_patient(
    db: Session,
    request: PatientRequest,
    *,
    template: str,
    subject: str,
    dedup_key: str,
    now: datetime,
    context: dict[str, Any],
    with_name: bool = True,
) -> Notification:
    """Enqueue a message about a request for its contact (e-mail, or a letter to print).

    `with_name=False` keeps the first names out of the stored context, for messages that
    do not greet by name (an acknowledgement says nothing of who the request is for).
    """
    name = {"first_names": request.patient.first_names} if with_name else {}
    return enqueue(
        db, template=template, subject=subject, dedup_key=dedup_key, now=now,
        email=patient_email(request.patient), request_id=request.id, territory_id=request.territory_id,
        context={"reference": request.reference, **name,
                 "territory_name": request.territory.name, "cpts": contact_context(request.territory),
                 "short_code": format_short_code(request.short_code or ""),
                 **context},
    )


def render(template: str, context: dict[str, Any]) -> tuple[str, str]:
    """Return the (plain text, HTML) bodies of a message."""
    text = _env.get_template(f"{template}.txt").render(**context)
    html = _env.get_template(f"{template}.html").render(**context)
    if "cpts" in context:
        # every message to a patient ends with how to reach the CPTS, and whom to call when it is closed
        footer = {"cpts": context["cpts"], "out_of_hours": OUT_OF_HOURS_NUMBER,
                  "reference": context.get("reference", ""), "short_code": context.get("short_code", "")}
        text = text.rstrip("\n") + "\n\n" + _env.get_template("_contact.txt").render(**footer)
        html = html.replace("</body>", _env.get_template("_contact.html").render(**footer) + "\n</body>", 1)
    return text, html
