"""Staff console: médecin traitant matching runs, their review and arbitration; the waiting list.

A run takes well under a second for a CPTS (thousands of patients, a hundred GPs), so it
runs inside the POST: the button shows what will happen, and the redirect lands on the
run's page with the solver time. No JavaScript is needed.
"""

from __future__ import annotations

from typing import Any

from flask import Response, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from guichet import paging
from guichet.assignment import arbitration, proposals, review, runs, waiting_list
from guichet.assignment import runs as run_service
from guichet.assignment.priority import FLAG_LABELS
from guichet.models import MatchingRun, PatientRequest, Proposal
from guichet.requests import queue
from guichet.timeutil import to_paris
from guichet.web.access import audit_list, current_territory, current_user_record, load_owned, record_audit
from guichet.web.forms import ButtonForm
from guichet.web.security import staff_required
from guichet.web.session import get_session, request_now
from guichet.web.staff.assignment import approve_all
from guichet.web.staff.assignment.forms import ApproveAllForm, ReassignForm, SelectionForm
from guichet.web.staff.blueprint import bp
from guichet.workflow import PROPOSAL_STATUS_LABELS

CONCURRENT_RUN = ("Une autre attribution a été lancée au même moment pour votre territoire : "
                  "rien n'a été enregistré. Ouvrez la dernière campagne ou relancez.")
NOT_SENT = "elle attend toujours sur la page de la campagne."


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
    territory = current_territory()
    runs = list(db.scalars(select(MatchingRun).where(MatchingRun.territory_id == territory.id,
                                                     MatchingRun.kind == "mt")
                           .order_by(MatchingRun.id.desc()).limit(10)))
    pending = len(arbitration.pending_drafts(db, territory))
    return render_template("staff/matching.html", territory=territory, runs=runs, pending=pending,
                           form=ButtonForm(), left_out=run_service.left_out(db, territory))


