"""Coordinators' pages: scheduled job runs, messages in permanent failure, letters to print."""

from __future__ import annotations

from datetime import timedelta

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from guichet.accounts import audit
from guichet.formatting import plural_fr
from guichet.jobs import registry
from guichet.jobs.cli import OUTCOME_LABELS
from guichet.jobs.runner import last_runs, run_job
from guichet.messaging import delivery
from guichet.models import JobRun, Notification
from guichet.web.access import (
    current_territory_id,
    current_user_record,
    deny,
    is_instance_admin,
    load_owned,
    record_audit,
)
from guichet.web.forms import ButtonForm
from guichet.web.security import admin_required, staff_required
from guichet.web.session import get_session, request_now
from guichet.web.staff.blueprint import bp

#: jobs an admin may start from the console rather than wait for their time
RUNNABLE_NOW = ("publication", "delivery")


def _letter(notification_id: int) -> Notification:
    letter = load_owned(Notification, notification_id)
    if letter.channel != "letter":
        deny()
    return letter


@bp.get("/taches")
@staff_required
def jobs_overview() -> ResponseReturnValue:
    db = get_session()
    territory_id = current_territory_id()
    now = request_now()
    latest = last_runs(db)
    jobs = []
    for job_id, spec in registry.JOBS.items():
        raw = registry.job_trigger_spec(job_id, current_app.config)
        try:
            when = registry.describe_trigger(raw)
        except Exception:  # a malformed setting is shown, not a crash of the console
            when = f"horaire invalide : {raw}"
        jobs.append({"id": job_id, "label": spec.label, "when": when, "last": latest.get(job_id)})
    failures = db.scalars(
        select(JobRun).where(JobRun.outcome == "failure", JobRun.started_dt > now - timedelta(days=30))
        .order_by(JobRun.started_dt.desc()).limit(50)
    ).all()
    recent = db.scalars(select(JobRun).order_by(JobRun.id.desc()).limit(30)).all()
    failed = delivery.failed_messages(db, territory_id)
    letters = delivery.letters_to_print(db, territory_id)
    if failed:
        audit.record(db, "notification.failed.list", now=now, user_id=current_user_record().id,
                     territory_id=territory_id, count=len(failed))
        db.commit()
    return render_template(
        "staff/jobs.html", jobs=jobs, failures=failures, recent=recent, failed=failed,
        n_letters=len(letters), labels={s.id: s.label for s in registry.JOBS.values()},
        outcomes=OUTCOME_LABELS, form=ButtonForm(), runnable=RUNNABLE_NOW,
        sees_all=is_instance_admin(current_user_record()),
    )


@bp.post("/taches/messages/<int:notification_id>/renvoyer")
@staff_required
def message_retry(notification_id: int) -> ResponseReturnValue:
    db = get_session()
    notification = load_owned(Notification, notification_id)
    form = ButtonForm()
    if form.validate_on_submit():
        try:
            delivery.retry(db, notification, now=request_now(), user_id=current_user_record().id)
        except delivery.NotRetryable as exc:
            flash(str(exc), "error")
        else:
            db.commit()
            flash("Le message sera renvoyé lors du prochain envoi (dans quelques minutes).", "success")
    return redirect(url_for("staff.jobs_overview"))


@bp.get("/courriers")
@staff_required
def letters() -> ResponseReturnValue:
    db = get_session()
    territory_id = current_territory_id()
    items = delivery.letters_to_print(db, territory_id)
    references = {}
    for item in items:
        if item.request_id is not None:
            references[item.id] = (item.context or {}).get("reference", "")
    return render_template("staff/letters.html", letters=items, references=references)


@bp.get("/courriers/<int:notification_id>")
@staff_required
def letter_print(notification_id: int) -> ResponseReturnValue:
    db = get_session()
    letter = _letter(notification_id)
    record_audit("letter.view", object_type="notification", object_id=letter.id, request_id=letter.request_id)
    db.commit()
    return render_template(
        "staff/letters_print.html", letter=letter, address=delivery.letter_recipient(db, letter),
        body=delivery.letter_text(letter), form=ButtonForm(),
        territory=current_user_record().territory,
    )


@bp.post("/courriers/<int:notification_id>/imprime")
@staff_required
def letter_printed(notification_id: int) -> ResponseReturnValue:
    db = get_session()
    letter = _letter(notification_id)
    form = ButtonForm()
    if form.validate_on_submit():
        try:
            delivery.mark_printed(db, letter, now=request_now(), user_id=current_user_record().id)
        except delivery.NotAPrintableLetter as exc:
            flash(str(exc), "error")
        else:
            db.commit()
            flash("Courrier marqué comme imprimé.", "success")
    return redirect(url_for("staff.letters"))




@bp.get("/courriers/tout-imprimer")
@staff_required
def letters_print_all() -> ResponseReturnValue:
    """Every pending letter in one document, one per sheet, to print at once."""
    db = get_session()
    items = delivery.letters_to_print(db, current_territory_id())
    record_audit("letter.view_all", count=len(items), notifications=[n.id for n in items][:500])
    db.commit()
    return render_template(
        "staff/letters_print_all.html", form=ButtonForm(), territory=current_user_record().territory,
        letters=[(n, delivery.letter_recipient(db, n), delivery.letter_text(n)) for n in items],
    )


@bp.post("/courriers/imprimes")
@staff_required
def letters_printed() -> ResponseReturnValue:
    db = get_session()
    if ButtonForm().validate_on_submit():
        ids = [int(v) for v in request.form.getlist("letter") if v.isdigit() and len(v) < 12]
        count = delivery.mark_all_printed(db, current_territory_id(), ids, now=request_now(),
                                          user_id=current_user_record().id)
        db.commit()
        done = "marqués comme imprimés" if count > 1 else "marqué comme imprimé"
        flash(f"{plural_fr(count, 'courrier')} {done}.", "success")
    return redirect(url_for("staff.letters"))


@bp.post("/taches/<job_id>/lancer")
@admin_required
def job_run_now(job_id: str) -> ResponseReturnValue:
    """Run the publication or the delivery now (same lock and record as the scheduler)."""
    if job_id not in RUNNABLE_NOW or not ButtonForm().validate_on_submit():
        return redirect(url_for("staff.jobs_overview"))
    record_audit("job.run_now", job=job_id)
    get_session().commit()
    result = run_job(job_id, current_app.extensions["guichet"]["sessionmaker"], request_now(),
                     settings=dict(current_app.config))
    counts = ", ".join(f"{k} : {v}" for k, v in result.summary.items()) or "rien à faire"
    label = registry.JOBS[job_id].label
    if result.outcome == "failure":
        flash(f"{label} : échec. Voir le détail ci-dessous.", "error")
    else:
        flash(f"{label} : {OUTCOME_LABELS.get(result.outcome, result.outcome)} ({counts}).", "success")
    return redirect(url_for("staff.jobs_overview"))


@bp.get("/taches/messages-envoyes")
@staff_required
def sent_messages() -> ResponseReturnValue:
    """Development only: the last e-mails the delivery sent, as their recipients read them."""
    if current_app.config.get("ENV") == "production":
        abort(404)
    db = get_session()
    territory_id = current_territory_id()
    sent = db.scalars(select(Notification).where(
        Notification.territory_id == territory_id, Notification.channel == "email", Notification.status == "sent",
    ).order_by(Notification.sent_dt.desc(), Notification.id.desc()).limit(30)).all()
    record_audit("notification.sent.list", count=len(sent))
    db.commit()
    return render_template("staff/sent_messages.html",
                           messages=[(n, delivery.letter_text(n)) for n in sent])
