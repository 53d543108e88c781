"""GP portal views: inbox of proposals, capacity declaration, unscheduled-care slots.

Every route loads its record with web.access.load_owned: a GP opens only their own
proposals (once sent), declarations and slots; anything else is an audited 404.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from guichet import vocabulary
from guichet.accounts import audit
from guichet.assignment import proposals
from guichet.doctors import capacity, practitioners, slot_patterns, slots
from guichet.formatting import datetime_fr, plural_fr
from guichet.models import Doctor, Proposal, Slot, SlotPattern
from guichet.timeutil import paris_today, to_paris
from guichet.web.access import current_doctor, current_user_record, load_owned
from guichet.web.doctors.blueprint import bp
from guichet.web.doctors.forms import (
    CancelSlotForm,
    DeclarationForm,
    DeclineForm,
    FollowUpForm,
    OneOffSlotsForm,
    WeeklySlotsForm,
)
from guichet.web.forms import ButtonForm, required
from guichet.web.practice import edit_practice
from guichet.web.ratelimit import client_ip
from guichet.web.security import doctor_required
from guichet.web.session import get_session, request_now
from guichet.workflow import IllegalTransition

FOLLOW_UP_STEPS = {
    "first_consultation": "Première consultation faite",
    "mt_declared": "Déclaration de médecin traitant faite",
}
NO_LONGER_WAITING = "Cette proposition n'attend plus de réponse de votre part."


# --- inbox --------------------------------------------------------------------------


@bp.get("/")
@doctor_required
def home() -> ResponseReturnValue:
    db = get_session()
    doctor = current_doctor()
    now = request_now()
    to_answer, follow_up = practitioners.inbox(db, doctor.id)
    current, summary = practitioners.summary_of(db, doctor)
    return render_template(
        "doctors/home.html", doctor=doctor, now=now,
        to_answer=[practitioners.proposal_view(p, now=now) for p in to_answer],
        follow_up=[practitioners.proposal_view(p, now=now) for p in follow_up],
        current=current, summary=summary, is_open=capacity.is_open(current, paris_today(now)),
        next_slots=practitioners.next_slots(db, doctor.id, now=now),
    )


@bp.get("/propositions/<int:proposal_id>")
@doctor_required
def proposal(proposal_id: int) -> ResponseReturnValue:
    return _proposal_page(load_owned(Proposal, proposal_id), DeclineForm())


def _proposal_page(p: Proposal, decline_form: DeclineForm) -> ResponseReturnValue:
    db = get_session()
    now = request_now()
    shows_identity = p.status == "accepted"
    if shows_identity:
        # the GP now reads the patient's identity and contact details: keep a trace
        audit.record(db, "request.view_by_doctor", now=now, user_id=current_user_record().id,
                     object_type="patient_request", object_id=p.request_id,
                     territory_id=p.request.territory_id, ip=client_ip())
        db.commit()
    return render_template(
        "doctors/proposal.html", p=p, view=practitioners.proposal_view(p, now=now), shows_identity=shows_identity,
        patient=p.request.patient if shows_identity else None, decline_form=decline_form,
        decline_text=proposals.decline_text(p) if p.status == "declined" else "",
        follow_up_form=FollowUpForm(), steps=FOLLOW_UP_STEPS,
    )


@bp.post("/propositions/<int:proposal_id>/accepter")
@doctor_required
def accept(proposal_id: int) -> ResponseReturnValue:
    db = get_session()
    p = load_owned(Proposal, proposal_id)
    if p.status != "sent":
        flash(NO_LONGER_WAITING, "error")
    else:
        try:
            proposals.accept(db, p, now=request_now(), user_id=current_user_record().id)
        except IllegalTransition:  # answered, withdrawn or expired meanwhile (double click…)
            db.rollback()
            flash(NO_LONGER_WAITING, "error")
        else:
            db.commit()
            flash("Merci ! Vous avez accepté ce patient : il est prévenu. Voici ses coordonnées.", "success")
    return redirect(url_for("doctors.proposal", proposal_id=proposal_id))


@bp.post("/propositions/<int:proposal_id>/refuser")
@doctor_required
def decline(proposal_id: int) -> ResponseReturnValue:
    db = get_session()
    p = load_owned(Proposal, proposal_id)
    form = DeclineForm()
    if p.status != "sent":
        flash(NO_LONGER_WAITING, "error")
        return redirect(url_for("doctors.proposal", proposal_id=p.id))
    if not form.validate_on_submit():
        return _proposal_page(p, form)
    try:
        proposals.decline(db, p, now=request_now(), code=required(form.code.data),
                          reason=(form.reason.data or "").strip() or None, user_id=current_user_record().id)
    except IllegalTransition:  # answered, withdrawn or expired meanwhile (double click…)
        db.rollback()
        flash(NO_LONGER_WAITING, "error")
        return redirect(url_for("doctors.proposal", proposal_id=proposal_id))
    db.commit()
    flash("Proposition refusée. Ce patient ne vous sera plus proposé ; la coordination cherche un autre médecin.",
          "success")
    return redirect(url_for("doctors.home"))


@bp.post("/propositions/<int:proposal_id>/suivi")
@doctor_required
def follow_up(proposal_id: int) -> ResponseReturnValue:
    db = get_session()
    p = load_owned(Proposal, proposal_id)
    form = FollowUpForm()
    step = form.step.data if form.validate_on_submit() else None
    if step not in FOLLOW_UP_STEPS:
        flash("Action inconnue : rechargez la page et recommencez.", "error")
        return redirect(url_for("doctors.proposal", proposal_id=p.id))
    try:
        proposals.record_follow_up(db, p, now=request_now(), first_consultation=step == "first_consultation",
                                   mt_declared=step == "mt_declared", user_id=current_user_record().id)
    except IllegalTransition:
        flash("Ce suivi n'est possible que pour un patient que vous avez accepté.", "error")
        return redirect(url_for("doctors.proposal", proposal_id=p.id))
    db.commit()
    if p.request.status == "completed":
        flash("C'est noté : l'accompagnement de ce patient est terminé. Merci !", "success")
    else:
        flash(f"C'est noté : {FOLLOW_UP_STEPS[step].lower()}.", "success")
    return redirect(url_for("doctors.proposal", proposal_id=p.id))


# --- capacity -------------------------------------------------------------------------


def _declaration_form(doctor: Doctor) -> DeclarationForm:
    form = DeclarationForm()
    form.priority_flags.choices = list(practitioners.territory_flags(doctor.territory).items())
    current, _ = practitioners.summary_of(get_session(), doctor)
    form.max_km.choices = [(str(km), f"{km} km") for km in
                           practitioners.distance_choices(current.max_km if current else None)]
    return form


def _prefill(form: DeclarationForm, doctor: Doctor) -> None:
    db = get_session()
    current, summary = practitioners.summary_of(db, doctor)
    if current is None or summary is None:
        return
    # the new figure counts from now: offer what is still open (remaining + pending)
    form.new_patients.data = min(practitioners.MAX_NEW_PATIENTS, max(0, summary.declared - summary.accepted))
    if current.valid_until and current.valid_until > paris_today(request_now()):
        form.valid_until.data = current.valid_until
    form.max_km.data = str(current.max_km)
    form.is_priority_only.data = current.is_priority_only
    form.priority_flags.data = list(current.priority_flags or [])
    form.accepts_children.data = current.accepts_children
    form.does_home_visits.data = current.does_home_visits
    form.languages.data = list(current.languages or [])


def _capacity_page(form: DeclarationForm, doctor: Doctor, *, ask_pending: bool = False,
                   status: int = 200) -> ResponseReturnValue:
    db = get_session()
    now = request_now()
    current, summary = practitioners.summary_of(db, doctor)
    return render_template(
        "doctors/capacity.html", form=form, current=current, summary=summary,
        is_open=capacity.is_open(current, paris_today(now)), history=practitioners.declaration_history(db, doctor.id),
        ask_pending=ask_pending, languages=vocabulary.LANGUAGES, flag_labels=practitioners.flags_labels,
        today=paris_today(now),
    ), status


@bp.route("/disponibilite", methods=["GET", "POST"])
@doctor_required
def availability() -> ResponseReturnValue:
    db = get_session()
    doctor = current_doctor()
    form = _declaration_form(doctor)
    if request.method == "GET":
        _prefill(form, doctor)
        return _capacity_page(form, doctor)
    if not form.validate_on_submit():
        return _capacity_page(form, doctor, ask_pending=bool(form.pending_action.data))
    try:
        practitioners.declare_capacity(
            db, doctor, now=request_now(), new_patients=form.new_patients.data or 0,
            valid_until=required(form.valid_until.data), max_km=int(form.max_km.data or 0),
            is_priority_only=form.is_priority_only.data, priority_flags=form.priority_flags.data or [],
            accepts_children=form.accepts_children.data, does_home_visits=form.does_home_visits.data,
            languages=form.languages.data or [], pending_action=form.pending_action.data or None,
            user_id=current_user_record().id,
        )
    except practitioners.PendingChoiceNeeded as exc:
        db.rollback()
        form.pending_action.errors = [str(exc)]
        return _capacity_page(form, doctor, ask_pending=True)
    except practitioners.DoctorError as exc:
        db.rollback()
        getattr(form, exc.field or "new_patients").errors.append(str(exc))
        return _capacity_page(form, doctor, ask_pending=bool(form.pending_action.data))
    db.commit()
    current = capacity.current_declaration(db, doctor.id)
    if current is not None and current.is_paused:
        flash("Votre déclaration est enregistrée. Elle reste en pause : reprenez-la quand vous le souhaitez.",
              "success")
    else:
        flash("Votre déclaration est enregistrée. Merci !", "success")
    return redirect(url_for("doctors.availability"))


@bp.post("/disponibilite/pause")
@doctor_required
def pause() -> ResponseReturnValue:
    return _set_paused(True)


@bp.post("/disponibilite/reprise")
@doctor_required
def resume() -> ResponseReturnValue:
    return _set_paused(False)


def _set_paused(paused: bool) -> ResponseReturnValue:
    db = get_session()
    doctor = current_doctor()
    try:
        practitioners.set_paused(db, doctor, paused, now=request_now(), user_id=current_user_record().id)
    except practitioners.DoctorError as exc:
        flash(str(exc), "error")
        return redirect(url_for("doctors.availability"))
    db.commit()
    if paused:
        flash("Pause enregistrée : la coordination ne vous propose plus de nouveau patient. Les propositions déjà "
              "envoyées attendent toujours votre réponse.", "success")
    else:
        flash("Reprise enregistrée : la coordination peut de nouveau vous proposer des patients.", "success")
    return redirect(url_for("doctors.availability"))


# --- slots ------------------------------------------------------------------------------


def _week_page(monday: date | None, week_error: str = "") -> ResponseReturnValue:
    db = get_session()
    doctor = current_doctor()
    now = request_now()
    this_monday = _monday(paris_today(now))
    monday = monday or this_monday
    days = slot_patterns.week(db, doctor.id, monday)
    rows = [row for day in days for row in day.rows]
    booked_ids = [r.request.id for r in rows if r.request is not None]
    if booked_ids:
        # the GP reads the identity of the patients booked into their slots: keep a trace
        audit.record(db, "snp.view_by_doctor", now=now, user_id=current_user_record().id,
                     object_type="doctor", object_id=doctor.id, territory_id=doctor.territory_id,
                     ip=client_ip(), requests=booked_ids[:500])
        db.commit()
    return render_template(
        "doctors/slots.html", days=days, monday=monday, this_monday=this_monday, now=now,
        today=paris_today(now), week_error=week_error, iso_week=slot_patterns.iso_week,
        patterns=slot_patterns.patterns_of(db, doctor.id, now=now), timedelta=timedelta,
        age_group=lambda r: proposals.age_group(r, now), category=slot_patterns.category_label,
        state_of=slot_patterns.slot_state, state_labels=slot_patterns.STATE_LABELS,
        counts={state: sum(1 for r in rows if slot_patterns.slot_state(r.slot) == state)
                for state in slot_patterns.STATE_LABELS},
    )


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _week_url(day: date) -> str:
    return url_for("doctors.slots_page", semaine=slot_patterns.iso_week(day))


def _form_page(form: OneOffSlotsForm | WeeklySlotsForm, *, title: str, submit: str,
               pattern_row: slot_patterns.PatternRow | None = None, kept: int = 0) -> ResponseReturnValue:
    return render_template("doctors/slot_form.html", form=form, title=title, submit=submit,
                           pattern_row=pattern_row, kept=kept)


def _apply_slot_error(form: OneOffSlotsForm | WeeklySlotsForm, exc: slot_patterns.SlotPatternError) -> None:
    target = getattr(form, exc.field or "start_time", None) or form.start_time
    target.errors = [*target.errors, str(exc)]


def _kept_message(kept: list[Slot]) -> str:
    if not kept:
        return ""
    when = ", ".join(datetime_fr(s.start_dt) for s in kept)
    if len(kept) == 1:
        return (f" 1 créneau réservé est conservé ({when}) : annulez-le avec un motif si nécessaire.")
    return (f" {len(kept)} créneaux réservés sont conservés ({when}) : annulez-les un par un avec un motif "
            "si nécessaire.")


@bp.get("/creneaux")
@doctor_required
def slots_page() -> ResponseReturnValue:
    text = request.args.get("semaine", "")
    if not text:
        return _week_page(None)
    try:
        return _week_page(slot_patterns.parse_week(text))
    except slot_patterns.SlotPatternError as exc:
        return _week_page(None, week_error=str(exc))


@bp.route("/creneaux/ponctuel", methods=["GET", "POST"])
@doctor_required
def add_one_off() -> ResponseReturnValue:
    db = get_session()
    doctor = current_doctor()
    form = OneOffSlotsForm()
    page: dict[str, Any] = {"title": "Ajouter des créneaux un jour donné", "submit": "Ajouter"}
    if request.method == "GET":
        form.day.data = paris_today(request_now()) + timedelta(days=1)
        return _form_page(form, **page)
    if not form.validate_on_submit():
        return _form_page(form, **page)
    try:
        created = slot_patterns.add_one_off(
            db, doctor, day=required(form.day.data), start=required(form.start_time.data),
            minutes=form.minutes.data or 0, count=form.count.data or 0, now=request_now(),
            user_id=current_user_record().id,
        )
    except slot_patterns.SlotPatternError as exc:
        db.rollback()
        _apply_slot_error(form, exc)
        return _form_page(form, **page)
    db.commit()
    flash(f"{plural_fr(len(created), 'créneau', 'créneaux')} ajouté{'s' if len(created) > 1 else ''}.", "success")
    return redirect(_week_url(required(form.day.data)))


def _weekly_spec(form: WeeklySlotsForm) -> slot_patterns.WeeklySpec:
    return slot_patterns.WeeklySpec(
        weekdays=tuple(int(d) for d in form.weekdays.data or []), start=required(form.start_time.data),
        minutes=form.minutes.data or 0, count=form.count.data or 0, until=required(form.until.data))


@bp.route("/creneaux/hebdomadaire", methods=["GET", "POST"])
@doctor_required
def add_weekly() -> ResponseReturnValue:
    db = get_session()
    doctor = current_doctor()
    form = WeeklySlotsForm()
    page: dict[str, Any] = {"title": "Ajouter des créneaux chaque semaine", "submit": "Ajouter chaque semaine"}
    if request.method == "GET":
        form.until.data = paris_today(request_now()) + timedelta(days=90)
        return _form_page(form, **page)
    if not form.validate_on_submit():
        return _form_page(form, **page)
    spec = _weekly_spec(form)
    try:
        created = slot_patterns.add_weekly(
            db, doctor, weekdays=spec.weekdays, start=spec.start, minutes=spec.minutes, count=spec.count,
            until=spec.until, now=request_now(), user_id=current_user_record().id,
        )
    except slot_patterns.SlotPatternError as exc:
        db.rollback()
        _apply_slot_error(form, exc)
        return _form_page(form, **page)
    db.commit()
    flash(f"Série ajoutée, {slot_patterns.describe(spec)} : {plural_fr(len(created), 'créneau', 'créneaux')}.",
          "success")
    return redirect(_week_url(to_paris(created[0].start_dt).date()))


def _live_pattern(pattern_id: int) -> SlotPattern | None:
    """The GP's own pattern (else an audited 404); None, with a message, once it is removed."""
    pattern = load_owned(SlotPattern, pattern_id)
    if pattern.removed_dt is not None:
        flash("Cette série a déjà été supprimée.", "error")
        return None
    return pattern


