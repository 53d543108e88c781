"""Staff console: "Simuler des règles" — compare allocation rules on the territory, then apply them.

The form is a GET (it computes and changes nothing, and its address can be shared); the
simulation of a year takes about a second for a CPTS, so it runs inside the request.
Applying the proposed rules is a POST for administrators only, audited by the settings
service like any settings change.
"""

from __future__ import annotations

from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from guichet.assignment import scenario, simulator
from guichet.assignment.priority import DEFAULT_WEIGHTS, guarantee_sentence
from guichet.territories import settings as territory_settings
from guichet.web.access import current_territory, current_user_record
from guichet.web.security import admin_required, staff_required
from guichet.web.session import get_session, request_now
from guichet.web.staff.assignment.forms import ApplyRulesForm, SimulationForm
from guichet.web.staff.blueprint import bp

#: territory settings the page proposes besides the priority weights
RULE_SETTINGS = ("waiting_guarantee_days", "default_patient_km")
#: the chart's drawing area inside its viewBox (px)
CHART = {"width": 640, "height": 360, "left": 70, "right": 20, "top": 20, "bottom": 60}


def _proposed(form: SimulationForm) -> dict[str, Any]:
    return {"priority_weights": {k: getattr(form, f"weight_{k}").data for k in DEFAULT_WEIGHTS},
            **{k: getattr(form, k).data for k in RULE_SETTINGS}}


def _fill_with_current(form: SimulationForm) -> None:
    current = territory_settings.effective_settings(current_territory())
    for key in DEFAULT_WEIGHTS:
        getattr(form, f"weight_{key}").data = int(current["priority_weights"][key])
    for key in RULE_SETTINGS:
        getattr(form, key).data = int(current[key])


def _run(form: SimulationForm) -> simulator.Simulation:
    db = get_session()
    world = scenario.scenario_for(db, current_territory(), now=request_now())
    return simulator.simulate(world, days=int(form.days.data or 365), seed=int(form.seed.data or 0),
                              proposed=_proposed(form))


def chart(sim: simulator.Simulation) -> dict[str, Any]:
    """Points of the trade-off chart: ALD/70 + placed within 30 days (x) against people waiting beyond (y)."""
    c = CHART
    inner_w = c["width"] - c["left"] - c["right"]
    inner_h = c["height"] - c["top"] - c["bottom"]
    y_max = max([m.beyond_threshold for m in sim.metrics] + [1])
    y_max = int(y_max * 1.15) + 1
    points = []
    for i, m in enumerate(sim.metrics):
        share = m.ald70_within_30 or 0.0
        points.append({
            "label": m.label, "n": i + 1,
            "x": c["left"] + share * inner_w,
            "y": c["top"] + inner_h * (1 - m.beyond_threshold / y_max),
            "share": round(100 * share), "beyond": m.beyond_threshold,
        })
    y_ticks = [{"value": v, "y": c["top"] + inner_h * (1 - v / y_max)}
               for v in sorted({0, y_max // 2, y_max})]
    x_ticks = [{"value": v, "x": c["left"] + inner_w * v / 100} for v in (0, 25, 50, 75, 100)]
    return {**c, "inner_w": inner_w, "inner_h": inner_h, "points": points, "x_ticks": x_ticks,
            "y_ticks": y_ticks, "bottom_y": c["top"] + inner_h}


@bp.get("/attribution/simulation")
@staff_required
def simulation() -> ResponseReturnValue:
    form = SimulationForm(request.args)
    sim = None
    if "days" in request.args:
        if form.validate():
            sim = _run(form)
    else:
        form = SimulationForm(formdata=None)
        _fill_with_current(form)
    apply_form = ApplyRulesForm(formdata=None, data=form.data) if sim else None
    return render_template(
        "staff/simulation.html", form=form, sim=sim, apply_form=apply_form,
        rows=simulator.table_rows(sim) if sim else [], chart=chart(sim) if sim else None,
        assumptions=simulator.assumptions(sim) if sim else [],
        guarantee_text=guarantee_sentence(form.waiting_guarantee_days.data or 0)
        if form.waiting_guarantee_days.data else None,
        territory=current_territory(),
    ), 422 if form.errors else 200


@bp.get("/attribution/simulation.csv")
@staff_required
def simulation_export() -> ResponseReturnValue:
    form = SimulationForm(request.args)
    if not form.validate():
        # a CSV asked without (valid) rules: show the form, which says what is wrong
        query = request.query_string.decode()
        return redirect(url_for("staff.simulation") + (f"?{query}" if query else ""))
    sim = _run(form)
    return Response(simulator.csv_text(sim), mimetype="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="simulation-regles-graine-{sim.seed}.csv"'})


@bp.post("/attribution/simulation/appliquer")
@admin_required
def simulation_apply() -> ResponseReturnValue:
    form = ApplyRulesForm()
    if not form.validate_on_submit():
        for field_errors in form.errors.values():
            for message in field_errors:
                flash(str(message), "error")
        return redirect(url_for("staff.simulation"))
    db = get_session()
    try:
        recomputed = territory_settings.update_settings(
            db, current_territory(), _proposed(form), now=request_now(), user_id=current_user_record().id,
            source="simulation")
    except territory_settings.InvalidSettings as exc:
        db.rollback()
        for message in exc.errors.values():
            flash(message, "error")
        return redirect(url_for("staff.simulation"))
    db.commit()
    plural = "s" if recomputed > 1 else ""
    flash(f"Les règles proposées sont appliquées. La priorité de {recomputed} demande{plural} en cours "
          "a été recalculée ; la prochaine attribution les utilisera.", "success")
    return redirect(url_for("staff.admin_settings"))
