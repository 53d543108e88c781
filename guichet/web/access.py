"""Object-level access: the one answer to "may this signed-in person open this record?".

Staff and admins see the records of their own territory; a GP sees their own proposals,
declarations and slots; a partner's user sees the referrals their organisation made.
Anything else is an audited 404, so that nothing reveals that a record exists. Every
staff, GP and partner view loads records through :func:`load_owned`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, NoReturn, TypeVar

from flask import abort, current_app, request
from flask_login import current_user

from guichet.accounts import audit
from guichet.models import (
    ApiKey,
    CapacityDeclaration,
    Doctor,
    ImportBatch,
    MatchingRun,
    Notification,
    Partner,
    PatientRequest,
    Proposal,
    Referral,
    Role,
    Slot,
    SlotPattern,
    Territory,
    User,
)
from guichet.web.hygiene import valid_id
from guichet.web.ratelimit import client_ip
from guichet.web.session import get_session, request_now

T = TypeVar("T")

#: territory of a record, for staff
_TERRITORY_OF: dict[type, Callable[[Any], int | None]] = {
    PatientRequest: lambda r: r.territory_id,
    Doctor: lambda d: d.territory_id,
    MatchingRun: lambda r: r.territory_id,
    ImportBatch: lambda b: b.territory_id,
    User: lambda u: u.territory_id,
    Proposal: lambda p: p.request.territory_id,
    Slot: lambda s: s.doctor.territory_id,
    SlotPattern: lambda p: p.doctor.territory_id,
    CapacityDeclaration: lambda c: c.doctor.territory_id,
    Notification: lambda n: n.territory_id,
    Partner: lambda p: p.territory_id,
    ApiKey: lambda k: k.partner.territory_id,
    Referral: lambda r: r.partner.territory_id,
}

#: GP owning a record, for the GP portal
_DOCTOR_OF: dict[type, Callable[[Any], int | None]] = {
    # a draft is the coordinators' business until it is sent to the GP
    Proposal: lambda p: p.doctor_id if p.sent_dt is not None else None,
    Slot: lambda s: s.doctor_id,
    SlotPattern: lambda p: p.doctor_id,
    CapacityDeclaration: lambda c: c.doctor_id,
    Doctor: lambda d: d.id,
}

#: partner organisation owning a record, for the partner portal
_PARTNER_OF: dict[type, Callable[[Any], int | None]] = {
    Referral: lambda r: r.partner_id,
}


def audit_denied(reason: str) -> None:
    """Record a refused access (committed at once: the request is about to end in an error)."""
    db = get_session()
    audit.record(
        db,
        "access_denied",
        now=request_now(),
        user_id=current_user.user.id if current_user.is_authenticated else None,
        ip=client_ip(),
        endpoint=request.endpoint,
        reason=reason,
    )
    db.commit()


def record_audit(action: str, **detail: Any) -> None:
    """An audit row for what the signed-in user does or reads now (ids and codes only)."""
    user = current_user_record()
    audit.record(get_session(), action, now=request_now(), user_id=user.id, territory_id=user.territory_id,
                 ip=client_ip(), **detail)


def audit_list(action: str, request_ids: Iterable[int], **codes: Any) -> None:
    """Audit a staff page that lists patients, committed at once (GET views commit nothing else).

    The row holds the ids shown and codes (filters, page), never search text: a searched name
    is personal data.
    """
    record_audit(action, request_ids=list(request_ids), **codes)
    get_session().commit()


def deny(reason: str = "object") -> NoReturn:
    """Refuse access to a record the user may not see: an audited 404, so nothing is revealed."""
    audit_denied(reason)
    abort(404)


def current_user_record() -> User:
    """The signed-in account (views are behind a role decorator)."""
    return current_user.user


def is_instance_admin(user: User) -> bool:
    """An administrator of the whole instance (INSTANCE_ADMIN_EMAILS), not only of one territory.

    Jobs run for every territory: their summaries and errors are for these people only.
    """
    emails = {e.strip().lower() for e in str(current_app.config.get("INSTANCE_ADMIN_EMAILS") or "").split(",")}
    return user.role == Role.ADMIN and user.email.lower() in emails


def current_territory() -> Territory:
    """The signed-in coordinator's territory; never every territory by mistake."""
    tid = current_user_record().territory_id
    territory = get_session().get(Territory, tid) if tid is not None else None
    if territory is None:
        deny("no_territory")
    return territory


def current_territory_id() -> int:
    return current_territory().id


def current_doctor() -> Doctor:
    """The signed-in GP's record (a GP account always has one; refuse rather than guess)."""
    doctor = current_user_record().doctor
    if doctor is None:
        deny("no_doctor")
    return doctor


def current_partner() -> Partner:
    """The signed-in partner user's organisation, if it is still active."""
    partner = current_user_record().partner
    if partner is None or not partner.is_active:
        deny("no_partner")
    return partner


def load_owned(model: type[T], object_id: int, *, reason: str = "object") -> T:
    """The record if the signed-in user may open it, else an audited 404.

    Staff and admins: the record belongs to their territory. GPs: the record is theirs.
    Partners' users: their organisation made it.
    """
    record = get_session().get(model, object_id) if valid_id(object_id) else None
    if record is None or not _owns(record):
        deny(reason)
    return record


def _owns(record: Any) -> bool:
    user = current_user_record()
    kind = type(record)
    if user.role in (Role.STAFF, Role.ADMIN):
        territory_of = _TERRITORY_OF.get(kind)
        return territory_of is not None and user.territory_id is not None and \
            territory_of(record) == user.territory_id
    if user.role == Role.DOCTOR:
        doctor_of = _DOCTOR_OF.get(kind)
        return doctor_of is not None and user.doctor_id is not None and doctor_of(record) == user.doctor_id
    if user.role == Role.PARTNER:
        partner_of = _PARTNER_OF.get(kind)
        return partner_of is not None and user.partner_id is not None and partner_of(record) == user.partner_id
    return False