@bp.post("/attribution/lancer")
@staff_required
def matching_run() -> ResponseReturnValue:
    db = get_session()
    territory = current_territory()
    now = request_now()
    try:
        outcome = runs.run_mt(db, territory, now=now, user=current_user_record())
        assert outcome.run is not None
        record_audit("matching.run", object_type="matching_run", object_id=outcome.run.id,
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
    territory = current_territory()
    now = request_now()
    outcome = runs.run_mt(db, territory, now=now, user=current_user_record(), dry_run=True)
    page = render_template("staff/matching_dry_run.html", territory=territory, outcome=outcome, now=now,
                           summary=review.patient_summary, form=ButtonForm())
    # a simulation stores nothing but the audit of what was shown
    db.rollback()
    territory = current_territory()
    record_audit("matching.dry_run", object_type="territory", object_id=territory.id,
                 requests=[p.request.id for p in outcome.placements][:500])
    db.commit()
    return page


@bp.get("/attribution/<int:run_id>")
@staff_required
def matching_review(run_id: int) -> ResponseReturnValue:
    db = get_session()
    territory = current_territory()
    run = load_owned(MatchingRun, run_id)
    data = review.review_data(db, run)
    paged = review.paginate(data.pop("proposals"), paging.page_number(request.args.get("page")))
    now = request_now()
    record_audit("matching.review", object_type="matching_run", object_id=run.id,
                 requests=[p.request_id for p in paged.rows])
    db.commit()
    return render_template("staff/matching_run.html", territory=territory, now=now,
                           summary=review.patient_summary, select_form=SelectionForm(),
                           action_form=ButtonForm(), flag_labels=FLAG_LABELS, paged=paged,
                           proposals=paged.rows, status_labels=PROPOSAL_STATUS_LABELS, **data)


@bp.get("/attribution/<int:run_id>/valider-tout")
@staff_required
def matching_confirm_all(run_id: int) -> ResponseReturnValue:
    """Approving every draft sends them to the GPs: say how many and to whom before doing it."""
    db = get_session()
    territory = current_territory()
    run = load_owned(MatchingRun, run_id)
    ids = arbitration.pending_drafts(db, territory, run_id=run.id)
    doctors = len({p.doctor_id for p in db.scalars(select(Proposal).where(Proposal.id.in_(ids)))}) if ids else 0
    return render_template("staff/matching_confirm_all.html", run=run, count=len(ids), doctors=doctors,
                           select_form=SelectionForm(), batch_size=approve_all.BATCH_SIZE)


@bp.post("/attribution/<int:run_id>/valider")
@staff_required
def matching_approve(run_id: int) -> ResponseReturnValue:
    db = get_session()
    territory = current_territory()
    run = load_owned(MatchingRun, run_id)
    form = SelectionForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(message, "error")
        return redirect(url_for("staff.matching_review", run_id=run.id))
    if form.approve_all.data and not form.confirmed.data:
        return redirect(url_for("staff.matching_confirm_all", run_id=run.id))
    if form.approve_all.data:
        # confirmed: the drafts pending now are the job, sent batch after batch
        ids = arbitration.pending_drafts(db, territory, run_id=run.id)
        return _approve_batch(run, approve_all.Progress(run_id=run.id, user_id=current_user_record().id, ids=ids))
    report = arbitration.approve(db, territory, list(form.proposal_ids.data or []), user=current_user_record(),
                                 now=request_now())
    db.commit()
    if report.approved:
        flash(f"{len(report.approved)} proposition(s) validée(s) et envoyée(s) aux médecins.", "success")
    _flash_failures(report.failed)
    return redirect(url_for("staff.matching_review", run_id=run.id))


@bp.post("/attribution/<int:run_id>/valider-tout/suite")
@staff_required
def matching_approve_next(run_id: int) -> ResponseReturnValue:
    """The next batch of an "approve all" job (a click on "continue", or the page's script)."""
    run = load_owned(MatchingRun, run_id)
    form = ApproveAllForm()
    progress = None
    if form.validate_on_submit():
        progress = approve_all.load(form.state.data or "", run_id=run.id, user_id=current_user_record().id,
                                    now=request_now())
    if progress is None:
        message = ("Le suivi de cet envoi n'est plus valable (page trop ancienne ou ouverte par un autre compte). "
                   "Les propositions déjà envoyées le restent ; les autres attendent ci-dessous.")
        if _wants_json():
            return jsonify(error=message), 400
        flash(message, "error")
        return redirect(url_for("staff.matching_review", run_id=run.id))
    return _approve_batch(run, progress)


def _wants_json() -> bool:
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"


def _approve_batch(run: MatchingRun, progress: approve_all.Progress) -> ResponseReturnValue:
    """Approve the job's next batch in its own transaction, then say how far it got."""
    db = get_session()
    now = request_now()
    batch = progress.next_batch()
    if batch:
        report = arbitration.approve(db, current_territory(), batch, user=current_user_record(), now=now)
        db.commit()
        # "already handled" because it was sent meanwhile (a double click, a colleague) is no failure
        failed_ids = [i for i, _ in report.failed]
        sent_meanwhile = set(db.scalars(select(Proposal.id).where(
            Proposal.id.in_(failed_ids), Proposal.status.in_(approve_all.SENT_STATUSES)))) if failed_ids else set()
        report.failed = [(i, why) for i, why in report.failed if i not in sent_meanwhile]
        progress.record(batch, report)
    if _wants_json():
        return jsonify(done=progress.done, total=progress.total, finished=progress.is_finished,
                       message=progress.sentence(), state=approve_all.dump(progress, now=now))
    proposals_by_id = {p.id: p for p in db.scalars(
        select(Proposal).where(Proposal.id.in_(progress.ids))
        .options(selectinload(Proposal.request), selectinload(Proposal.doctor)))}
    if not progress.is_finished:
        form = ApproveAllForm(formdata=None, state=approve_all.dump(progress, now=now))
        failures = [(proposals_by_id[i], why) for i, why in progress.failed.items() if i in proposals_by_id]
        return render_template("staff/matching_approving.html", run=run, progress=progress, form=form,
                               failures=failures, batch_size=approve_all.BATCH_SIZE)
    # the outcome of each proposal, on its own page, the failures first; a proposal sent
    # meanwhile (by a second click or a colleague) is reported as sent, which it is
    outcome = []
    for proposal_id in progress.ids:
        proposal = proposals_by_id.get(proposal_id)
        if proposal is not None:
            sent = proposal.status in approve_all.SENT_STATUSES
            outcome.append((proposal, None if sent else progress.failed.get(proposal_id, NOT_SENT)))
    outcome.sort(key=lambda row: (row[1] is None, row[0].id))
    failed = sum(1 for _, error in outcome if error)
    return render_template("staff/matching_approved.html", run=run, outcome=outcome,
                           approved=len(outcome) - failed, failed=failed)


def _back(proposal: Any) -> ResponseReturnValue:
    """Back to the review page the coordinator was on, at the row after the one handled."""
    if not proposal.run_id:
        return redirect(url_for("staff.matching_home"))
    page = request.form.get("page", "")
    anchor = request.form.get("anchor", "")
    return redirect(url_for("staff.matching_review", run_id=proposal.run_id,
                            page=int(page) if page.isdigit() and len(page) < 6 else None,
                            _anchor=anchor if anchor.isalnum() and len(anchor) < 20 else "proposals-title"))


def _proposal_action(proposal_id: int, action: Any, message: Any) -> ResponseReturnValue:
    """Apply one arbitration action to a proposal of the staff member's territory."""
    proposal = load_owned(Proposal, proposal_id)
    db = get_session()
    try:
        action(db, proposal, user=current_user_record(), now=request_now())
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
    req = load_owned(PatientRequest, request_id)
    now = request_now()
    choices = arbitration.reassignable_doctors(db, req, now=now)
    form = ReassignForm()
    form.doctor_id.choices = [(c.doctor.id, c.doctor.display_name) for c in choices]
    run_arg = request.args.get("run", "")
    run_id = int(run_arg) if run_arg.isdigit() and len(run_arg) < 10 else None
    if form.validate_on_submit():
        try:
            proposal = arbitration.reassign(db, req, form.doctor_id.data, user=current_user_record(), now=now)
        except arbitration.ArbitrationError as exc:
            db.rollback()
            req = load_owned(PatientRequest, request_id)
            form.doctor_id.errors = [str(exc)]
        else:
            db.commit()
            flash(f"La demande {req.reference} est attribuée à {proposal.doctor.display_name}. "
                  "Cette attribution sera conservée par les prochaines campagnes ; validez-la pour l'envoyer.",
                  "success")
            if run_id is not None:
                return redirect(url_for("staff.matching_review", run_id=run_id))
            return redirect(url_for("staff.matching_home"))
    record_audit("request.view", object_type="patient_request", object_id=req.id, context="reassign")
    db.commit()
    return render_template("staff/matching_reassign.html", req=req, form=form, choices=choices, now=now,
                           summary=review.patient_summary, run_id=run_id)


# ---------------------------------------------------------------- waiting list


@bp.get("/liste-attente")
@staff_required
def waiting_home() -> ResponseReturnValue:
    db = get_session()
    territory = current_territory()
    now = request_now()
    filters = waiting_list.Filters.from_args(request.args)
    items = waiting_list.filtered(db, territory, filters, now=now)
    page = waiting_list.page_of(items, filters)
    audit_list("waiting_list.view", (e.request.id for e in page.rows), object_type="territory",
               object_id=territory.id, filters=filters.audit_codes(), page=page.page, count=page.total)
    return render_template("staff/waiting_list.html", page=page, filters=filters, now=now,
                           waiting=waiting_list, queue=queue, needs=proposals.needs_of,
                           communes=queue.territory_communes(db, territory.id))


@bp.get("/liste-attente/export.csv")
@staff_required
def waiting_export() -> ResponseReturnValue:
    db = get_session()
    territory = current_territory()
    now = request_now()
    filters = waiting_list.Filters.from_args(request.args)
    items = waiting_list.filtered(db, territory, filters, now=now)
    # exporting is a read of every listed request: the ids and the filters' codes are audited
    audit_list("waiting_list.export", (e.request.id for e in items), object_type="territory",
               object_id=territory.id, filters=filters.audit_codes(), count=len(items))
    body = "".join(waiting_list.csv_lines(items))
    return Response(body, mimetype="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="liste-attente-{to_paris(now):%Y%m%d}.csv"'})
