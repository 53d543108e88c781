"""Staff console: the same-day care (SNP) board, suggestions and bookings."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from guichet.assignment import problems, review, runs, snp_board
from guichet.doctors import appointments as booked
from guichet.doctors import practitioners
from guichet.formatting import datetime_fr
from guichet.models import PatientRequest
from guichet.web.access import current_territory, current_user_record, deny, load_owned, record_audit
from guichet.web.forms import ButtonForm
from guichet.web.security import staff_required
from guichet.web.session import get_session, request_now
from guichet.web.staff.blueprint import bp
from guichet.web.staff.snp.forms import SlotBookForm, SnpConfirmForm
from guichet.workflow import IllegalTransition

# ---------------------------------------------------------------- SNP board


def _slot_label(slot: Any) -> str:
    return f"{datetime_fr(slot.start_dt)} — {slot.doctor.display_name} ({slot.doctor.commune.name})"


@bp.get("/snp")
@staff_required
def snp_home() -> ResponseReturnValue:
    db = get_session()
    territory = current_territory()
    now = request_now()
    data = snp_board.board(db, territory, now=now)
    slots_by_id = {s.id: s for s in data["slots"]}
    forms = {}
    for r in data["requests"]:
        f = SlotBookForm(prefix=f"r{r.id}", formdata=None)
        f.slot_id.choices = [(sid, _slot_label(slots_by_id[sid])) for sid in data["fits"][r.id]]
        forms[r.id] = f
    record_audit("snp.board", object_type="territory", object_id=territory.id,
                 requests=[r.id for r in data["requests"]][:500])
    db.commit()
    return render_template("staff/snp_board.html", now=now, forms=forms, run_form=ButtonForm(),
                           summary=review.patient_summary, **data)


@bp.post("/snp/suggestions")
@staff_required
def snp_suggest() -> ResponseReturnValue:
    db = get_session()
    territory = current_territory()
    now = request_now()
    outcome = runs.solve_snp(db, territory, now=now)
    page = render_template("staff/snp_suggestions.html", outcome=outcome, now=now, form=SnpConfirmForm(),
                           summary=review.patient_summary)
    db.rollback()  # suggestions only: nothing is booked until staff confirm
    territory = current_territory()
    record_audit("snp.suggest", object_type="territory", object_id=territory.id,
                 requests=[p.request.id for p in outcome.placements][:500])
    db.commit()
    return page


@bp.post("/snp/reserver")
@staff_required
def snp_confirm() -> ResponseReturnValue:
    db = get_session()
    territory = current_territory()
    form = SnpConfirmForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(message, "error")
        return redirect(url_for("staff.snp_home"))
    report = snp_board.book_many(db, territory, form.pair_values(), user=current_user_record(), now=request_now(),
                                 base_url=current_app.config["BASE_URL"])
    db.commit()
    if report.booked:
        flash(f"{len(report.booked)} rendez-vous réservé(s) ; les patients sont prévenus.", "success")
    for _, _, message in report.failed[:10]:
        flash(message, "error")
    return redirect(url_for("staff.snp_home"))


@bp.post("/snp/demandes/<int:request_id>/reserver")
@staff_required
def snp_book(request_id: int) -> ResponseReturnValue:
    db = get_session()
    territory = current_territory()
    if load_owned(PatientRequest, request_id).kind != "snp":
        deny()
    form = SlotBookForm(prefix=f"r{request_id}")
    form.slot_id.choices = [(s.id, "") for s in problems.snp_free_slots(db, territory, now=request_now())]
    if not form.validate_on_submit():
        flash("Choisissez un créneau encore libre dans la liste.", "error")
        return redirect(url_for("staff.snp_home"))
    try:
        slot = snp_board.book(db, territory, request_id, form.slot_id.data, user=current_user_record(),
                              now=request_now(), base_url=current_app.config["BASE_URL"])
    except (snp_board.BoardError, snp_board.slots.SlotUnavailable) as exc:
        db.rollback()
        flash(str(exc), "error")
        return redirect(url_for("staff.snp_home"))
    except IllegalTransition:
        db.rollback()
        flash("Cette demande n'attend plus de créneau : elle vient d'être traitée par ailleurs.", "error")
        return redirect(url_for("staff.snp_home"))
    db.commit()
    flash(f"Rendez-vous réservé : {_slot_label(slot)}. Le patient est prévenu.", "success")
    return redirect(url_for("staff.snp_home"))




# ---------------------------------------------------------------- booked appointments


@bp.get("/rendez-vous")
@staff_required
def appointments() -> ResponseReturnValue:
    """Booked SNP appointments from today on, per GP and commune, with whom to call."""
    db = get_session()
    territory = current_territory()
    now = request_now()
    doctors = practitioners.territory_doctors(db, territory.id)
    communes = sorted({(d.commune_insee, d.commune.name) for d in doctors}, key=lambda c: c[1])
    doctor_id = request.args.get("medecin", type=int)
    commune = request.args.get("commune") or None
    found = booked.booked_appointments(
        db, now=now, territory_id=territory.id,
        doctor_id=doctor_id if doctor_id in {d.id for d in doctors} else None,
        commune_insee=commune if commune in {c[0] for c in communes} else None,
    )
    # coordinators read patients' names and phones here: keep a trace
    record_audit("snp.appointments", object_type="territory", object_id=territory.id,
                 requests=[a.request.id for a in found][:500])
    db.commit()
    return render_template(
        "staff/appointments.html", groups=booked.by_day(found, now),
        to_call=[a for a in found if a.needs_call], doctors=doctors, communes=communes,
        doctor_id=doctor_id, commune=commune, form=ButtonForm(),
    )


@bp.post("/rendez-vous/<int:request_id>/appele")
@staff_required
def appointment_called(request_id: int) -> ResponseReturnValue:
    req = load_owned(PatientRequest, request_id)
    if req.kind != "snp" or not ButtonForm().validate_on_submit():
        deny()
    db = get_session()
    booked.record_call(db, req, now=request_now(), user_id=current_user_record().id)
    db.commit()
    flash(f"Appel noté pour la demande {req.reference}.", "success")
    return redirect(url_for("staff.appointments"))
