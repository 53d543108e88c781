"""Trends of the last 12 months that a CPTS reports with, and their server-side SVG charts.

Definitions (also shown on the page):

* waiting list — MT requests open at the end of the month (asked before, not yet placed
  with a GP, not closed);
* median time to a médecin traitant — days from the request to the GP's acceptance,
  for the patients placed that month;
* priority patients placed within 30 days — among the requests of priority patients
  (ALD, 70 or more, CSS/AME, pregnancy, hospital discharge, disability…) received that
  month, the share accepted by a GP within 30 days (months of less than 30 days ago are
  provisional);
* SNP served within 48 h — among the SNP requests received that month, the share booked
  into a slot within 48 hours;
* refusals by reason — proposals declined by GPs that month, by their preset reason.

The charts are plain SVG with presentation attributes (no script, no inline style: the
content security policy allows neither) and each comes with the same figures as a table.
pygal was considered: its charts need an inline <style> and scripts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from html import escape

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from guichet.assignment.priority import is_reason
from guichet.models import PatientRequest, Proposal, RequestEvent, Territory
from guichet.reporting.indicators import MONTH_NAMES, MonthFigures, compute_months, last_months
from guichet.timeutil import PARIS
from guichet.workflow import DECLINE_REASONS

PLACED_WITHIN = timedelta(days=30)
SNP_WITHIN = timedelta(hours=48)


@dataclass
class TrendMonth:
    month: date
    figures: MonthFigures
    waiting: int = 0
    priority_received: int = 0
    priority_placed_30: int = 0
    #: the 30 days after some of the month's requests are not over yet
    is_provisional: bool = False
    snp_received: int = 0
    snp_served_48h: int = 0
    declined_by_reason: dict[str, int] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{MONTH_NAMES[self.month.month - 1][:4].rstrip('.')}. {self.month.year % 100:02d}"

    @property
    def long_label(self) -> str:
        return f"{MONTH_NAMES[self.month.month - 1]} {self.month.year}"

    @property
    def priority_share(self) -> float | None:
        return round(100 * self.priority_placed_30 / self.priority_received) if self.priority_received else None

    @property
    def snp_share(self) -> float | None:
        return round(100 * self.snp_served_48h / self.snp_received) if self.snp_received else None


def _month_end(month: date) -> datetime:
    following = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    return datetime(following.year, following.month, 1, tzinfo=PARIS)


def _month_of(value: datetime) -> date:
    local = value.astimezone(PARIS)
    return date(local.year, local.month, 1)


def compute(db: Session, territory: Territory, *, now: datetime) -> list[TrendMonth]:
    """The last 12 months (current one included), oldest first."""
    months = last_months(now)
    rows = {m: TrendMonth(month=m, figures=f) for m, f in zip(months, compute_months(db, territory, months),
                                                                strict=True)}
    requests = list(db.scalars(select(PatientRequest).where(PatientRequest.territory_id == territory.id)))
    accepted: dict[int, datetime] = {}
    for request_id, answered in db.execute(
        select(Proposal.request_id, Proposal.answered_dt).join(PatientRequest, PatientRequest.id == Proposal.request_id)
        .where(PatientRequest.territory_id == territory.id, Proposal.status == "accepted",
               Proposal.answered_dt.is_not(None))
    ):
        if answered is not None and (request_id not in accepted or answered < accepted[request_id]):
            accepted[request_id] = answered
    booked: dict[int, datetime] = {}
    for request_id, at in db.execute(
        select(RequestEvent.request_id, RequestEvent.at_dt)
        .join(PatientRequest, PatientRequest.id == RequestEvent.request_id)
        .where(PatientRequest.territory_id == territory.id, RequestEvent.kind == "status",
               RequestEvent.to_status == "booked")
    ):
        if request_id not in booked or at < booked[request_id]:
            booked[request_id] = at

    for trend in rows.values():
        trend.declined_by_reason = dict(trend.figures.declined_by_reason)
        trend.is_provisional = _month_end(trend.month) + PLACED_WITHIN > now
    for r in requests:
        row = rows.get(_month_of(r.submitted_dt))
        if r.kind == "mt":
            for candidate in rows.values():
                end = _month_end(candidate.month)
                placed = accepted.get(r.id)
                if r.submitted_dt < end and (placed is None or placed >= end) \
                        and (r.closed_dt is None or r.closed_dt >= end):
                    candidate.waiting += 1
            if row is not None and any(is_reason(k) for k in (r.priority_breakdown or {})):
                row.priority_received += 1
                placed = accepted.get(r.id)
                if placed is not None and placed - r.submitted_dt <= PLACED_WITHIN:
                    row.priority_placed_30 += 1
        elif row is not None:
            row.snp_received += 1
            first = booked.get(r.id)
            if first is not None and first - r.submitted_dt <= SNP_WITHIN:
                row.snp_served_48h += 1
    return [rows[m] for m in months]


# ---------------------------------------------------------------- SVG charts

WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 14, 34
#: dark, distinct colours with a contrast of at least 4.5:1 on white, for the reasons' bars
PALETTE = ["#0b3d91", "#b00020", "#1e6b2f", "#6a3d9a", "#8a4b08", "#3d3d3d"]


def _ticks(peak: float) -> list[float]:
    step = 1.0
    for candidate in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000):
        step = candidate
        if peak / candidate <= 5:
            break
    top = max(step, step * -(-peak // step))
    return [step * i for i in range(int(top / step) + 1)]


def _fmt(value: float) -> str:
    return f"{value:g}".replace(".", ",")


def _frame(title: str, labels: list[str], ticks: list[float], unit: str) -> tuple[list[str], float, float]:
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top = ticks[-1] or 1
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" class="chart" '
             f'role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>']
    for t in ticks:
        y = TOP + plot_h - plot_h * t / top
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
                     'stroke="#c8c8c8" stroke-width="1"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="12" fill="#1a1a1a">'
                     f'{_fmt(t)}{escape(unit)}</text>')
    step = plot_w / max(1, len(labels))
    for i, label in enumerate(labels):
        x = LEFT + step * (i + 0.5)
        parts.append(f'<text x="{x:.1f}" y="{HEIGHT - 12}" text-anchor="middle" font-size="12" fill="#1a1a1a">'
                     f'{escape(label)}</text>')
    return parts, step, top


def line_chart(title: str, labels: list[str], values: list[float | None], unit: str = "") -> Markup:
    """A line chart of one monthly series; a missing month leaves a gap."""
    known = [v for v in values if v is not None]
    ticks = _ticks(max(known + [1.0]))
    parts, step, top = _frame(title, labels, ticks, unit)
    plot_h = HEIGHT - TOP - BOTTOM
    segments: list[list[str]] = [[]]
    dots = []
    for i, value in enumerate(values):
        if value is None:
            segments.append([])
            continue
        x, y = LEFT + step * (i + 0.5), TOP + plot_h - plot_h * value / top
        segments[-1].append(f"{x:.1f},{y:.1f}")
        dots.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="#0b3d91"/>')
    parts += [f'<polyline points="{" ".join(points)}" fill="none" stroke="#0b3d91" stroke-width="3"/>'
              for points in segments if len(points) > 1]
    parts += dots
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (numbers and escaped labels only)


def stacked_bar_chart(title: str, labels: list[str], series: dict[str, list[int]]) -> Markup:
    """Monthly bars split by category (one colour each, in PALETTE order)."""
    totals = [sum(values[i] for values in series.values()) for i in range(len(labels))]
    ticks = _ticks(max(totals + [1]))
    parts, step, top = _frame(title, labels, ticks, "")
    plot_h = HEIGHT - TOP - BOTTOM
    bar_w = step * 0.6
    for i in range(len(labels)):
        base: float = TOP + plot_h
        for colour, values in zip(PALETTE, series.values(), strict=False):
            if not values[i]:
                continue
            h = plot_h * values[i] / top
            base -= h
            parts.append(f'<rect x="{LEFT + step * i + (step - bar_w) / 2:.1f}" y="{base:.1f}" width="{bar_w:.1f}" '
                         f'height="{h:.1f}" fill="{colour}"/>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (numbers and escaped labels only)


def refusal_series(rows: list[TrendMonth]) -> dict[str, list[int]]:
    """{French reason: monthly counts}, in the preset order, "not given" last; empty reasons left out."""
    labels = {**DECLINE_REASONS, "": "Motif non précisé"}
    series = {label: [r.declined_by_reason.get(code, 0) for r in rows] for code, label in labels.items()}
    return {label: values for label, values in series.items() if any(values)}


@dataclass
class TrendBlock:
    """One indicator as the page shows it: a chart, and the same figures as a table."""

    title: str
    detail: str
    chart: Markup
    headers: list[str]
    rows: list[tuple[str, list[str]]]
    #: (colour, label) of the bars, when the chart has several series
    legend: list[tuple[str, str]] = field(default_factory=list)


def _cell(value: float | None, unit: str = "") -> str:
    return "—" if value is None else f"{_fmt(value)}{unit}"


def blocks(rows: list[TrendMonth]) -> list[TrendBlock]:
    """The five trends of the indicators page, in the order the CPTS reports them."""
    labels = [r.label for r in rows]
    refusals = refusal_series(rows)
    out = [
        TrendBlock("Patients en attente d'un médecin traitant", "en fin de mois",
                   line_chart("Patients en attente d'un médecin traitant en fin de mois", labels,
                              [float(r.waiting) for r in rows]),
                   ["En attente"], [(r.long_label, [str(r.waiting)]) for r in rows]),
        TrendBlock("Délai médian pour trouver un médecin traitant", "jours, de la demande à l'acceptation, "
                   "pour les patients placés dans le mois",
                   line_chart("Délai médian pour trouver un médecin traitant, en jours", labels,
                              [r.figures.median_days_to_acceptance for r in rows], " j"),
                   ["Délai médian", "Patients placés"],
                   [(r.long_label, [_cell(r.figures.median_days_to_acceptance, " j"), str(r.figures.placed)])
                    for r in rows]),
        TrendBlock("Patients prioritaires placés en 30 jours ou moins", "part des demandes prioritaires reçues "
                   "dans le mois",
                   line_chart("Part des patients prioritaires placés en 30 jours ou moins", labels,
                              [r.priority_share for r in rows], " %"),
                   ["Part", "Placés en 30 jours", "Demandes prioritaires"],
                   [(r.long_label, [_cell(r.priority_share, " %") + (" (provisoire)" if r.is_provisional
                                                                     and r.priority_received else ""),
                                    str(r.priority_placed_30), str(r.priority_received)]) for r in rows]),
        TrendBlock("Demandes de soins non programmés servies en 48 h", "part des demandes reçues dans le mois",
                   line_chart("Part des demandes de soins non programmés servies en 48 heures", labels,
                              [r.snp_share for r in rows], " %"),
                   ["Part", "Servies en 48 h", "Demandes"],
                   [(r.long_label, [_cell(r.snp_share, " %"), str(r.snp_served_48h), str(r.snp_received)])
                    for r in rows]),
        TrendBlock("Refus des médecins, par motif", "propositions refusées dans le mois",
                   stacked_bar_chart("Refus des médecins par motif et par mois", labels, refusals),
                   list(refusals) or ["Refus"],
                   [(r.long_label, [str(values[i]) for values in refusals.values()] or ["0"])
                    for i, r in enumerate(rows)],
                   legend=list(zip(PALETTE, refusals, strict=False))),
    ]
    return out