@bp.route("/creneaux/series/<int:pattern_id>/modifier", methods=["GET", "POST"])
@doctor_required
def edit_pattern(pattern_id: int) -> ResponseReturnValue:
    db, now = get_session(), request_now()
    pattern = _live_pattern(pattern_id)
    if pattern is None:
        return redirect(url_for("doctors.slots_page"))
    form = WeeklySlotsForm()
    _, kept = slot_patterns.removal_preview(db, pattern, now=now)
    page: dict[str, Any] = {
        "title": "Modifier une série hebdomadaire", "submit": "Enregistrer la série", "kept": len(kept),
        "pattern_row": next(r for r in slot_patterns.patterns_of(db, pattern.doctor_id, now=now)
                                if r.pattern.id == pattern.id)}
    if request.method == "GET":
        spec = slot_patterns.spec_of(pattern)
        form.weekdays.data = [str(d) for d in spec.weekdays]
        form.start_time.data, form.minutes.data, form.count.data = spec.start, spec.minutes, spec.count
        form.until.data = spec.until
        return _form_page(form, **page)
    if not form.validate_on_submit():
        return _form_page(form, **page)
    try:
        change = slot_patterns.edit_pattern(db, pattern, _weekly_spec(form), now=now,
                                            user_id=current_user_record().id)
    except slot_patterns.SlotPatternError as exc:
        db.rollback()
        _apply_slot_error(form, exc)
        return _form_page(form, **page)
    db.commit()
    flash(f"Série modifiée, {slot_patterns.describe(pattern)}. Créneaux libres à venir retirés : {change.removed}, "
          f"ajoutés : {len(change.created)}.{_kept_message(change.kept)}", "success")
    return redirect(url_for("doctors.slots_page"))


