"""Staff console, part 2: matching runs and arbitration, SNP board, waiting list, indicators.

A run takes well under a second for a CPTS (thousands of patients, a hundred GPs), so it
runs inside the POST: the button shows what will happen, and the redirect lands on the
run's page with the solver time. No JavaScript is needed.
"""

from __future__ import annotations

from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from guichet.accounts import audit
from guichet.assignment import arbitration, matching_runs, snp_board, waiting_list
from guichet.assignment.priority import FLAG_LABELS
from guichet.models import MatchingRun, PatientRequest, Territory
from guichet.reporting import indicators
from guichet.timeutil import paris_today, to_paris
from guichet.web.forms import ButtonForm
from guichet.web.ratelimit import client_ip
from guichet.web.security import current_db_user, deny, staff_required
from guichet.web.session import get_session, request_now
from guichet.web.staff import bp
from guichet.web.staff.matching_forms import (
    ReassignForm,
    SelectionForm,
    SlotBookForm,
    SnpConfirmForm,
)
from guichet.workflow import PROPOSAL_STATUS_LABELS

CONCURRENT_RUN = ("Une autre attribution a été lancée au même moment pour votre territoire : "
                  "rien n'a été enregistré. Ouvrez la dernière campagne ou relancez.")


def _territory() -> Territory:
    tid = current_db_user().territory_id
    territory = get_session().get(Territory, tid) if tid is not None else None
    if territory is None:  # never show every territory by mistake
        deny("no_territory")
    return territory  # type: ignore[return-value]


def _audit(action: str, territory: Territory, **detail: Any) -> None:
    audit.record(get_session(), action, now=request_now(), user_id=current_db_user().id, territory_id=territory.id,
                 ip=client_ip(), **detail)


def _flash_failures(failures: list[tuple[int, str]]) -> None:
    for _, message in failures[:10]:
        flash(message, "error")
    if len(failures) > 10:
        flash(f"… et {len(failures) - 10} autre(s) proposition(s) non validée(s).", "error")


# ---------------------------------------------------------------- MT matching


@bp.get("/attribution")
@staff_required
def matching_home() -> ResponseReturnValue:
    db = get_session()
    territory = _territory()
    runs = list(db.scalars(select(MatchingRun).where(MatchingRun.territory_id == territory.id,
                                                     MatchingRun.kind == "mt")
                           .order_by(MatchingRun.id.desc()).limit(10)))
    pending = len(arbitration.pending_drafts(db, territory))
    return render_template("staff/matching.html", territory=territory, runs=runs, pending=pending,
                           form=ButtonForm())


@bp.post("/attribution/lancer")
@staff_required
def matching_run() -> ResponseReturnValue:
    db = get_session()
    territory = _territory()
    now = request_now()
    try:
        outcome = matching_runs.run_mt(db, territory, now=now, user=current_db_user())
        assert outcome.run is not None
        _audit("matching.run", territory, object_type="matching_run", object_id=outcome.run.id,
               assigned=outcome.stats["n_assigned"], unassigned=outcome.stats["n_unassigned"])
        db.commit()
    except IntegrityError:
        db.rollback()
        flash(CONCURRENT_RUN, "error")
        return redirect(url_for("staff.matching_home"))
    s = outcome.stats
    seconds = f"{outcome.solver_seconds:.2f}".replace(".", ",")
    flash(f"Attribution terminée en {seconds} s : {s['n_assigned']} proposition(s), "
          f"{s['n_unassigned']} patient(s) sans proposition.", "success")
    if territory.is_auto_approval:
        flash("Votre territoire est en validation automatique : les propositions ont été envoyées aux médecins.",
              "info")
        _flash_failures(outcome.approval_failures)
    return redirect(url_for("staff.matching_review", run_id=outcome.run.id))


@bp.post("/attribution/simulation")
@staff_required
def matching_dry_run() -> ResponseReturnValue:
    db = get_session()
    territory = _territory()
    now = request_now()
    outcome = matching_runs.run_mt(db, territory, now=now, user=current_db_user(), dry_run=True)
    page = render_template("staff/matching_dry_run.html", territory=territory, outcome=outcome, now=now,
                           summary=matching_runs.patient_summary, form=ButtonForm())
    # a simulation stores nothing but the audit of what was shown
    db.rollback()
    territory = _territory()
    _audit("matching.dry_run", territory, object_type="territory", object_id=territory.id,
           requests=[p.request.id for p in outcome.placements][:500])
    db.commit()
    return page


def _run_of_territory(run_id: int, territory: Territory) -> MatchingRun:
    run = get_session().get(MatchingRun, run_id)
    if run is None or run.territory_id != territory.id:
        deny()
    return run  # type: ignore[return-value]


