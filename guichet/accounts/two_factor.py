"""Second factor: a code from an authenticator app (TOTP, RFC 6238) and single-use recovery codes.

Rules owned here:

- who must have one: admins when ``REQUIRE_2FA_ADMINS`` (production), coordinators when
  ``REQUIRE_2FA_STAFF``; GPs and partners choose for themselves;
- codes of 6 digits every 30 seconds, accepted one step before or after the app's clock
  (pyotp); a code accepted once is never accepted again (the last used step is stored and
  only a later one passes, even for two requests at the same instant);
- 10 recovery codes, each usable once, stored as SHA-256 only and shown once;
- wrong codes go through the login throttling (:mod:`guichet.accounts.throttling`): growing
  delays per address, per account and per pair, and the owner is told after repeated failures.

The time is always the app clock's ``now``, never the machine's.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import pyotp
from pyotp.exceptions import OTPVerificationError
from pyotp.utils import strings_equal
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from guichet.accounts import audit, throttling, users
from guichet.messaging import notifications
from guichet.models import RecoveryCode, Role, User

ISSUER = "Guichet CPTS"
STEP_SECONDS = 30
DIGITS = 6
#: steps accepted on either side of the current one (a phone a little early or late)
VALID_WINDOW = 1
RECOVERY_CODE_COUNT = 10
#: letters and digits that cannot be mistaken for one another on paper (no 0/o, 1/l/i)
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
RECOVERY_CODE_LENGTH = 10

WRONG_CODE = ("Ce code n'est pas le bon. Tapez les 6 chiffres affichés en ce moment par votre application "
              "d'authentification (vérifiez que l'heure du téléphone est à jour), ou l'un de vos codes de secours.")
CODE_ALREADY_USED = ("Ce code vient déjà de servir. Attendez que votre application en affiche un nouveau "
                     "(toutes les 30 secondes) et tapez-le.")


class TwoFactorError(users.AccountError):
    """A French message for the person using the form."""


class InvalidCode(TwoFactorError):
    pass


class CodeAlreadyUsed(InvalidCode):
    """A right code, but its time step was already used: a replay."""


def is_required(user: User, *, require_admins: bool, require_staff: bool) -> bool:
    """Whether this account may only be used once a second factor is enrolled."""
    if user.role == Role.ADMIN:
        return require_admins
    if user.role == Role.STAFF:
        return require_staff
    return False


def pending_secret(db: Session, user: User) -> str:
    """The secret of the enrolment in progress, made on first call (a reload keeps the same QR code).

    Raises TwoFactorError when a second factor is already in force.
    """
    if user.has_second_factor:
        raise TwoFactorError("La double authentification est déjà activée sur votre compte.")
    if not user.totp_secret:
        user.totp_secret = pyotp.random_base32()  # 160 bits, as RFC 4226 recommends
        user.totp_last_step = None
        db.flush()
    return user.totp_secret


def provisioning_uri(user: User, secret: str) -> str:
    """The otpauth:// address the QR code carries (Key Uri Format of the authenticator apps)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=user.email, issuer_name=ISSUER)


