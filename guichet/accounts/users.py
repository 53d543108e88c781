"""Accounts: passwords (argon2id, CNIL 2022 policy), login with lockout, one-time tokens."""

from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guichet.accounts import audit, throttling
from guichet.accounts.common_passwords import is_common_password
from guichet.identifiers import InvalidIdentifier, normalise_email
from guichet.messaging import notifications
from guichet.models import Notification, Role, Territory, User, UserToken
from guichet.timeutil import as_utc

_hasher = PasswordHasher()  # argon2id with the library's RFC 9106 low-memory profile

#: a password of this length or more counts as a passphrase (CNIL 2022, case 1b)
PASSPHRASE_LENGTH = 20
MIN_LENGTH = 12
INVITATION_VALIDITY = timedelta(days=7)
RESET_VALIDITY = timedelta(hours=1)
#: same answer whether the e-mail exists, is locked or the password is wrong
LOGIN_FAILED_MESSAGE = "Adresse e-mail ou mot de passe incorrect."


class AccountError(ValueError):
    """A French message for the person using the form."""


class WeakPassword(AccountError):
    pass


class LoginFailed(AccountError):
    pass


class InvalidToken(AccountError):
    pass


class LoginThrottled(AccountError):
    """Too many failures for this e-mail or from this address: wait `seconds`."""

    def __init__(self, seconds: int) -> None:
        self.seconds = seconds
        wait = f"{seconds} secondes" if seconds < 120 else f"{(seconds + 59) // 60} minutes"
        super().__init__(f"Trop de tentatives de connexion. Réessayez dans {wait}.")


def password_problems(password: str) -> list[str]:
    """What the password lacks, in French; empty when it follows the CNIL 2022 advice.

    Either 12 characters or more mixing the four kinds (upper case, lower case, digits,
    special characters), or a passphrase of 20 characters or more.
    """
    if len(password) >= PASSPHRASE_LENGTH:
        return [] if len(set(password)) >= 8 else ["une phrase de passe plus variée"]
    missing = []
    if len(password) < MIN_LENGTH:
        missing.append(f"au moins {MIN_LENGTH} caractères (il y en a {len(password)})")
    if not any(c.islower() for c in password):
        missing.append("une lettre minuscule")
    if not any(c.isupper() for c in password):
        missing.append("une lettre majuscule")
    if not any(c.isdigit() for c in password):
        missing.append("un chiffre")
    if all(c.isalnum() for c in password):
        missing.append("un caractère spécial (par exemple ! ? % @ #)")
    return missing


def check_password_policy(password: str) -> None:
    """Raise WeakPassword unless the password follows the CNIL advice and is not a common one."""
    problems = password_problems(password)
    if not problems and is_common_password(password):
        problems = ["un mot de passe qui ne soit pas l'un des plus répandus (mot courant, prénom, suite de "
                    "touches du clavier, complété de chiffres)"]
    if problems:
        raise WeakPassword(
            "Mot de passe trop faible : il manque "
            + ", ".join(problems)
            + f". Vous pouvez aussi choisir une phrase de passe d'au moins "
            f"{PASSPHRASE_LENGTH} caractères."
        )


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(user: User, password: str) -> bool:
    return bool(user.password_hash) and _verify(user.password_hash or "", password)


def set_password(user: User, password: str, *, now: datetime) -> None:
    """Check the policy, store the hash and end every other session (raises WeakPassword)."""
    check_password_policy(password)
    user.password_hash = hash_password(password)
    user.password_changed_dt = now
    user.session_nonce = secrets.token_hex(16)


