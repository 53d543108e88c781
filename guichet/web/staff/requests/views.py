"""Staff views: dashboard, request list and CSV export, request page and its actions, calls to make."""

from __future__ import annotations

from typing import Any

from flask import Response, flash, redirect, render_template, request, stream_with_context, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from guichet import vocabulary
from guichet.accounts import audit
from guichet.assignment import priority, proposals
from guichet.assignment.priority import FLAG_LABELS
from guichet.doctors.appointments import booked_slot
from guichet.models import Commune, PatientRequest, Proposal
from guichet.partners import referrals
from guichet.requests import queue, staff_requests
from guichet.territories import geo
from guichet.web.access import audit_list, current_territory_id, current_user_record, load_owned
from guichet.web.fields import choices
from guichet.web.ratelimit import client_ip
from guichet.web.security import staff_required
from guichet.web.session import get_session, request_now
from guichet.web.staff.blueprint import bp
from guichet.web.staff.requests.forms import (
    CancelForm,
    ContactForm,
    EditForm,
    MergeForm,
    NoteForm,
    QualifyForm,
)
from guichet.workflow import (
    CANCEL_REASONS,
    PROPOSAL_STATUS_LABELS,
    REQUEST_STATUS_LABELS,
    IllegalTransition,
    event_reason,
)

LABELS: dict[str, Any] = {
    "status": REQUEST_STATUS_LABELS,
    "kind": vocabulary.KIND_LABELS,
    "channel": vocabulary.CHANNEL_LABELS,
    "flags": FLAG_LABELS,
    "cancel": CANCEL_REASONS,
    "contact": staff_requests.CONTACT_OUTCOMES,
    "proposal": PROPOSAL_STATUS_LABELS,
}


@bp.app_context_processor
def _staff_labels() -> dict[str, Any]:
    return {"staff_labels": LABELS}


bp.add_app_template_filter(event_reason, "event_reason")
bp.add_app_template_filter(proposals.decline_text, "decline_text")


@bp.get("/")
@staff_required
def dashboard() -> ResponseReturnValue:
    counts = queue.dashboard(get_session(), current_territory_id(), now=request_now())
    at_risk = referrals.at_risk(get_session(), current_territory_id(), now=request_now())
    return render_template("staff/dashboard.html", counts=counts, at_risk=at_risk, now=request_now(),
                           overdue=referrals.is_overdue)


@bp.get("/demandes")
@staff_required
def request_list() -> ResponseReturnValue:
    filters = queue.Filters.from_args(request.args)
    page = queue.list_requests(get_session(), current_territory_id(), filters, now=request_now())
    audit_list("request.list", (row.id for row in page.rows), **filters.audit_codes())
    return render_template("staff/requests.html", page=page, filters=filters, queue=queue)


