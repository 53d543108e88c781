"""Staff console: the same-day care (SNP) board, suggestions and bookings."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from guichet.assignment import problems, review, runs, snp_board
from guichet.models import PatientRequest
from guichet.timeutil import to_paris
from guichet.web.access import current_territory, current_user_record, deny, load_owned, record_audit
from guichet.web.forms import ButtonForm
from guichet.web.security import staff_required
from guichet.web.session import get_session, request_now
from guichet.web.staff.blueprint import bp
from guichet.web.staff.snp.forms import SlotBookForm, SnpConfirmForm
from guichet.workflow import IllegalTransition

# ---------------------------------------------------------------- SNP board


def _slot_label(slot: Any) -> str:
    start = to_paris(slot.start_dt)
    return f"{start:%d/%m} à {start:%H h %M} — {slot.doctor.display_name} ({slot.doctor.commune.name})"


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
    report = snp_board.book_many(db, territory, form.pair_values(), user=current_user_record(), now=request_now())
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
                              now=request_now())
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


