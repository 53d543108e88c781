"""Public views: home, privacy, requests from patients, and the private tracking pages."""

from __future__ import annotations

from typing import Any

from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from wtforms.validators import ValidationError

from guichet.doctors.appointments import appointment_context, booked_slot
from guichet.doctors.practice import practice_context
from guichet.identifiers import InvalidIdentifier
from guichet.models import PatientRequest, Territory
from guichet.requests import intake, tracking
from guichet.web.intake_forms import (
    MtRequestForm,
    SnpRequestForm,
    SnpTriageForm,
    locate_commune,
)
from guichet.web.public.blueprint import bp
from guichet.web.public.forms import ContactUpdateForm, FindRequestForm, WithdrawForm
from guichet.web.ratelimit import enforce, limiter
from guichet.web.session import get_session, request_now

#: the session key of what the page after an online request says (built from the answers only)
RECEIPT_KEY = "request_receipt"
#: the triage answered "no" to every red flag this recently lets the SNP form open
TRIAGE_VALID_SECONDS = 2 * 3600


@bp.get("/")
def home() -> ResponseReturnValue:
    return render_template("public/home.html")


@bp.get("/donnees-personnelles")
def privacy() -> ResponseReturnValue:
    return render_template("public/privacy.html")


# --- submissions --------------------------------------------------------------------


def _count_submission() -> None:
    if not limiter().hit("submission", int(current_app.config["RATE_LIMIT_SUBMISSIONS_PER_HOUR"])):
        abort(429)


def _submit(form: Any, kind: str, template: str) -> ResponseReturnValue:
    """The common POST path of both public request forms."""
    g.no_store = True  # a re-rendered form holds health data: no copy in any cache
    db = get_session()
    if form.is_bot():
        _count_submission()
        # pretend it worked: a robot learns nothing, and nothing is stored
        return redirect(url_for("public.request_received", kind=kind), code=303)
    final = not form.lookup.data
    valid = form.validate() if final else True
    try:
        located = locate_commune(form, db, final=final)
    except intake.OutOfTerritory as exc:
        return render_template("public/out_of_territory.html", kind=kind, commune=exc.commune_name)
    if not final:
        return render_template(template, form=form, looked_up=True)
    if not (valid and located):
        _add_rule_errors(form, kind)
        return render_template(template, form=form)
    _count_submission()
    try:
        receipt = intake.submit_public(db, form.to_data(), now=request_now(),
                                       base_url=current_app.config["BASE_URL"])
    except intake.InvalidRequest as exc:
        db.rollback()
        form.apply_errors(exc.errors)
        return render_template(template, form=form)
    except intake.OutOfTerritory as exc:
        db.rollback()
        return render_template("public/out_of_territory.html", kind=kind, commune=exc.commune_name)
    # a new request and one already open for this person end here alike (the same redirect,
    # the same page): the reference and the link go to the request's contact, never on screen
    db.commit()
    session[RECEIPT_KEY] = {"kind": receipt.kind, "territory": receipt.territory_id, "sent_by": receipt.sent_by}
    return redirect(url_for("public.request_received", kind=kind), code=303)


def _add_rule_errors(form: Any, kind: str) -> None:
    """Add the intake rules' messages to the form's own, so that every error shows at once."""
    check = intake.check_mt if kind == "mt" else intake.check_snp
    try:
        data = form.to_data()
    except (ValueError, ValidationError):
        return  # an answer the form could not even read: its own message says so
    form.apply_errors({**check(data, request_now()), **intake.check_public_contact(data, kind)})


@bp.route("/demande/medecin-traitant", methods=["GET", "POST"])
def mt_request() -> ResponseReturnValue:
    form = MtRequestForm()
    if request.method == "POST":
        return _submit(form, "mt", "public/mt_request.html")
    return render_template("public/mt_request.html", form=form)


@bp.route("/demande/soins-non-programmes", methods=["GET", "POST"])
def snp_triage() -> ResponseReturnValue:
    form = SnpTriageForm()
    if request.method == "POST" and form.has_red_flag():
        # one "yes" is enough, whatever is left unanswered (and even with a stale CSRF token):
        # nothing is stored, a vital emergency goes to the 15, not to a waiting list
        session.pop("snp_triage", None)
        return render_template("public/call_15.html", suicide=form["suicide"].data == "yes")
    if form.validate_on_submit():
        session["snp_triage"] = request_now().timestamp()
        return redirect(url_for("public.snp_request"))
    return render_template("public/snp_triage.html", form=form)


def _triage_passed() -> bool:
    passed = session.get("snp_triage")
    return isinstance(passed, (int, float)) and request_now().timestamp() - passed < TRIAGE_VALID_SECONDS


@bp.route("/demande/soins-non-programmes/demande", methods=["GET", "POST"])
def snp_request() -> ResponseReturnValue:
    if not _triage_passed():
        return redirect(url_for("public.snp_triage"))
    form = SnpRequestForm()
    if request.method == "POST":
        response = _submit(form, "snp", "public/snp_request.html")
        return response
    return render_template("public/snp_request.html", form=form)


