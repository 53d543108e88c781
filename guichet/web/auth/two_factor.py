"""The account's second factor: enrolment with a QR code, recovery codes, disabling (any signed-in user)."""

from __future__ import annotations

import segno
from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from markupsafe import Markup

from guichet.accounts import two_factor, users
from guichet.models import User
from guichet.web.access import current_user_record
from guichet.web.auth.blueprint import bp
from guichet.web.auth.forms import DisableSecondFactorForm, EnrolForm, RenewCodesForm
from guichet.web.ratelimit import client_ip
from guichet.web.security import login_throttle_settings, second_factor_required, signed_in_required
from guichet.web.session import get_session, request_now


def qr_code_svg(text: str) -> Markup:
    """The QR code as an inline <svg> element: no image request, nothing for the CSP to allow."""
    svg = segno.make(text, error="m").svg_inline(scale=5, light="#fff", omitsize=True, svgclass=None,
                                                  lineclass=None)
    return Markup(svg)  # noqa: S704 (segno's own markup: paths and numbers, nothing typed by anyone)


def _manage_page(user: User, renew: RenewCodesForm | None = None,
                 disable: DisableSecondFactorForm | None = None) -> ResponseReturnValue:
    renew = renew or RenewCodesForm(prefix="renew")
    disable = disable or DisableSecondFactorForm(prefix="disable")
    status = 422 if renew.errors or disable.errors else 200
    return render_template("auth/two_factor_manage.html", user=user, renew=renew, disable=disable,
                           remaining=two_factor.remaining_recovery_codes(get_session(), user),
                           total=two_factor.RECOVERY_CODE_COUNT, required=second_factor_required(user)), status


def _codes_page(codes: list[str], *, first: bool) -> ResponseReturnValue:
    return render_template("auth/recovery_codes.html", codes=codes, first=first)


@bp.route("/compte/double-authentification", methods=["GET", "POST"], endpoint="two_factor")
@signed_in_required
def two_factor_page() -> ResponseReturnValue:
    user = current_user_record()
    if user.has_second_factor:
        return _manage_page(user)
    db = get_session()
    secret = two_factor.pending_secret(db, user)
    db.commit()
    form = EnrolForm()
    if form.validate_on_submit():
        try:
            codes = two_factor.confirm_enrolment(db, user, form.code.data or "", now=request_now(), ip=client_ip(),
                                                 **login_throttle_settings())
        except users.AccountError as exc:  # InvalidCode, LoginThrottled
            db.commit()  # keep the failure count
            form.code.errors = [str(exc)]
        else:
            db.commit()
            return _codes_page(codes, first=True)
    return render_template(
        "auth/two_factor_enrol.html", form=form, required=second_factor_required(user),
        qr_code=qr_code_svg(two_factor.provisioning_uri(user, secret)),
        secret=two_factor.secret_in_groups(secret), issuer=two_factor.ISSUER,
    ), 422 if form.errors else 200


@bp.post("/compte/double-authentification/codes-de-secours")
@signed_in_required
def two_factor_renew_codes() -> ResponseReturnValue:
    user = current_user_record()
    if not user.has_second_factor:
        return redirect(url_for("auth.two_factor"))
    form = RenewCodesForm(prefix="renew")
    if form.validate_on_submit():
        db = get_session()
        try:
            codes = two_factor.renew_recovery_codes(db, user, form.code.data or "", now=request_now(),
                                                    ip=client_ip(), **login_throttle_settings())
        except users.AccountError as exc:
            db.commit()
            form.code.errors = [str(exc)]
        else:
            db.commit()
            return _codes_page(codes, first=False)
    return _manage_page(user, renew=form)


@bp.post("/compte/double-authentification/desactiver")
@signed_in_required
def two_factor_disable() -> ResponseReturnValue:
    user = current_user_record()
    if not user.has_second_factor:
        return redirect(url_for("auth.two_factor"))
    form = DisableSecondFactorForm(prefix="disable")
    if form.validate_on_submit():
        db = get_session()
        try:
            two_factor.disable(db, user, password=form.password.data or "", code=form.code.data or "",
                               now=request_now(), ip=client_ip(), **login_throttle_settings())
        except users.LoginFailed as exc:
            db.commit()
            form.password.errors = [str(exc)]
        except users.AccountError as exc:
            db.commit()
            form.code.errors = [str(exc)]
        else:
            db.commit()
            text = "La double authentification est désactivée et vos codes de secours ne servent plus."
            if second_factor_required(user):
                text += " Votre rôle l'impose : activez-la à nouveau, par exemple avec votre nouveau téléphone."
            flash(text, "success")
            return redirect(url_for("auth.two_factor"))
    return _manage_page(user, disable=form)
