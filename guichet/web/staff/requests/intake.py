"""Phone intake: a coordinator enters a request with the patient on the line."""

from __future__ import annotations

from typing import Any

from flask import current_app, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from guichet.accounts import audit
from guichet.models import PatientRequest
from guichet.requests import intake
from guichet.requests.tracking import tracking_url
from guichet.web.access import current_user_record, load_owned, record_audit
from guichet.web.intake_forms import RED_FLAGS, StaffMtRequestForm, StaffSnpRequestForm, ready_to_submit
from guichet.web.security import staff_required
from guichet.web.session import get_session, request_now
from guichet.web.staff.blueprint import bp

TEMPLATES = {"mt": "staff/intake_mt.html", "snp": "staff/intake_snp.html"}


def _render(kind: str, form: Any, **extra: Any) -> str:
    return render_template(TEMPLATES[kind], form=form, red_flags=RED_FLAGS, **extra)


def _intake(kind: str, form: Any) -> ResponseReturnValue:
    user = current_user_record()
    if request.method != "POST":
        return _render(kind, form)
    g.no_store = True
    db = get_session()
    outside = ("Aucune CPTS de ce service ne couvre ce code postal : orientez la "
               "personne vers sa CPAM (36 46) ou l'annuaire santé d'ameli.")
    if not ready_to_submit(form, db, outside=outside):
        return _render(kind, form)
    submit = intake.submit_mt_request if kind == "mt" else intake.submit_snp_request
    now = request_now()
    try:
        req = submit(
            db, form.to_data(), channel="phone", now=now, base_url=current_app.config["BASE_URL"],
            user_id=user.id, expected_territory_id=user.territory_id or -1,
        )
    except intake.InvalidRequest as exc:
        db.rollback()
        form.apply_errors(exc.errors)
        return _render(kind, form)
    except (intake.OutOfTerritory, intake.WrongTerritory) as exc:
        db.rollback()
        form.commune_insee.errors = [*form.commune_insee.errors, str(exc)]
        return _render(kind, form)
    except intake.DuplicateRequest as exc:
        db.rollback()
        return _render(kind, form, duplicate=exc.existing)
    audit.record(db, "request.create", now=now, user_id=user.id, object_type="patient_request",
                 object_id=req.id, territory_id=req.territory_id, ip=request.remote_addr, channel="phone")
    db.commit()
    return redirect(url_for("staff.intake_done", request_id=req.id))


@bp.route("/demandes/nouvelle-mt", methods=["GET", "POST"])
@staff_required
def new_mt_request() -> ResponseReturnValue:
    return _intake("mt", StaffMtRequestForm())


@bp.route("/demandes/nouvelle-snp", methods=["GET", "POST"])
@staff_required
def new_snp_request() -> ResponseReturnValue:
    return _intake("snp", StaffSnpRequestForm())


@bp.get("/demandes/<int:request_id>/enregistree")
@staff_required
def intake_done(request_id: int) -> ResponseReturnValue:
    req = load_owned(PatientRequest, request_id)
    record_audit("request.view", object_type="patient_request", object_id=req.id, page="intake_done")
    get_session().commit()
    return render_template(
        "staff/intake_done.html", req=req,
        link=tracking_url(current_app.config["BASE_URL"], req.tracking_token),
    )