def secret_in_groups(secret: str) -> str:
    """The secret in groups of four, to type by hand when the QR code cannot be scanned."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def confirm_enrolment(db: Session, user: User, code: str, *, now: datetime, ip: str | None,
                      max_delay: timedelta, notice_after: int) -> list[str]:
    """Put the second factor in force once the app shows the right code; return the recovery codes.

    Raises InvalidCode, users.LoginThrottled, or TwoFactorError (nothing to confirm).
    """
    if user.has_second_factor or not user.totp_secret:
        raise TwoFactorError("Aucune activation en cours : rechargez la page pour recommencer.")
    _check(db, user, code, now=now, ip=ip, max_delay=max_delay, notice_after=notice_after, recovery=False)
    user.totp_enrolled_dt = now
    codes = _new_recovery_codes(db, user, now=now)
    audit.record(db, "two_factor.enrol", now=now, user_id=user.id, object_type="user", object_id=user.id, ip=ip)
    db.flush()
    return codes


def complete_login(db: Session, user: User, code: str, *, now: datetime, ip: str | None,
                   max_delay: timedelta, notice_after: int) -> str:
    """The second step of signing in: check the code, then count the login as done.

    Returns "totp" or "recovery_code". Raises InvalidCode or users.LoginThrottled.
    """
    method = _check(db, user, code, now=now, ip=ip, max_delay=max_delay, notice_after=notice_after)
    users.finish_login(db, user, now=now, ip=ip, second_factor=method)
    return method


def renew_recovery_codes(db: Session, user: User, code: str, *, now: datetime, ip: str | None,
                         max_delay: timedelta, notice_after: int) -> list[str]:
    """Replace every recovery code (the old ones stop working) after a current code.

    Raises InvalidCode, users.LoginThrottled or TwoFactorError (no second factor).
    """
    if not user.has_second_factor:
        raise TwoFactorError("La double authentification n'est pas activée sur votre compte.")
    _check(db, user, code, now=now, ip=ip, max_delay=max_delay, notice_after=notice_after)
    codes = _new_recovery_codes(db, user, now=now)
    audit.record(db, "two_factor.recovery_codes_renewed", now=now, user_id=user.id, object_type="user",
                 object_id=user.id, ip=ip)
    db.flush()
    return codes


def disable(db: Session, user: User, *, password: str, code: str, now: datetime, ip: str | None,
            max_delay: timedelta, notice_after: int) -> None:
    """Remove the second factor, with the password and a current code.

    Raises users.LoginFailed (password), InvalidCode, users.LoginThrottled or TwoFactorError.
    """
    if not user.has_second_factor:
        raise TwoFactorError("La double authentification n'est pas activée sur votre compte.")
    if not users.verify_password(user, password):
        _count_failure(db, user, now=now, ip=ip, max_delay=max_delay, notice_after=notice_after, cause="password")
        raise users.LoginFailed("Le mot de passe n'est pas le bon.")
    _check(db, user, code, now=now, ip=ip, max_delay=max_delay, notice_after=notice_after)
    _remove(db, user)
    audit.record(db, "two_factor.disable", now=now, user_id=user.id, object_type="user", object_id=user.id, ip=ip)
    _tell_owner(db, user, "disabled", now=now)
    db.flush()


def reset_by_admin(db: Session, user: User, *, by: User | None, now: datetime, ip: str | None = None) -> None:
    """An admin removes someone's second factor (a lost phone): every session of theirs ends.

    The person signs in with the password alone and enrols again (at once if their role
    requires it). `by` is None for the server's operator (command `reset-two-factor`).
    """
    _remove(db, user)
    users.end_sessions(user)
    detail = {} if by is not None else {"via": "cli"}
    audit.record(db, "two_factor.reset", now=now, user_id=by.id if by else None, object_type="user",
                 object_id=user.id, territory_id=by.territory_id if by else user.territory_id, ip=ip, **detail)
    _tell_owner(db, user, "reset", now=now)
    db.flush()


def remaining_recovery_codes(db: Session, user: User) -> int:
    return int(db.scalar(select(func.count()).select_from(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_dt.is_(None))) or 0)


def format_recovery_code(code: str) -> str:
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"


def _normalise(code: str) -> str:
    return "".join(c for c in code.lower() if c.isalnum())


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def _new_recovery_codes(db: Session, user: User, *, now: datetime) -> list[str]:
    db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = ["".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
             for _ in range(RECOVERY_CODE_COUNT)]
    db.add_all(RecoveryCode(user_id=user.id, code_hash=_hash(code), created_dt=now) for code in codes)
    db.flush()
    return [format_recovery_code(code) for code in codes]


def _remove(db: Session, user: User) -> None:
    user.totp_secret = None
    user.totp_enrolled_dt = None
    user.totp_last_step = None
    db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def _check(db: Session, user: User, code: str, *, now: datetime, ip: str | None, max_delay: timedelta,
           notice_after: int, recovery: bool = True) -> str:
    """Accept a current app code (or a recovery code) once, through the login throttling."""
    wait = throttling.wait_seconds(db, user.email, ip, now=now)
    if wait:
        audit.record(db, "login_throttled", now=now, user_id=user.id, ip=ip, step="second_factor")
        raise users.LoginThrottled(wait)
    typed = _normalise(code)
    try:
        if typed.isdigit() and len(typed) == DIGITS:
            _use_totp(db, user, typed, now=now)
            method = "totp"
        elif recovery and len(typed) == RECOVERY_CODE_LENGTH:
            remaining = _use_recovery_code(db, user, typed, now=now)
            audit.record(db, "two_factor.recovery_code_used", now=now, user_id=user.id, object_type="user",
                         object_id=user.id, ip=ip, remaining=remaining)
            _tell_owner(db, user, "recovery_code", now=now, remaining=remaining)
            method = "recovery_code"
        else:
            raise InvalidCode(WRONG_CODE)
    except InvalidCode as exc:
        cause = "code_replayed" if isinstance(exc, CodeAlreadyUsed) else "code"
        _count_failure(db, user, now=now, ip=ip, max_delay=max_delay, notice_after=notice_after, cause=cause)
        raise
    return method


def _use_totp(db: Session, user: User, code: str, *, now: datetime) -> None:
    totp = pyotp.TOTP(user.totp_secret or "", digits=DIGITS, interval=STEP_SECONDS)
    try:
        step = totp.verify_and_get_timecode(code, for_time=now, valid_window=VALID_WINDOW)
    except OTPVerificationError:
        raise InvalidCode(WRONG_CODE) from None
    # conditional update: of two requests with the same code, only one moves the step on
    moved = db.execute(
        update(User)
        .where(User.id == user.id, or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if not moved:
        raise CodeAlreadyUsed(CODE_ALREADY_USED)
    user.totp_last_step = step
    db.flush()


def _use_recovery_code(db: Session, user: User, code: str, *, now: datetime) -> int:
    """Spend one unused recovery code; return how many are left. Raises InvalidCode."""
    digest = _hash(code)
    rows = db.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.used_dt.is_(None)))
    match = next((row for row in rows if strings_equal(row.code_hash, digest)), None)
    if match is None:
        raise InvalidCode(WRONG_CODE)
    spent = db.execute(
        update(RecoveryCode).where(RecoveryCode.id == match.id, RecoveryCode.used_dt.is_(None))
        .values(used_dt=now).execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if not spent:  # the same code used at the same instant by another request
        raise InvalidCode(WRONG_CODE)
    match.used_dt = now
    db.flush()
    return remaining_recovery_codes(db, user)


SUBJECTS = {
    "disabled": "Double authentification désactivée sur votre compte",
    "reset": "Double authentification réinitialisée sur votre compte",
    "recovery_code": "Un code de secours a servi à vous connecter",
}


def _tell_owner(db: Session, user: User, event: str, *, now: datetime, remaining: int = 0) -> None:
    """E-mail the account's owner: a change they did not make means someone else has their password."""
    notifications.enqueue(
        db, template="two_factor_changed", subject=SUBJECTS[event], now=now, email=user.email, user_id=user.id,
        dedup_key=f"two-factor:{user.id}:{event}:{now.isoformat()}:{remaining}",
        context={"full_name": user.full_name, "event": event, "remaining": remaining},
    )


def _count_failure(db: Session, user: User, *, now: datetime, ip: str | None, max_delay: timedelta,
                   notice_after: int, cause: str) -> None:
    users.count_failure(db, user.email, user, now=now, ip=ip, max_delay=max_delay, notice_after=notice_after,
                        cause=cause)