@bp.route("/creneaux/series/<int:pattern_id>/supprimer", methods=["GET", "POST"])
@doctor_required
def remove_pattern(pattern_id: int) -> ResponseReturnValue:
    db, now = get_session(), request_now()
    pattern = _live_pattern(pattern_id)
    if pattern is None:
        return redirect(url_for("doctors.slots_page"))
    if request.method == "GET" or not ButtonForm().validate_on_submit():
        free, kept = slot_patterns.removal_preview(db, pattern, now=now)
        return render_template("doctors/remove_pattern.html", pattern=pattern, free=free, kept=kept,
                               description=slot_patterns.describe(pattern), form=ButtonForm())
    change = slot_patterns.remove_pattern(db, pattern, now=now, user_id=current_user_record().id)
    db.commit()
    flash(f"Série supprimée. Créneaux libres à venir retirés : {change.removed}.{_kept_message(change.kept)}",
          "success")
    return redirect(url_for("doctors.slots_page"))


@bp.route("/creneaux/<int:slot_id>/annuler", methods=["GET", "POST"])
@doctor_required
def cancel_slot(slot_id: int) -> ResponseReturnValue:
    db = get_session()
    slot = load_owned(Slot, slot_id)
    form = CancelSlotForm()
    if form.validate_on_submit():
        try:
            lost = slot_patterns.cancel(db, slot, now=request_now(), reason=form.reason.data,
                                        user_id=current_user_record().id)
        except slots.SlotUnavailable as exc:
            db.rollback()
            form.reason.errors = [*form.reason.errors, str(exc)]
        else:
            db.commit()
            if lost is not None:
                flash("Créneau annulé. La coordination est prévenue et va proposer un autre rendez-vous au patient.",
                      "success")
            else:
                flash("Créneau supprimé.", "success")
            return redirect(_week_url(to_paris(slot.start_dt).date()))
    return render_template("doctors/cancel_slot.html", slot=slot, form=form,
                           booked=slot.status in ("booked", "held"),
                           pattern=slot.pattern if slot.pattern and slot.pattern.removed_dt is None else None,
                           describe=slot_patterns.describe, week_url=_week_url(to_paris(slot.start_dt).date()))


# --- practice -----------------------------------------------------------------------


@bp.route("/cabinet", methods=["GET", "POST"])
@doctor_required
def practice() -> ResponseReturnValue:
    return edit_practice(current_doctor(), template="doctors/practice.html", done_url=url_for("doctors.home"))