@bp.get("/attribution/<int:run_id>")
@staff_required
def matching_review(run_id: int) -> ResponseReturnValue:
    db = get_session()
    territory = _territory()
    run = _run_of_territory(run_id, territory)
    data = matching_runs.review_data(db, run)
    now = request_now()
    _audit("matching.review", territory, object_type="matching_run", object_id=run.id,
           requests=[p.request_id for p in data["proposals"]][:500])
    db.commit()
    return render_template("staff/matching_run.html", territory=territory, now=now,
                           summary=matching_runs.patient_summary, select_form=SelectionForm(),
                           action_form=ButtonForm(), flag_labels=FLAG_LABELS,
                           status_labels=PROPOSAL_STATUS_LABELS, **data)


@bp.post("/attribution/<int:run_id>/valider")
@staff_required
def matching_approve(run_id: int) -> ResponseReturnValue:
    db = get_session()
    territory = _territory()
    run = _run_of_territory(run_id, territory)
    form = SelectionForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(message, "error")
        return redirect(url_for("staff.matching_review", run_id=run.id))
    if form.approve_all.data:
        ids = arbitration.pending_drafts(db, territory, run_id=run.id)
    else:
        ids = list(form.proposal_ids.data or [])
    report = arbitration.approve(db, territory, ids, user=current_db_user(), now=request_now())
    db.commit()
    if report.approved:
        flash(f"{len(report.approved)} proposition(s) validée(s) et envoyée(s) aux médecins.", "success")
    _flash_failures(report.failed)
    return redirect(url_for("staff.matching_review", run_id=run.id))


def _proposal_of_territory(proposal_id: int, territory: Territory) -> Any:
    proposal = arbitration.territory_proposal(get_session(), territory, proposal_id)
    if proposal is None:
        deny()
    return proposal


def _back(proposal: Any) -> ResponseReturnValue:
    if proposal.run_id:
        return redirect(url_for("staff.matching_review", run_id=proposal.run_id))
    return redirect(url_for("staff.matching_home"))


def _proposal_action(proposal_id: int, action: Any, message: Any) -> ResponseReturnValue:
    """Apply one arbitration action to a proposal of the staff member's territory."""
    territory = _territory()
    proposal = _proposal_of_territory(proposal_id, territory)
    db = get_session()
    try:
        action(db, proposal, user=current_db_user(), now=request_now())
    except arbitration.ArbitrationError as exc:
        db.rollback()
        flash(str(exc), "error")
        return _back(proposal)
    db.commit()
    flash(message(proposal), "success")
    return _back(proposal)


@bp.post("/attribution/propositions/<int:proposal_id>/refuser")
@staff_required
def matching_reject(proposal_id: int) -> ResponseReturnValue:
    return _proposal_action(
        proposal_id, arbitration.reject,
        lambda p: f"Proposition refusée : la demande {p.request.reference} reste en attente.",
    )


@bp.post("/attribution/propositions/<int:proposal_id>/exclure")
@staff_required
def matching_exclude(proposal_id: int) -> ResponseReturnValue:
    return _proposal_action(
        proposal_id, arbitration.exclude,
        lambda p: f"{p.doctor.display_name} ne sera plus proposé(e) pour la demande {p.request.reference}.",
    )


@bp.route("/attribution/demandes/<int:request_id>/attribuer", methods=["GET", "POST"])
@staff_required
def matching_reassign(request_id: int) -> ResponseReturnValue:
    db = get_session()
    territory = _territory()
    req = db.get(PatientRequest, request_id)
    if req is None or req.territory_id != territory.id:
        deny()
    assert req is not None
    now = request_now()
    choices = arbitration.reassignable_doctors(db, req, now=now)
    form = ReassignForm()
    form.doctor_id.choices = [
        (d.id, f"{d.display_name} — {d.commune.name}"
               + (f", {km:.1f} km" if km is not None else "") + f" — {left} place(s)")
        for d, km, left in choices
    ]
    run_arg = request.args.get("run", "")
    run_id = int(run_arg) if run_arg.isdigit() and len(run_arg) < 10 else None
    if form.validate_on_submit():
        try:
            proposal = arbitration.reassign(db, req, form.doctor_id.data, user=current_db_user(), now=now)
        except arbitration.ArbitrationError as exc:
            db.rollback()
            req = db.get(PatientRequest, request_id)
            form.doctor_id.errors = [str(exc)]
        else:
            db.commit()
            flash(f"La demande {req.reference} est attribuée à {proposal.doctor.display_name}. "
                  "Cette attribution sera conservée par les prochaines campagnes ; validez-la pour l'envoyer.",
                  "success")
            if run_id is not None:
                return redirect(url_for("staff.matching_review", run_id=run_id))
            return redirect(url_for("staff.matching_home"))
    _audit("request.view", territory, object_type="patient_request", object_id=req.id, context="reassign")
    db.commit()
    return render_template("staff/matching_reassign.html", req=req, form=form, choices=choices, now=now,
                           summary=matching_runs.patient_summary, run_id=run_id)


# ---------------------------------------------------------------- SNP board


def _slot_label(slot: Any) -> str:
    start = to_paris(slot.start_dt)
    return f"{start:%d/%m} à {start:%H h %M} — {slot.doctor.display_name} ({slot.doctor.commune.name})"