@bp.get("/demande/recue/<any(mt, snp):kind>")
def request_received(kind: str) -> ResponseReturnValue:
    """The one page after an online request, whether it is new or was already open."""
    g.no_store = True
    receipt = session.get(RECEIPT_KEY)
    sent_by = None
    if isinstance(receipt, dict) and receipt.get("kind") == kind:
        sent_by = receipt.get("sent_by")
        territory_id = receipt.get("territory")
        if isinstance(territory_id, int):
            g.cpts_territory = get_session().get(Territory, territory_id)  # whom to call, in the footer
    return render_template("public/received.html", kind=kind, sent_by=sent_by)


# --- tracking -----------------------------------------------------------------------


def _tracked(token: str) -> PatientRequest:
    """The request behind the link; one neutral 404 for every wrong or expired link."""
    g.no_store = True
    if not limiter().hit("tracking", int(current_app.config["RATE_LIMIT_TRACKING_PER_HOUR"])):
        abort(429)
    req = tracking.find_by_token(get_session(), token, now=request_now())
    if req is None:
        abort(_invalid_link())
    g.cpts_territory = req.territory
    return req


def _invalid_link() -> Any:
    return current_app.make_response((render_template("public/invalid_link.html"), 404))


#: one answer for every wrong reference, code or birth date: a guess teaches nothing
NOT_FOUND_MESSAGE = ("Nous ne trouvons pas de demande avec ces informations. Vérifiez le numéro, le code et "
                     "la date de naissance, ou appelez la CPTS.")


@bp.route("/suivre", methods=["GET", "POST"])
def find_request() -> ResponseReturnValue:
    """"Suivre ma demande" with the reference, the short code and the birth date."""
    g.no_store = True
    form = FindRequestForm()
    if form.validate_on_submit():
        enforce("tracking", int(current_app.config["RATE_LIMIT_TRACKING_PER_HOUR"]))
        req = tracking.find_by_code(get_session(), form.reference.data or "", form.code.data or "",
                                    form.birth_date.data, now=request_now())
        if req is not None:
            return redirect(url_for("public.track", token=req.tracking_token))
        form.form_errors.append(NOT_FOUND_MESSAGE)
    return render_template("public/find_request.html", form=form), 422 if form.errors or form.form_errors else 200


@bp.get("/suivi/<token>")
def track(token: str) -> ResponseReturnValue:
    req = _tracked(token)
    position = tracking.queue_position(get_session(), req)
    doctor = tracking.matched_doctor(req)
    slot = booked_slot(get_session(), req) if req.status == "booked" else None
    return render_template(
        "public/track.html", req=req, text=tracking.status_text(req),
        practice=practice_context(doctor) if doctor else None,
        appointment=appointment_context(slot) if slot else None,
        position=None if position is None else tracking.approximate(position),
        can_withdraw=tracking.can_withdraw(req), is_open=not req.is_closed,
    )


@bp.route("/suivi/<token>/retirer", methods=["GET", "POST"])
def withdraw(token: str) -> ResponseReturnValue:
    req = _tracked(token)
    form = WithdrawForm()
    if form.validate_on_submit():
        db = get_session()
        was_booked = req.status == "booked"
        try:
            tracking.withdraw(db, req, now=request_now())
        except tracking.TrackingError as exc:
            db.rollback()
            flash(str(exc), "error")
        else:
            db.commit()
            flash("Votre rendez-vous est annulé : le médecin et la CPTS sont prévenus. Merci." if was_booked
                  else "Votre demande est retirée. Merci de nous avoir prévenus.", "success")
        return redirect(url_for("public.track", token=token))
    return render_template("public/withdraw.html", req=req, form=form,
                           can_withdraw=tracking.can_withdraw(req))


@bp.route("/suivi/<token>/coordonnees", methods=["GET", "POST"])
def update_contact(token: str) -> ResponseReturnValue:
    req = _tracked(token)
    form = ContactUpdateForm()
    patient = req.patient
    proxy = patient.filled_by != "self"
    current = {
        "phone": tracking.mask_phone(patient.proxy_phone if proxy else patient.phone),
        "email": tracking.mask_email(patient.proxy_email if proxy else patient.email),
    }
    if req.is_closed:
        flash("Cette demande est close : ses coordonnées ne peuvent plus changer.", "info")
        return redirect(url_for("public.track", token=token))
    if form.validate_on_submit():
        db = get_session()
        try:
            changed = tracking.update_contact(db, req, form.to_update(), now=request_now())
        except (tracking.TrackingError, InvalidIdentifier) as exc:
            db.rollback()
            form.form_errors.append(str(exc))
        else:
            db.commit()
            if changed:
                flash("Vos coordonnées sont mises à jour.", "success")
            else:
                flash("Rien n'a changé : les champs laissés vides gardent leur valeur.", "info")
            return redirect(url_for("public.track", token=token))
    return render_template("public/update_contact.html", req=req, form=form, current=current, proxy=proxy)