def find_user_by_email(db: Session, email: str) -> User | None:
    return db.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def create_user(
    db: Session,
    *,
    email: str,
    full_name: str,
    role: str,
    now: datetime,
    password: str | None = None,
    password_hash: str | None = None,
    territory_id: int | None = None,
    doctor_id: int | None = None,
    partner_id: int | None = None,
) -> User:
    """Create an account; without a password the user must be invited.

    `password_hash` is a hash made by :func:`hash_password` from a password that passed
    the policy (the demo hashes its one password once for all its accounts).
    Raises AccountError (bad e-mail, role, duplicate) or WeakPassword.
    """
    try:
        email = normalise_email(email)
    except InvalidIdentifier as exc:
        raise AccountError(str(exc)) from exc
    if role not in {r.value for r in Role}:
        raise AccountError("Rôle inconnu : choisissez staff, admin ou doctor.")
    if role in (Role.STAFF, Role.ADMIN) and territory_id is None:
        raise AccountError("Un compte de coordination est rattaché à un territoire.")
    if role == Role.DOCTOR and doctor_id is None:
        raise AccountError("Un compte médecin est rattaché à une fiche médecin.")
    if role == Role.PARTNER and partner_id is None:
        raise AccountError("Un compte partenaire est rattaché à une organisation partenaire.")
    if find_user_by_email(db, email) is not None:
        raise AccountError(f"Un compte existe déjà pour {email}.")
    user = User(
        email=email,
        full_name=full_name.strip(),
        role=role,
        territory_id=territory_id,
        doctor_id=doctor_id,
        partner_id=partner_id,
        session_nonce=secrets.token_hex(16),
        created_dt=now,
    )
    if password is not None:
        set_password(user, password, now=now)
    elif password_hash is not None:
        user.password_hash, user.password_changed_dt = password_hash, now
    db.add(user)
    db.flush()
    return user


def authenticate(
    db: Session,
    email: str,
    password: str,
    *,
    now: datetime,
    ip: str | None = None,
    max_delay: timedelta = timedelta(minutes=15),
    notice_after: int = 5,
) -> User:
    """Return the user for these credentials or raise LoginFailed / LoginThrottled.

    Every attempt costs one argon2 verification, whether the address is unknown, the
    account inactive or the attempt throttled, so that timing tells nothing. Failures
    grow delays (:mod:`guichet.accounts.throttling`), never a lock of the account; after
    `notice_after` failures in a row the owner is told by e-mail.
    """
    wait = throttling.wait_seconds(db, email, ip, now=now)
    user = find_user_by_email(db, email)
    usable = user is not None and user.is_active and bool(user.password_hash) and not wait
    stored = user.password_hash if usable and user is not None else _dummy_hash()
    matches = _verify(stored or "", password)
    if wait:
        audit.record(db, "login_throttled", now=now, user_id=user.id if user else None, ip=ip)
        raise LoginThrottled(wait)
    if user is None or not usable or not matches:
        cause = "unknown_email" if user is None else ("inactive" if not user.is_active else "password")
        count_failure(db, email, user, now=now, ip=ip, max_delay=max_delay, notice_after=notice_after, cause=cause)
        raise LoginFailed(LOGIN_FAILED_MESSAGE)
    if _hasher.check_needs_rehash(user.password_hash or ""):
        user.password_hash = hash_password(password)
    if user.has_second_factor:
        # the password is right, the code is still to come (guichet.accounts.two_factor): the
        # failure counts stay until then, or a known password would reset the code's delays
        audit.record(db, "login.password", now=now, user_id=user.id, ip=ip)
        db.flush()
        return user
    finish_login(db, user, now=now, ip=ip)
    return user


def finish_login(db: Session, user: User, *, now: datetime, ip: str | None, second_factor: str | None = None) -> None:
    """Count a sign-in as done: this person's failure counts start again, audit row."""
    throttling.record_success(db, user.email, ip)
    user.last_login_dt = now
    detail: dict[str, Any] = {"second_factor": second_factor} if second_factor else {}
    audit.record(db, "login", now=now, user_id=user.id, ip=ip, **detail)
    db.flush()


def count_failure(db: Session, email: str, user: User | None, *, now: datetime, ip: str | None,
                  max_delay: timedelta, notice_after: int, cause: str) -> None:
    """Count one failed sign-in step (password or code).

    Growing delays, an audit row, and the owner told after `notice_after` failures in a row.
    """
    failures = throttling.record_failure(db, email, ip, now=now, max_delay=max_delay)
    audit.record(db, "login_failed", now=now, user_id=user.id if user else None, ip=ip, cause=cause)
    if user is not None and user.is_active and failures == notice_after:
        _notify_failures(db, user, failures, now=now)
    db.flush()