@bp.get("/snp")
@staff_required
def snp_home() -> ResponseReturnValue:
    db = get_session()
    territory = _territory()
    now = request_now()
    data = snp_board.board(db, territory, now=now)
    slots_by_id = {s.id: s for s in data["slots"]}
    forms = {}
    for r in data["requests"]:
        f = SlotBookForm(prefix=f"r{r.id}", formdata=None)
        f.slot_id.choices = [(sid, _slot_label(slots_by_id[sid])) for sid in data["fits"][r.id]]
        forms[r.id] = f
    _audit("snp.board", territory, object_type="territory", object_id=territory.id,
           requests=[r.id for r in data["requests"]][:500])
    db.commit()
    return render_template("staff/snp_board.html", now=now, forms=forms, run_form=ButtonForm(),
                           summary=matching_runs.patient_summary, periods=matching_runs.SNP_PERIOD_LABELS, **data)


@bp.post("/snp/suggestions")
@staff_required
def snp_suggest() -> ResponseReturnValue:
    db = get_session()
    territory = _territory()
    now = request_now()
    outcome = matching_runs.solve_snp(db, territory, now=now)
    page = render_template("staff/snp_suggestions.html", outcome=outcome, now=now, form=SnpConfirmForm(),
                           summary=matching_runs.patient_summary)
    db.rollback()  # suggestions only: nothing is booked until staff confirm
    territory = _territory()
    _audit("snp.suggest", territory, object_type="territory", object_id=territory.id,
           requests=[p.request.id for p in outcome.placements][:500])
    db.commit()
    return page


@bp.post("/snp/reserver")
@staff_required
def snp_confirm() -> ResponseReturnValue:
    db = get_session()
    territory = _territory()
    form = SnpConfirmForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(message, "error")
        return redirect(url_for("staff.snp_home"))
    report = snp_board.book_many(db, territory, form.pair_values(), user=current_db_user(), now=request_now())
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
    territory = _territory()
    req = db.get(PatientRequest, request_id)
    if req is None or req.territory_id != territory.id or req.kind != "snp":
        deny()
    form = SlotBookForm(prefix=f"r{request_id}")
    form.slot_id.choices = [(s.id, "") for s in matching_runs.snp_free_slots(db, territory, now=request_now())]
    if not form.validate_on_submit():
        flash("Choisissez un créneau encore libre dans la liste.", "error")
        return redirect(url_for("staff.snp_home"))
    try:
        slot = snp_board.book(db, territory, request_id, form.slot_id.data, user=current_db_user(), now=request_now())
    except (snp_board.BoardError, snp_board.slots.SlotUnavailable) as exc:
        db.rollback()
        flash(str(exc), "error")
        return redirect(url_for("staff.snp_home"))
    db.commit()
    flash(f"Rendez-vous réservé : {_slot_label(slot)}. Le patient est prévenu.", "success")
    return redirect(url_for("staff.snp_home"))


# ---------------------------------------------------------------- waiting list


@bp.get("/liste-attente")
@staff_required
def waiting_home() -> ResponseReturnValue:
    db = get_session()
    territory = _territory()
    now = request_now()
    items = waiting_list.entries(db, territory, now=now)
    _audit("waiting_list.view", territory, object_type="territory", object_id=territory.id, count=len(items))
    db.commit()
    return render_template("staff/waiting_list.html", items=items, now=now)


@bp.get("/liste-attente/export.csv")
@staff_required
def waiting_export() -> ResponseReturnValue:
    db = get_session()
    territory = _territory()
    now = request_now()
    items = waiting_list.entries(db, territory, now=now)
    _audit("waiting_list.export", territory, object_type="territory", object_id=territory.id, count=len(items))
    db.commit()
    body = "".join(waiting_list.csv_lines(items))
    return Response(body, mimetype="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="liste-attente-{to_paris(now):%Y%m%d}.csv"'})


# ---------------------------------------------------------------- indicators


def _year() -> int:
    current = paris_today(request_now()).year
    arg = request.args.get("annee", "")
    if arg.isdigit() and 2020 <= int(arg) <= current:
        return int(arg)
    return current


@bp.get("/indicateurs")
@staff_required
def indicators_home() -> ResponseReturnValue:
    db = get_session()
    territory = _territory()
    year = _year()
    rows = indicators.compute(db, territory, year, now=request_now())
    current = paris_today(request_now()).year
    peak = max([r.received_mt + r.received_snp for r in rows] + [1])
    return render_template("staff/indicators.html", rows=rows, year=year, years=range(current, 2019, -1),
                           peak=peak, territory=territory)


@bp.get("/indicateurs/export.csv")
@staff_required
def indicators_export() -> ResponseReturnValue:
    db = get_session()
    territory = _territory()
    year = _year()
    rows = indicators.compute(db, territory, year, now=request_now())
    return Response("".join(indicators.csv_lines(rows)), mimetype="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="indicateurs-{territory.slug}-{year}.csv"'})
