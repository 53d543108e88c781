"""Administration of a territory: staff accounts and settings (admins only)."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from guichet.accounts import staff_admin, users
from guichet.assignment.priority import DEFAULT_WEIGHTS
from guichet.models import Doctor, User
from guichet.territories import settings as territory_settings
from guichet.territories.contact import CONTACT_SETTINGS
from guichet.web.access import current_territory, current_territory_id, current_user_record, deny, load_owned
from guichet.web.forms import ButtonForm
from guichet.web.links import invitation_link
from guichet.web.ratelimit import client_ip
from guichet.web.security import admin_required
from guichet.web.session import get_session, request_now
from guichet.web.staff.admin.forms import InviteUserForm, SettingsForm
from guichet.web.staff.blueprint import bp


def _load_staff_user(user_id: int) -> User:
    user = load_owned(User, user_id)
    if user.role not in staff_admin.STAFF_ROLES:  # GP accounts come with their GP record
        deny()
    return user


@bp.get("/admin")
@admin_required
def admin_users() -> ResponseReturnValue:
    return render_template("staff/admin_users.html",
                           users=staff_admin.list_staff(get_session(), current_territory_id()),
                           roles=staff_admin.STAFF_ROLES, form=ButtonForm(), me=current_user_record())


@bp.route("/admin/utilisateurs/nouveau", methods=["GET", "POST"])
@admin_required
def admin_invite() -> ResponseReturnValue:
    form = InviteUserForm()
    if form.validate_on_submit():
        db = get_session()
        try:
            user = staff_admin.invite_user(
                db, current_territory(), email=form.email.data or "", full_name=form.full_name.data or "",
                role=form.role.data or "", now=request_now(), link_for=invitation_link,
                invited_by_id=current_user_record().id,
            )
        except (staff_admin.UserAdminError, users.AccountError) as exc:
            db.rollback()
            form.email.errors = [*form.email.errors, str(exc)]
        else:
            db.commit()
            flash(f"Invitation en cours d'envoi à {user.email} : le lien est valable 7 jours.", "success")
            return redirect(url_for("staff.admin_users"))
    return render_template("staff/admin_invite.html", form=form), 422 if form.errors else 200


def _account_action(user_id: int, action: str) -> ResponseReturnValue:
    user = _load_staff_user(user_id)
    form = ButtonForm()
    if not form.validate_on_submit():
        return redirect(url_for("staff.admin_users"))
    db = get_session()
    now = request_now()
    try:
        if action == "reinvite":
            staff_admin.resend_invitation(db, user, current_territory(), now=now, link_for=invitation_link,
                                    by_id=current_user_record().id)
            message = f"Nouvelle invitation en cours d'envoi à {user.email}."
        elif action == "reset_two_factor":
            staff_admin.reset_two_factor(db, user, now=now, by=current_user_record(), ip=client_ip())
            message = _reset_message(user.full_name)
        else:
            staff_admin.set_active(db, user, action == "activate", now=now, by=current_user_record())
            message = f"Le compte de {user.full_name} est " + (
                "réactivé." if action == "activate" else "désactivé : ses sessions sont fermées.")
    except staff_admin.UserAdminError as exc:
        db.rollback()
        flash(str(exc), "error")
    else:
        db.commit()
        flash(message, "success")
    return redirect(url_for("staff.admin_users"))


@bp.post("/admin/utilisateurs/<int:user_id>/desactiver")
@admin_required
def admin_deactivate(user_id: int) -> ResponseReturnValue:
    return _account_action(user_id, "deactivate")


@bp.post("/admin/utilisateurs/<int:user_id>/reactiver")
@admin_required
def admin_activate(user_id: int) -> ResponseReturnValue:
    return _account_action(user_id, "activate")


@bp.post("/admin/utilisateurs/<int:user_id>/reinviter")
@admin_required
def admin_reinvite(user_id: int) -> ResponseReturnValue:
    return _account_action(user_id, "reinvite")


@bp.post("/admin/utilisateurs/<int:user_id>/double-authentification/reinitialiser")
@admin_required
def admin_reset_two_factor(user_id: int) -> ResponseReturnValue:
    return _account_action(user_id, "reset_two_factor")


def _reset_message(name: str) -> str:
    return (f"La double authentification de {name} est réinitialisée et ses sessions sont fermées : à la "
            "prochaine connexion, le mot de passe suffira, puis la double authentification pourra être activée "
            "avec le nouveau téléphone.")


@bp.post("/admin/medecins/<int:doctor_id>/double-authentification/reinitialiser")
@admin_required
def admin_reset_doctor_two_factor(doctor_id: int) -> ResponseReturnValue:
    """A GP who lost their phone (and their recovery codes): the territory's admin resets it."""
    doctor = load_owned(Doctor, doctor_id)
    if ButtonForm().validate_on_submit():
        db = get_session()
        try:
            if doctor.user is None:
                raise staff_admin.UserAdminError("Ce médecin n'a pas encore de compte.")
            staff_admin.reset_two_factor(db, doctor.user, now=request_now(), by=current_user_record(),
                                         ip=client_ip())
        except staff_admin.UserAdminError as exc:
            db.rollback()
            flash(str(exc), "error")
        else:
            db.commit()
            flash(_reset_message(doctor.display_name), "success")
    return redirect(url_for("staff.doctor_detail", doctor_id=doctor.id))


@bp.route("/admin/reglages", methods=["GET", "POST"])
@admin_required
def admin_settings() -> ResponseReturnValue:
    territory = current_territory()
    current = territory_settings.effective_settings(territory)
    form = SettingsForm()
    if not form.is_submitted():
        for key in DEFAULT_WEIGHTS:
            getattr(form, f"weight_{key}").data = int(current["priority_weights"][key])
        for key in territory_settings.NUMERIC_RANGES:
            getattr(form, key).data = int(current[key])
        for key in (*territory_settings.TIME_SETTINGS, *CONTACT_SETTINGS):
            getattr(form, key).data = current[key]
        form.is_auto_approval.data = territory.is_auto_approval
        form.is_auto_matching.data = territory.is_auto_matching
        for key in territory_settings.BOOLEAN_SETTINGS:
            getattr(form, key).data = bool(current[key])
    if form.validate_on_submit():
        db = get_session()
        values = {
            "priority_weights": {k: getattr(form, f"weight_{k}").data for k in DEFAULT_WEIGHTS},
            **{k: getattr(form, k).data for k in territory_settings.NUMERIC_RANGES},
            **{k: getattr(form, k).data for k in (*territory_settings.TIME_SETTINGS, *CONTACT_SETTINGS)},
            **{k: bool(getattr(form, k).data) for k in territory_settings.BOOLEAN_SETTINGS},
        }
        try:
            recomputed = territory_settings.update_settings(
                db, territory, values, now=request_now(), user_id=current_user_record().id,
                is_auto_approval=bool(form.is_auto_approval.data),
                is_auto_matching=bool(form.is_auto_matching.data),
            )
        except territory_settings.InvalidSettings as exc:
            db.rollback()
            for name, message in exc.errors.items():
                getattr(form, name).errors = [*getattr(form, name).errors, message]
        else:
            db.commit()
            text = "Les réglages sont enregistrés."
            if recomputed:
                plural = "s" if recomputed > 1 else ""
                text += f" La priorité de {recomputed} demande{plural} en cours a été recalculée."
            flash(text, "success")
            return redirect(url_for("staff.admin_settings"))
    return render_template("staff/admin_settings.html", form=form, territory=territory), \
        422 if form.errors else 200
