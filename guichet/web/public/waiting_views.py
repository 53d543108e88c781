"""Public pages: the anonymous waiting list of each territory; yes/no answer links.

The waiting list is read from the snapshot the publication job stored (never computed
on a public request). An answer link shows a confirmation button on GET and records
the answer on POST only: mail scanners that open links change nothing.
"""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from guichet.messaging import follow_up, publication
from guichet.models import PublishedWaitingList, Territory
from guichet.web.forms import ButtonForm
from guichet.web.public.blueprint import bp
from guichet.web.ratelimit import limiter
from guichet.web.session import get_session, request_now


@bp.get("/liste-attente")
def waiting_lists() -> ResponseReturnValue:
    db = get_session()
    territories = db.scalars(
        select(Territory).where(Territory.id.in_(select(PublishedWaitingList.territory_id)))
        .order_by(Territory.name)
    ).all()
    return render_template("public/waiting_index.html", territories=territories)


@bp.get("/liste-attente/<slug>")
def waiting_list(slug: str) -> ResponseReturnValue:
    db = get_session()
    territory = db.scalar(select(Territory).where(Territory.slug == slug))
    if territory is None:
        abort(404)
    snapshot = publication.latest(db, territory)
    return render_template("public/waiting_list.html", territory=territory, snapshot=snapshot,
                           hidden=publication.HIDDEN)


def _limit() -> None:
    from flask import current_app

    g.no_store = True  # the page carries a private link
    if not limiter().hit("answer", int(current_app.config.get("RATE_LIMIT_TRACKING_PER_HOUR", 60))):
        abort(429)


@bp.route("/reponse/<token>/<answer>", methods=["GET", "POST"])
def answer(token: str, answer: str) -> ResponseReturnValue:
    _limit()
    if answer not in ("oui", "non"):
        abort(404)
    db = get_session()
    form = ButtonForm()
    try:
        item = follow_up.find_answerable(db, token)
    except follow_up.AnswerError as exc:
        return render_template("public/waiting_answer_done.html", message=str(exc), is_error=True), 410
    if form.validate_on_submit():
        try:
            follow_up.record_answer(db, token, answer, now=request_now())
        except follow_up.AnswerError as exc:
            return render_template("public/waiting_answer_done.html", message=str(exc), is_error=True), 410
        db.commit()
        flash("Merci, votre réponse est enregistrée.", "success")
        return redirect(url_for("public.answer_done"))
    return render_template("public/waiting_answer.html", form=form, question=follow_up.QUESTIONS[item.kind],
                           answer=answer, reference=item.request.reference)


@bp.get("/reponse/enregistree")
def answer_done() -> ResponseReturnValue:
    g.no_store = True
    return render_template("public/waiting_answer_done.html", message=None, is_error=False)
