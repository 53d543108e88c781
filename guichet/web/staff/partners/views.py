"""Partner organisations: creation, their users' invitations, API keys shown once (admins only)."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from guichet import vocabulary
from guichet.accounts import users
from guichet.models import ApiKey, Partner
from guichet.partners import api_keys, organisations
from guichet.web.access import current_territory, current_territory_id, current_user_record, load_owned
from guichet.web.forms import ButtonForm
from guichet.web.links import invitation_link
from guichet.web.security import admin_required
from guichet.web.session import get_session, request_now
from guichet.web.staff.blueprint import bp
from guichet.web.staff.partners.forms import ApiKeyForm, PartnerForm, PartnerUserForm


@bp.route("/admin/partenaires", methods=["GET", "POST"])
@admin_required
def admin_partners() -> ResponseReturnValue:
    db = get_session()
    form = PartnerForm()
    if form.validate_on_submit():
        try:
            partner = organisations.create_partner(db, current_territory(), name=form.name.data or "",
                                                   kind=form.kind.data or "", now=request_now(),
                                                   by_id=current_user_record().id)
        except organisations.PartnerError as exc:
            db.rollback()
            form.name.errors = [*form.name.errors, str(exc)]
        else:
            db.commit()
            flash(f"L'organisation {partner.name} est ajoutée : invitez maintenant ses utilisateurs.", "success")
            return redirect(url_for("staff.admin_partner", partner_id=partner.id))
    return render_template("staff/admin_partners.html", form=form, kinds=vocabulary.PARTNER_KINDS,
                           partners=organisations.list_partners(db, current_territory_id())), \
        422 if form.errors else 200


def _partner_page(partner: Partner, *, user_form: PartnerUserForm | None = None,
                  key_form: ApiKeyForm | None = None, new_secret: str | None = None) -> ResponseReturnValue:
    db = get_session()
    status = 422 if (user_form and user_form.errors) or (key_form and key_form.errors) else 200
    return render_template(
        "staff/admin_partner.html", partner=partner, kinds=vocabulary.PARTNER_KINDS, scopes=vocabulary.API_SCOPES,
        users=organisations.partner_users(db, partner), keys=api_keys.list_keys(db, partner),
        user_form=user_form or PartnerUserForm(formdata=None), key_form=key_form or ApiKeyForm(formdata=None),
        button=ButtonForm(), new_secret=new_secret,
    ), status


@bp.get("/admin/partenaires/<int:partner_id>")
@admin_required
def admin_partner(partner_id: int) -> ResponseReturnValue:
    return _partner_page(load_owned(Partner, partner_id))


@bp.post("/admin/partenaires/<int:partner_id>/utilisateurs")
@admin_required
def admin_partner_invite(partner_id: int) -> ResponseReturnValue:
    partner = load_owned(Partner, partner_id)
    form = PartnerUserForm()
    if not form.validate_on_submit():
        return _partner_page(partner, user_form=form)
    db = get_session()
    try:
        user = organisations.invite_partner_user(db, partner, email=form.email.data or "",
                                                 full_name=form.full_name.data or "", now=request_now(),
                                                 link_for=invitation_link, by_id=current_user_record().id)
    except (organisations.PartnerError, users.AccountError) as exc:
        db.rollback()
        form.email.errors = [*form.email.errors, str(exc)]
        return _partner_page(partner, user_form=form)
    db.commit()
    flash(f"Invitation envoyée à {user.email} : le lien est valable 7 jours.", "success")
    return redirect(url_for("staff.admin_partner", partner_id=partner.id))


@bp.post("/admin/partenaires/<int:partner_id>/cles")
@admin_required
def admin_partner_key(partner_id: int) -> ResponseReturnValue:
    partner = load_owned(Partner, partner_id)
    form = ApiKeyForm()
    if not form.validate_on_submit():
        return _partner_page(partner, key_form=form)
    db = get_session()
    try:
        new = api_keys.create_key(db, partner, label=form.label.data or "", scope=form.scope.data or "",
                                  now=request_now(), by_id=current_user_record().id)
    except api_keys.ApiKeyError as exc:
        db.rollback()
        form.label.errors = [*form.label.errors, str(exc)]
        return _partner_page(partner, key_form=form)
    db.commit()
    g.no_store = True  # the secret is on this page only: never in a cache
    return _partner_page(partner, new_secret=new.secret)


@bp.post("/admin/partenaires/cles/<int:key_id>/revoquer")
@admin_required
def admin_revoke_key(key_id: int) -> ResponseReturnValue:
    key = load_owned(ApiKey, key_id)
    if ButtonForm().validate_on_submit():
        db = get_session()
        api_keys.revoke_key(db, key, now=request_now(), by_id=current_user_record().id)
        db.commit()
        flash(f"La clé « {key.label} » est révoquée : elle ne fonctionne plus.", "success")
    return redirect(url_for("staff.admin_partner", partner_id=key.partner_id))


@bp.post("/admin/partenaires/<int:partner_id>/activation")
@admin_required
def admin_partner_toggle(partner_id: int) -> ResponseReturnValue:
    partner = load_owned(Partner, partner_id)
    if ButtonForm().validate_on_submit():
        db = get_session()
        active = not partner.is_active
        organisations.set_partner_active(db, partner, active, now=request_now(), by_id=current_user_record().id)
        db.commit()
        flash(f"L'organisation {partner.name} est " + ("réactivée." if active else
              "désactivée : ses utilisateurs et ses clés ne fonctionnent plus."), "success")
    return redirect(url_for("staff.admin_partner", partner_id=partner.id))
