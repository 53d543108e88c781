"""Staff accounts managed by a territory's admins: invitation, deactivation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from guichet.accounts import audit, two_factor, users
from guichet.models import Role, Territory, User

#: roles an admin may give from the console (GP accounts come with their Doctor record)
STAFF_ROLES = {Role.STAFF.value: "Coordination", Role.ADMIN.value: "Administration"}


class UserAdminError(ValueError):
    """A French message explaining why the account change is refused."""


def list_staff(db: Session, territory_id: int) -> list[User]:
    """Staff and admin accounts of a territory, by name."""
    return list(
        db.scalars(
            select(User)
            .where(User.territory_id == territory_id, User.role.in_(list(STAFF_ROLES)))
            .order_by(User.is_active.desc(), User.full_name)
        )
    )


def invite_user(
    db: Session,
    territory: Territory,
    *,
    email: str,
    full_name: str,
    role: str,
    now: datetime,
    link_for: Callable[[str], str],
    invited_by_id: int | None = None,
) -> User:
    """Create a staff or admin account without password and e-mail an invitation link.

    `link_for(token)` builds the absolute link to the invitation page.
    Raises UserAdminError (role) or users.AccountError (e-mail invalid or taken).
    """
    if role not in STAFF_ROLES:
        raise UserAdminError("Choisissez le rôle Coordination ou Administration.")
    if not full_name.strip():
        raise UserAdminError("Indiquez le nom de la personne.")
    user = users.create_user(
        db, email=email, full_name=full_name, role=role, now=now, territory_id=territory.id
    )
    users.send_invitation(db, user, territory=territory, now=now, link_for=link_for)
    audit.record(db, "user.invite", now=now, user_id=invited_by_id, object_type="user",
                 object_id=user.id, territory_id=territory.id, role=role)
    db.flush()
    return user


def resend_invitation(db: Session, user: User, territory: Territory, *, now: datetime,
                      link_for: Callable[[str], str], by_id: int | None = None) -> None:
    """A new invitation link (the previous one stops working).

    Raises UserAdminError when the account already has a password or is deactivated.
    """
    if user.password_hash:
        raise UserAdminError("Ce compte est déjà activé : la personne peut utiliser « Mot de passe oublié ».")
    if not user.is_active:
        raise UserAdminError("Ce compte est désactivé : réactivez-le d'abord.")
    users.send_invitation(db, user, territory=territory, now=now, link_for=link_for)
    audit.record(db, "user.reinvite", now=now, user_id=by_id, object_type="user",
                 object_id=user.id, territory_id=territory.id)
    db.flush()


def set_active(db: Session, user: User, active: bool, *, now: datetime, by: User) -> None:
    """Deactivate (every session ends at once) or reactivate an account.

    Raises UserAdminError when an admin tries to deactivate their own account.
    """
    if not active and user.id == by.id:
        raise UserAdminError("Vous ne pouvez pas désactiver votre propre compte.")
    user.is_active = active
    if not active:
        users.end_sessions(user)
    audit.record(db, "user.activate" if active else "user.deactivate", now=now, user_id=by.id,
                 object_type="user", object_id=user.id, territory_id=user.territory_id)
    db.flush()


def reset_two_factor(db: Session, user: User, *, now: datetime, by: User, ip: str | None = None) -> None:
    """Remove someone's second factor (a lost phone); audited, their sessions end.

    Raises UserAdminError for one's own account (disable it from one's own page, with a code)
    or an account without a second factor.
    """
    if user.id == by.id:
        raise UserAdminError("Pour votre propre compte, passez par la page « Double authentification ».")
    if not user.has_second_factor:
        raise UserAdminError("Ce compte n'a pas de double authentification activée : rien à réinitialiser.")
    two_factor.reset_by_admin(db, user, by=by, now=now, ip=ip)
