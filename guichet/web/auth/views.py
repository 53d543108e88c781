"""Authentication views."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, logout_user

from guichet.accounts import audit, two_factor, users
from guichet.models import Role
from guichet.web.access import current_user_record
from guichet.web.auth.blueprint import bp
from guichet.web.auth.forms import ForgotPasswordForm, LoginForm, SecondFactorForm, SetPasswordForm
from guichet.web.links import external_url, safe_local_path
from guichet.web.ratelimit import client_ip, limiter
from guichet.web.security import (
    PENDING_LOGIN_MINUTES,
    login_throttle_settings,
    pending_login,
    second_factor_required,
    start_pending_login,
    start_session,
)
from guichet.web.session import get_session, request_now


def home_for(role: str) -> str:
    if role == Role.PARTNER:
        return url_for("partners.home")
    return url_for("doctors.home") if role == Role.DOCTOR else url_for("staff.dashboard")


@bp.route("/connexion", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(home_for(current_user.role))
    form = LoginForm()
    if form.validate_on_submit():
        if not limiter().hit("login", 30, window=900):
            abort(429)
        db = get_session()
        try:
            user = users.authenticate(db, form.email.data or "", form.password.data or "", now=request_now(),
                                      ip=client_ip(), **login_throttle_settings())
        except users.AccountError as exc:  # LoginFailed, LoginThrottled
            db.commit()  # keep the failure count and the audit row
            form.password.errors = [str(exc)]
        else:
            db.commit()
            next_url = safe_local_path(request.args.get("next"))
            if user.has_second_factor:
                start_pending_login(user, next_url)
                return redirect(url_for("auth.login_code"))
            start_session(user)
            if second_factor_required(user):
                return redirect(url_for("auth.two_factor"))
            return redirect(next_url or home_for(user.role))
    return render_template("auth/login.html", form=form)


@bp.route("/connexion/code", methods=["GET", "POST"])
def login_code() -> ResponseReturnValue:
    """The second step of signing in: the code of the authenticator app, or a recovery code."""
    if current_user.is_authenticated:
        return redirect(home_for(current_user.role))
    pending = pending_login()
    if pending is None:
        if session.pop("pending_login", None) is not None:
            flash(f"Le code n'a pas été saisi dans les {PENDING_LOGIN_MINUTES} minutes : reconnectez-vous.", "info")
        return redirect(url_for("auth.login"))
    user, next_url = pending
    form = SecondFactorForm()
    if form.validate_on_submit():
        if not limiter().hit("login", 30, window=900):
            abort(429)
        db = get_session()
        try:
            method = two_factor.complete_login(db, user, form.code.data or "", now=request_now(), ip=client_ip(),
                                               **login_throttle_settings())
        except users.AccountError as exc:  # InvalidCode, LoginThrottled
            db.commit()  # keep the failure count and the audit row
            form.code.errors = [str(exc)]
        else:
            db.commit()
            start_session(user)
            if method == "recovery_code":
                left = two_factor.remaining_recovery_codes(db, user)
                flash(f"Connexion faite avec un code de secours, qui ne servira plus ; il vous en reste {left}. "
                      "Si vous avez perdu votre téléphone, désactivez la double authentification puis activez-la "
                      "avec le nouveau (page « Double authentification »).", "info")
            return redirect(safe_local_path(next_url) or home_for(user.role))
    return render_template("auth/login_code.html", form=form)


@bp.post("/deconnexion")
def logout() -> ResponseReturnValue:
    if current_user.is_authenticated:
        db = get_session()
        user = current_user_record()
        users.end_sessions(user)
        audit.record(db, "logout", now=request_now(), user_id=user.id, ip=client_ip())
        db.commit()
    logout_user()
    session.clear()
    flash("Vous êtes déconnecté.", "success")
    return redirect(url_for("auth.login"))


@bp.route("/mot-de-passe-oublie", methods=["GET", "POST"])
def forgot_password() -> ResponseReturnValue:
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        if not limiter().hit("forgot", 10):
            abort(429)
        db = get_session()
        users.request_password_reset(
            db, form.email.data or "", now=request_now(), ip=client_ip(),
            link_for=lambda token: external_url("auth.reset_password", token=token),
        )
        db.commit()
        # the same answer whether the address has an account or not
        flash(
            "Si un compte existe pour cette adresse, un lien pour choisir un nouveau mot de "
            "passe va y être envoyé dans quelques minutes. Il est valable une heure.",
            "success",
        )
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot.html", form=form)


def _set_password_page(token: str, purpose: str, template: str) -> ResponseReturnValue:
    db = get_session()
    now = request_now()
    try:
        row = users.peek_token(db, token, now=now)
        if row.purpose != purpose:
            raise users.InvalidToken("Ce lien n'est plus valable. Demandez-en un nouveau.")
    except users.InvalidToken as exc:
        return render_template("auth/invalid_link.html", message=str(exc)), 410
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            user = users.use_token(db, token, form.password.data or "", now=now)
        except users.WeakPassword as exc:
            form.password.errors = [str(exc)]
        else:
            db.commit()
            flash("Votre mot de passe est enregistré. Vous pouvez vous connecter.", "success")
            return redirect(url_for("auth.login", email=user.email))
    return render_template(template, form=form, user=row.user)


@bp.route("/mot-de-passe/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> ResponseReturnValue:
    return _set_password_page(token, "reset", "auth/reset.html")


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def accept_invitation(token: str) -> ResponseReturnValue:
    return _set_password_page(token, "invitation", "auth/invitation.html")
