"""Login manager, role decorators, idle timeout and security headers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, Response, abort, flash, g, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import LoginManager, current_user, logout_user

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


CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


def init_security(app: Flask) -> None:
    login_manager.init_app(app)
    idle = timedelta(minutes=int(app.config["IDLE_TIMEOUT_MINUTES"]))
    app.config["PERMANENT_SESSION_LIFETIME"] = idle
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["REMEMBER_COOKIE_DURATION"] = timedelta(seconds=0)

    @app.before_request
    def _idle_timeout() -> ResponseReturnValue | None:
        session.permanent = True
        now = request_now().timestamp()
        last = session.get("last_seen")
        if "_user_id" in session and last is not None and now - float(last) > idle.total_seconds():
            logout_user()
            session.clear()
            flash("Votre session a expiré après une période d'inactivité. Reconnectez-vous.", "info")
            return redirect(url_for("auth.login", next=request.path))
        session["last_seen"] = now
        return None

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