@functools.cache
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_hex(16))


def _verify(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def _notify_failures(db: Session, user: User, failures: int, *, now: datetime) -> None:
    notifications.enqueue(
        db, template="login_failures", subject="Tentatives de connexion à votre compte",
        dedup_key=f"login-failures:{user.id}:{now:%Y-%m-%d}", now=now, email=user.email, user_id=user.id,
        context={"full_name": user.full_name, "failures": failures},
    )


def end_sessions(user: User) -> None:
    """Invalidate every session cookie of this user (logout, password change)."""
    user.session_nonce = secrets.token_hex(16)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(db: Session, user: User, purpose: str, *, now: datetime) -> str:
    """Create a single-use token (reset or invitation) and return its clear value.

    Earlier unused tokens of the same purpose stop working.
    """
    for old in db.scalars(
        select(UserToken).where(
            UserToken.user_id == user.id, UserToken.purpose == purpose, UserToken.used_dt.is_(None)
        )
    ):
        old.used_dt = now
    token = secrets.token_urlsafe(32)
    validity = INVITATION_VALIDITY if purpose == "invitation" else RESET_VALIDITY
    db.add(
        UserToken(
            user_id=user.id,
            purpose=purpose,
            token_hash=_token_hash(token),
            expires_dt=now + validity,
            created_dt=now,
        )
    )
    db.flush()
    return token


def peek_token(db: Session, token: str, *, now: datetime) -> UserToken:
    """Return the live token row without using it; raise InvalidToken."""
    row = db.scalar(select(UserToken).where(UserToken.token_hash == _token_hash(token)))
    if row is None or row.used_dt is not None or as_utc(row.expires_dt) <= now:
        raise InvalidToken(
            "Ce lien n'est plus valable (déjà utilisé ou expiré). Demandez-en un nouveau."
        )
    return row


def use_token(db: Session, token: str, new_password: str, *, now: datetime) -> User:
    """Set a password from a reset or invitation link; the link then stops working.

    Raises InvalidToken or WeakPassword (the token is kept usable after a weak password).
    """
    row = peek_token(db, token, now=now)
    set_password(row.user, new_password, now=now)
    row.used_dt = now
    row.user.failed_logins = 0
    row.user.locked_until_dt = None
    audit.record(db, f"password_set.{row.purpose}", now=now, user_id=row.user_id)
    db.flush()
    return row.user


def send_invitation(
    db: Session,
    user: User,
    *,
    territory: Territory,
    now: datetime,
    link_for: Callable[[str], str],
    greeting_name: str | None = None,
) -> Notification:
    """Issue an invitation token and e-mail its link; earlier invitation links stop working.

    `link_for(token)` builds the absolute link to the invitation page.
    """
    token = issue_token(db, user, "invitation", now=now)
    return notifications.enqueue(
        db, template="invitation", subject="Votre compte sur le guichet de la CPTS",
        dedup_key=f"invitation:{user.id}:{token[:12]}", now=now, email=user.email,
        user_id=user.id, territory_id=territory.id,
        context={"full_name": greeting_name or user.full_name, "territory_name": territory.name,
                 "link": link_for(token), "email": user.email},
    )


def request_password_reset(
    db: Session, email: str, *, now: datetime, link_for: Callable[[str], str], ip: str | None = None
) -> None:
    """E-mail a reset link (valid one hour) if an active account has this address.

    Says nothing either way: the caller shows the same message whether or not it exists.
    """
    user = find_user_by_email(db, email)
    if user is None or not user.is_active:
        return
    token = issue_token(db, user, "reset", now=now)
    notifications.enqueue(
        db, template="password_reset", subject="Choisir un nouveau mot de passe",
        dedup_key=f"reset:{user.id}:{token[:12]}", now=now, email=user.email, user_id=user.id,
        context={"full_name": user.full_name, "link": link_for(token)},
    )
    audit.record(db, "password_reset.requested", now=now, user_id=user.id, ip=ip)
    db.flush()
