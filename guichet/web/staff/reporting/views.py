"""Staff console: the monthly indicators of the territory and their CSV."""

from __future__ import annotations

from flask import Response, render_template, request
from flask.typing import ResponseReturnValue

from guichet.partners import referrals
from guichet.reporting import indicators, trends
from guichet.timeutil import paris_today
from guichet.web.access import current_territory
from guichet.web.security import staff_required
from guichet.web.session import get_session, request_now
from guichet.web.staff.blueprint import bp

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
    territory = current_territory()
    year = _year()
    rows = indicators.compute(db, territory, year, now=request_now())
    current = paris_today(request_now()).year
    peak = max([r.received_mt + r.received_snp for r in rows] + [1])
    fragile = {r.month: referrals.fragile_figures(db, territory.id, *referrals.month_bounds(r.month)) for r in rows}
    if not any(f.referred for f in fragile.values()):
        fragile = {}
    trend_blocks = trends.blocks(trends.compute(db, territory, now=request_now()))
    return render_template("staff/indicators.html", rows=rows, year=year, years=range(current, 2019, -1),
                           peak=peak, territory=territory, fragile=fragile, trend_blocks=trend_blocks)


@bp.get("/indicateurs/rapport-annuel")
@staff_required
def annual_report() -> ResponseReturnValue:
    """The year's figures for the ACI meeting with the CPAM and the ARS, to print."""
    db = get_session()
    territory = current_territory()
    year = _year()
    total = indicators.compute_total(db, territory, year, now=request_now())
    rows = indicators.compute(db, territory, year, now=request_now())
    return render_template("staff/annual_report.html", territory=territory, year=year, total=total, rows=rows,
                           lines=indicators.report_lines(total) if total else [],
                           printed=request_now())


@bp.get("/indicateurs/rapport-annuel.csv")
@staff_required
def annual_report_export() -> ResponseReturnValue:
    db = get_session()
    territory = current_territory()
    year = _year()
    total = indicators.compute_total(db, territory, year, now=request_now())
    body = "".join(indicators.report_csv(territory.name, year, total))
    return Response(body, mimetype="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="rapport-annuel-{territory.slug}-{year}.csv"'})


@bp.get("/indicateurs/export.csv")
@staff_required
def indicators_export() -> ResponseReturnValue:
    db = get_session()
    territory = current_territory()
    year = _year()
    rows = indicators.compute(db, territory, year, now=request_now())
    return Response("".join(indicators.csv_lines(rows)), mimetype="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="indicateurs-{territory.slug}-{year}.csv"'})