@bp.get("/demandes/export.csv")
@staff_required
def request_export() -> ResponseReturnValue:
    db = get_session()
    tid = current_territory_id()
    filters = queue.Filters.from_args(request.args)
    now = request_now()
    # exporting names and phone numbers is a read of personal data: audit it first
    audit.record(db, "request.export", now=now, user_id=current_user_record().id, territory_id=tid,
                 ip=client_ip(), filters=filters.audit_codes())
    db.commit()
    filename = f"demandes-{now:%Y%m%d-%H%M}.csv"
    return Response(
        stream_with_context(queue.csv_rows(db, tid, filters, now=now)),
        mimetype="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.get("/a-appeler")
@staff_required
def to_contact() -> ResponseReturnValue:
    page_arg = request.args.get("page", "1")
    page = queue.to_contact_list(get_session(), current_territory_id(),
                                 page=int(page_arg) if page_arg.isdigit() and len(page_arg) < 7 else 1)
    audit_list("request.to_contact_list", (req.id for req, _patient in page.rows), page=page.page)
    return render_template("staff/to_contact.html", page=page, contact_form=ContactForm(),
                           qualify_form=QualifyForm(), cancel_form=CancelForm())


def _detail_context(req: PatientRequest) -> dict[str, Any]:
    db = get_session()
    events = list(req.events)
    return {
        "req": req,
        "patient": req.patient,
        "commune": db.get(Commune, req.patient.commune_insee) if req.patient.commune_insee else None,
        "events": events,
        "names": staff_requests.user_names(db, events),
        "actions": staff_requests.available_actions(req),
        "proposals": list(db.scalars(
            select(Proposal).where(Proposal.request_id == req.id).order_by(Proposal.id)
        )),
        "merged_into": db.get(PatientRequest, req.merged_into_id) if req.merged_into_id else None,
        "appointment": booked_slot(db, req) if req.status == "booked" else None,
        "guarantee_sentence": priority.guarantee_sentence(priority.guarantee_days(req.territory.settings)),
    }


def _render_detail(req: PatientRequest, status: int = 200, **forms: Any) -> ResponseReturnValue:
    context = _detail_context(req)
    context.update({
        "qualify_form": forms.get("qualify_form") or QualifyForm(formdata=None),
        "cancel_form": forms.get("cancel_form") or CancelForm(formdata=None),
        "note_form": forms.get("note_form") or NoteForm(formdata=None),
        "contact_form": forms.get("contact_form") or ContactForm(formdata=None),
        "merge_form": forms.get("merge_form") or MergeForm(formdata=None),
    })
    return render_template("staff/request.html", **context), status


@bp.get("/demandes/<int:request_id>")
@staff_required
def request_detail(request_id: int) -> ResponseReturnValue:
    req = load_owned(PatientRequest, request_id)
    db = get_session()
    staff_requests.record_view(db, req, user_id=current_user_record().id, now=request_now(), ip=client_ip())
    db.commit()
    return _render_detail(req)


def _back(req: PatientRequest) -> ResponseReturnValue:
    target = request.form.get("next", "")
    if target == "to_contact":
        return redirect(url_for("staff.to_contact"))
    return redirect(url_for("staff.request_detail", request_id=req.id))


def _run(req: PatientRequest, form_name: str, form: Any, action: Any, success: str) -> ResponseReturnValue:
    """Validate the form, run the service, commit once and redirect; or show the page with errors."""
    db = get_session()
    if form.validate_on_submit():
        try:
            action()
        except (staff_requests.StaffActionError, IllegalTransition) as exc:
            db.rollback()
            flash(str(exc), "error")
            return _render_detail(req, 422, **{form_name: form})
        db.commit()
        flash(success, "success")
        return _back(req)
    return _render_detail(req, 422, **{form_name: form})


@bp.post("/demandes/<int:request_id>/qualifier")
@staff_required
def request_qualify(request_id: int) -> ResponseReturnValue:
    req = load_owned(PatientRequest, request_id)
    form = QualifyForm()
    return _run(req, "qualify_form", form, lambda: staff_requests.qualify(
        get_session(), req, user_id=current_user_record().id, now=request_now(),
        consent=bool(form.consent.data), ip=client_ip(),
    ), f"La demande {req.reference} est maintenant en attente d'un médecin.")


@bp.post("/demandes/<int:request_id>/annuler")
@staff_required
def request_cancel(request_id: int) -> ResponseReturnValue:
    req = load_owned(PatientRequest, request_id)
    form = CancelForm()
    return _run(req, "cancel_form", form, lambda: staff_requests.cancel(
        get_session(), req, reason=form.reason.data or "", note=form.note.data,
        user_id=current_user_record().id, now=request_now(), ip=client_ip(),
    ), f"La demande {req.reference} est annulée.")


@bp.post("/demandes/<int:request_id>/note")
@staff_required
def request_note(request_id: int) -> ResponseReturnValue:
    req = load_owned(PatientRequest, request_id)
    form = NoteForm()
    return _run(req, "note_form", form, lambda: staff_requests.add_note(
        get_session(), req, form.text.data or "", user_id=current_user_record().id, now=request_now(),
        ip=client_ip(),
    ), "La note est enregistrée.")


@bp.post("/demandes/<int:request_id>/appel")
@staff_required
def request_contact(request_id: int) -> ResponseReturnValue:
    req = load_owned(PatientRequest, request_id)
    form = ContactForm()
    return _run(req, "contact_form", form, lambda: staff_requests.log_contact(
        get_session(), req, form.outcome.data or "", note=form.note.data,
        user_id=current_user_record().id, now=request_now(), ip=client_ip(),
    ), "L'appel est noté dans l'historique.")


@bp.post("/demandes/<int:request_id>/doublon")
@staff_required
def request_merge(request_id: int) -> ResponseReturnValue:
    req = load_owned(PatientRequest, request_id)
    form = MergeForm()
    db = get_session()

    def merge() -> None:
        target = staff_requests.find_by_reference(db, req.territory_id, form.target.data or "")
        if target is None:
            raise staff_requests.StaffActionError(
                "Aucune demande de votre territoire ne porte cette référence."
            )
        staff_requests.merge_duplicate(db, req, target, user_id=current_user_record().id, now=request_now(),
                                       ip=client_ip())

    return _run(req, "merge_form", form, merge,
                f"La demande {req.reference} est close comme doublon ; l'historique est conservé.")


def _commune_choices(postal_code: str | None) -> list[Any]:
    pairs = [("", "Déduite du code postal")]
    if postal_code:
        try:
            pairs += [(c.insee, c.label) for c in geo.communes_for_postal_code(get_session(), postal_code)]
        except geo.UnknownCommune:
            pass
    return choices(pairs)


@bp.route("/demandes/<int:request_id>/modifier", methods=["GET", "POST"])
@staff_required
def request_edit(request_id: int) -> ResponseReturnValue:
    req = load_owned(PatientRequest, request_id)
    db = get_session()
    patient = req.patient
    if req.is_closed:
        flash("Cette demande est close : elle ne peut plus être modifiée.", "error")
        return redirect(url_for("staff.request_detail", request_id=req.id))
    form = EditForm(obj=patient)
    form.commune_insee.choices = _commune_choices(form.postal_code.data or patient.postal_code)
    if request.method == "GET":
        audit.record(db, "request.view", now=request_now(), user_id=current_user_record().id,
                     object_type="patient_request", object_id=req.id,
                     territory_id=req.territory_id, ip=client_ip(), page="edit")
        db.commit()
    if form.validate_on_submit():
        try:
            changed = staff_requests.edit(db, req, form.values(), user_id=current_user_record().id,
                                          now=request_now(), ip=client_ip())
        except staff_requests.InvalidEdit as exc:
            db.rollback()
            for name, message in exc.errors.items():
                getattr(form, name).errors = [*getattr(form, name).errors, message]
        except staff_requests.StaffActionError as exc:
            db.rollback()
            flash(str(exc), "error")
        else:
            db.commit()
            flash("Les modifications sont enregistrées." if changed else "Aucune modification.",
                  "success")
            return redirect(url_for("staff.request_detail", request_id=req.id))
    status = 422 if request.method == "POST" else 200
    return render_template("staff/request_edit.html", req=req, form=form), status

