"""Coordinators' pages about the territory's GPs: list, registration, invitation."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from guichet import paging, vocabulary
from guichet.doctors import directory, practitioners
from guichet.models import Doctor, Territory
from guichet.web.access import current_territory, current_user_record, load_owned
from guichet.web.forms import ButtonForm
from guichet.web.links import invitation_link
from guichet.web.practice import edit_practice
from guichet.web.security import staff_required
from guichet.web.session import get_session, request_now
from guichet.web.staff.blueprint import bp
from guichet.web.staff.doctors.forms import DoctorRegistrationForm

#: GPs per page of the list (a CPTS has 30 to 150)
PER_PAGE = 50


@bp.get("/medecins")
@staff_required
def doctor_list() -> ResponseReturnValue:
    db = get_session()
    territory = current_territory()
    q = (request.args.get("q") or "").strip()[:100]
    availability = request.args.get("disponibilite", "")
    rows = []
    doctors = practitioners.territory_doctors(db, territory.id)
    for doctor in doctors:
        if q and not practitioners.matches_search(doctor, q):
            continue
        current, summary = practitioners.summary_of(db, doctor)
        has_places = current is not None and not current.is_paused and summary is not None and summary.remaining > 0
        if (availability == "places" and not has_places) or (availability == "aucune" and current is not None):
            continue
        rows.append((doctor, practitioners.account_state(doctor), current, summary))
    page = paging.paginate(rows, paging.page_number(request.args.get("page")), PER_PAGE)
    args = {k: v for k, v in (("q", q), ("disponibilite", availability)) if v}
    return render_template("staff/doctors.html", page=page, args=args, territory=territory, q=q,
                           availability=availability, total=len(doctors))


@bp.route("/medecins/nouveau", methods=["GET", "POST"])
@staff_required
def doctor_new() -> ResponseReturnValue:
    db = get_session()
    territory = current_territory()
    form = DoctorRegistrationForm()
    if form.is_submitted() and form.lookup.data:
        return _fill_from_directory(form, territory)
    if form.validate_on_submit():
        insee = _pick_commune(form, territory)
        if insee is not None:
            now = request_now()
            user_id = current_user_record().id
            try:
                doctor = practitioners.register_doctor(
                    db, territory, now=now, rpps=form.rpps.data or "", first_name=form.first_name.data or "",
                    last_name=form.last_name.data or "", email=form.email.data or "", phone=form.phone.data,
                    practice_address=form.practice_address.data or "", commune_insee=insee,
                    has_step_free_access=form.has_step_free_access.data, user_id=user_id,
                )
                practitioners.send_invitation(db, doctor, now=now, link_for=invitation_link, user_id=user_id)
            except practitioners.DoctorError as exc:
                db.rollback()
                field = getattr(form, exc.field or "rpps", form.rpps)
                field.errors = [*field.errors, str(exc)]
            else:
                db.commit()
                flash(f"{doctor.display_name} est inscrit. L'invitation à créer son mot de passe lui est envoyée "
                      f"à {doctor.email}.", "success")
                return redirect(url_for("staff.doctor_detail", doctor_id=doctor.id))
    return render_template("staff/doctors_new.html", form=form, territory=territory,
                           show_communes=bool(form.commune_insee.choices))


def _fill_from_directory(form: DoctorRegistrationForm, territory: Territory) -> ResponseReturnValue:
    """Pre-fill name, practice address and phone from the national directory (import-rpps)."""
    entry = directory.lookup(get_session(), form.rpps.data or "", {c.insee for c in territory.communes})
    if entry is None:
        form.rpps.errors = ["Ce numéro RPPS n'est pas dans l'annuaire santé chargé pour votre territoire : "
                            "remplissez les champs vous-même."]
    else:
        form.first_name.data = entry.first_name.title()
        form.last_name.data = entry.last_name.title()
        form.practice_address.data = entry.practice_address.title()
        form.postal_code.data = entry.postal_code
        form.phone.data = form.phone.data or entry.phone or None
    return render_template("staff/doctors_new.html", form=form, territory=territory, directory_entry=entry,
                           show_communes=False)


def _pick_commune(form: DoctorRegistrationForm, territory: Territory) -> str | None:
    """The INSEE code of the practice's commune, or None after putting the question on the form."""
    try:
        choices = practitioners.territory_communes(get_session(), territory, form.postal_code.data or "")
    except practitioners.DoctorError as exc:
        form.postal_code.errors = [*form.postal_code.errors, str(exc)]
        return None
    if len(choices) == 1:
        return choices[0].insee
    form.commune_insee.choices = [("", "Choisissez la commune")] + [(c.insee, c.label) for c in choices]
    if form.commune_insee.data in {c.insee for c in choices}:
        return str(form.commune_insee.data)
    if form.commune_insee.data:
        form.commune_insee.errors = ["Cette commune ne correspond pas au code postal : choisissez-en une de la liste."]
    else:
        form.commune_insee.errors = ["Plusieurs communes ont ce code postal : choisissez celle du cabinet."]
    return None


@bp.get("/medecins/<int:doctor_id>")
@staff_required
def doctor_detail(doctor_id: int) -> ResponseReturnValue:
    db = get_session()
    doctor = load_owned(Doctor, doctor_id)
    current, summary = practitioners.summary_of(db, doctor)
    return render_template(
        "staff/doctors_detail.html", doctor=doctor, state=practitioners.account_state(doctor),
        invitation=practitioners.last_invitation(db, doctor), current=current, summary=summary,
        flag_labels=practitioners.flags_labels, languages=vocabulary.LANGUAGES, form=ButtonForm(),
    )


@bp.post("/medecins/<int:doctor_id>/invitation")
@staff_required
def doctor_invite(doctor_id: int) -> ResponseReturnValue:
    db = get_session()
    doctor = load_owned(Doctor, doctor_id)
    try:
        practitioners.send_invitation(db, doctor, now=request_now(), link_for=invitation_link,
                                      user_id=current_user_record().id)
    except practitioners.DoctorError as exc:
        db.rollback()
        flash(str(exc), "error")
    else:
        db.commit()
        flash(f"Une nouvelle invitation va partir vers {doctor.email} dans quelques minutes. "
              "Le lien précédent ne fonctionne plus.",
              "success")
    return redirect(url_for("staff.doctor_detail", doctor_id=doctor.id))


@bp.route("/medecins/<int:doctor_id>/cabinet", methods=["GET", "POST"])
@staff_required
def doctor_practice(doctor_id: int) -> ResponseReturnValue:
    doctor = load_owned(Doctor, doctor_id)
    return edit_practice(doctor, template="staff/doctor_practice.html",
                         done_url=url_for("staff.doctor_detail", doctor_id=doctor.id))
