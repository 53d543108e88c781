"""Partner organisations of a territory and their user accounts, managed by its admins."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from guichet import vocabulary
from guichet.accounts import audit, users
from guichet.models import Partner, Role, Territory, User
from guichet.requests.validation import clean_text


class PartnerError(ValueError):
    """A French message explaining why the change is refused."""


def list_partners(db: Session, territory_id: int) -> list[Partner]:
    """The territory's partner organisations, active first, by name."""
    return list(db.scalars(
        select(Partner).where(Partner.territory_id == territory_id)
        .order_by(Partner.is_active.desc(), Partner.name)
    ))


def partner_users(db: Session, partner: Partner) -> list[User]:
    return list(db.scalars(select(User).where(User.partner_id == partner.id).order_by(User.full_name)))


def create_partner(db: Session, territory: Territory, *, name: str, kind: str, now: datetime,
                   by_id: int | None) -> Partner:
    """Add a partner organisation to the territory (raises PartnerError)."""
    clean = clean_text(name)
    if not clean:
        raise PartnerError("Indiquez le nom de l'organisation.")
    if kind not in vocabulary.PARTNER_KINDS:
        raise PartnerError("Choisissez le type d'organisation dans la liste.")
    partner = Partner(territory_id=territory.id, name=clean[:150], kind=kind, created_dt=now)
    db.add(partner)
    db.flush()
    audit.record(db, "partner.create", now=now, user_id=by_id, object_type="partner", object_id=partner.id,
                 territory_id=territory.id, kind=kind)
    return partner


def invite_partner_user(db: Session, partner: Partner, *, email: str, full_name: str, now: datetime,
                        link_for: Callable[[str], str], by_id: int | None) -> User:
    """Create an account for one of the partner's staff and e-mail an invitation link.

    The account logs in like the CPTS staff (same page, argon2id, lockout).
    Raises PartnerError or users.AccountError (e-mail invalid or taken).
    """
    if not partner.is_active:
        raise PartnerError("Cette organisation est désactivée : réactivez-la d'abord.")
    if not full_name.strip():
        raise PartnerError("Indiquez le nom de la personne.")
    user = users.create_user(db, email=email, full_name=full_name, role=Role.PARTNER, now=now,
                             territory_id=partner.territory_id, partner_id=partner.id)
    users.send_invitation(db, user, territory=partner.territory, now=now, link_for=link_for)
    audit.record(db, "user.invite", now=now, user_id=by_id, object_type="user", object_id=user.id,
                 territory_id=partner.territory_id, role=Role.PARTNER.value, partner_id=partner.id)
    db.flush()
    return user


def set_partner_active(db: Session, partner: Partner, active: bool, *, now: datetime, by_id: int | None) -> None:
    """Deactivate an organisation (its users' sessions end, its keys stop working) or reactivate it."""
    partner.is_active = active
    for user in partner_users(db, partner):
        user.is_active = active
        if not active:
            users.end_sessions(user)
    audit.record(db, "partner.activate" if active else "partner.deactivate", now=now, user_id=by_id,
                 object_type="partner", object_id=partner.id, territory_id=partner.territory_id)
    db.flush()
