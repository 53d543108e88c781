"""Login manager, role decorators, idle timeout and security headers."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask, Response, abort, current_app, flash, g, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import LoginManager, current_user, login_user, logout_user

from guichet.accounts import two_factor
from guichet.models import Role, User
from guichet.web.access import audit_denied
from guichet.web.session import get_session, request_now

F = TypeVar("F", bound=Callable[..., Any])

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Veuillez vous connecter pour accéder à cette page."
login_manager.login_message_category = "info"
login_manager.session_protection = "strong"


class SessionUser:
    """Flask-Login's view of a User: the id carries the session nonce.

    Logging out changes the nonce, so an old copy of the cookie stops working.
    """

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def __init__(self, user: User) -> None:
        self.user = user

    def get_id(self) -> str:
        return f"{self.user.id}:{self.user.session_nonce}"

    def __getattr__(self, name: str) -> Any:
        return getattr(self.user, name)


@login_manager.user_loader
def _load_user(user_id: str) -> SessionUser | None:
    uid, _, nonce = user_id.partition(":")
    if not uid.isdigit():
        return None
    user = get_session().get(User, int(uid))
    if user is None or not user.is_active or not nonce or user.session_nonce != nonce:
        return None
    return SessionUser(user)


def role_required(*roles: str) -> Callable[[F], F]:
    """Allow only signed-in users with one of these roles; others get 403 (audited)."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                audit_denied("role")
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


staff_required = role_required(Role.STAFF, Role.ADMIN)
admin_required = role_required(Role.ADMIN)
doctor_required = role_required(Role.DOCTOR)
partner_required = role_required(Role.PARTNER)
signed_in_required = role_required(Role.STAFF, Role.ADMIN, Role.DOCTOR, Role.PARTNER)

#: minutes a password-checked sign-in may wait for its code; meanwhile the session grants nothing
PENDING_LOGIN_MINUTES = 5
#: blueprints an account that must enrol a second factor cannot use before it has
SECOND_FACTOR_GATED = {"staff", "doctors", "partners"}


def login_throttle_settings() -> dict[str, Any]:
    """The login throttling's settings, for every step that checks a password or a code."""
    cfg = current_app.config
    return {"max_delay": timedelta(minutes=int(cfg["LOGIN_MAX_DELAY_MINUTES"])),
            "notice_after": int(cfg["LOGIN_NOTICE_AFTER"])}


def second_factor_required(user: User) -> bool:
    cfg = current_app.config
    return two_factor.is_required(user, require_admins=bool(cfg.get("REQUIRE_2FA_ADMINS")),
                                  require_staff=bool(cfg.get("REQUIRE_2FA_STAFF")))


def start_pending_login(user: User, next_url: str | None) -> None:
    """The password is right and a code must follow: remember who, briefly, without signing in."""
    session.clear()
    session["pending_login"] = {"user_id": user.id, "nonce": user.session_nonce,
                                "at": request_now().timestamp(), "next": next_url or ""}


def pending_login() -> tuple[User, str] | None:
    """(the account waiting for its code, where to go next), or None when there is none or it expired."""
    data = session.get("pending_login")
    if not isinstance(data, dict) or not str(data.get("user_id", "")).isdigit():
        return None
    if request_now().timestamp() - float(data.get("at") or 0) > PENDING_LOGIN_MINUTES * 60:
        return None
    user = get_session().get(User, int(data["user_id"]))
    if user is None or not user.is_active or user.session_nonce != data.get("nonce") or not user.has_second_factor:
        return None
    return user, str(data.get("next") or "")


def start_session(user: User) -> None:
    """Sign `user` in on a brand-new session (nothing from before survives) and start its clocks."""
    session.clear()
    login_user(SessionUser(user))
    now = request_now().timestamp()
    session["last_seen"] = session["signed_in_at"] = now


def _end_session(message: str) -> ResponseReturnValue:
    logout_user()
    session.clear()
    flash(message, "info")
    return redirect(url_for("auth.login", next=request.path))


CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


def trusted_hosts(config: Mapping[str, Any]) -> list[str]:
    """The host names this service answers for: BASE_URL's, plus ALLOWED_HOSTS (comma-separated)."""
    hosts = [urlsplit(str(config["BASE_URL"])).hostname or ""]
    hosts += [h.strip() for h in str(config.get("ALLOWED_HOSTS") or "").split(",") if h.strip()]
    return [h for h in hosts if h]


def _harden_for_production(app: Flask) -> None:
    # In production these are not settings: a request for another host (a forged Host header)
    # gets a 400, cookies travel over HTTPS only and browsers are told to stay on HTTPS.
    if app.config.get("ENV") != "production":
        return
    app.config["TRUSTED_HOSTS"] = trusted_hosts(app.config)
    app.config["SESSION_COOKIE_SECURE"] = True


def init_security(app: Flask) -> None:
    login_manager.init_app(app)
    _harden_for_production(app)
    idle = timedelta(minutes=int(app.config["IDLE_TIMEOUT_MINUTES"]))
    lifetime = timedelta(hours=int(app.config["SESSION_MAX_HOURS"]))
    app.config["PERMANENT_SESSION_LIFETIME"] = idle
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["REMEMBER_COOKIE_DURATION"] = timedelta(seconds=0)

    @app.before_request
    def _idle_timeout() -> ResponseReturnValue | None:
        session.permanent = True
        now = request_now().timestamp()
        last = session.get("last_seen")
        signed_in = session.get("signed_in_at")
        if "_user_id" in session:
            if last is not None and now - float(last) > idle.total_seconds():
                return _end_session("Votre session a expiré après une période d'inactivité. Reconnectez-vous.")
            # an absolute limit too: a stolen session cookie kept busy does not live for ever
            if signed_in is None or now - float(signed_in) > lifetime.total_seconds():
                return _end_session("Par sécurité, une session dure au plus "
                                    f"{int(lifetime.total_seconds() // 3600)} heures. Reconnectez-vous.")
        session["last_seen"] = now
        return None

    @app.before_request
    def _second_factor_gate() -> ResponseReturnValue | None:
        # an account whose role requires a second factor reaches nothing but its enrolment
        if request.blueprint not in SECOND_FACTOR_GATED or not current_user.is_authenticated:
            return None
        user = current_user.user
        if user.has_second_factor or not second_factor_required(user):
            return None
        return redirect(url_for("auth.two_factor"))

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        # tracking links carry a secret token: never send it to another site
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Permissions-Policy"] = "geolocation=(), camera=(), microphone=()"
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
        if getattr(g, "no_store", False) or current_user.is_authenticated:
            response.headers["Cache-Control"] = "no-store"
        return response
