"""Monthly indicators of a territory: the figures a CPTS reports to the CPAM and the ARS (ACI).

Months are calendar months in Europe/Paris. Definitions (also shown on the page):

* received — requests by the date the patient asked (``submitted_dt``), by kind and channel;
* placed — MT proposals accepted by the GP that month (one per request), and among those
  patients with an ALD, aged 70 or more on that day, with the CSS/AME;
* median days request → first proposal sent to a GP, counted in the month of that first
  sending; request → acceptance, in the month of the acceptance;
* declined — proposals declined by GPs that month, by their preset reason;
* SNP handled — SNP requests booked into a slot for the first time that month;
  slots offered (starting that month, not cancelled) and used (booked);
* capacity declared — for each GP, the newest declaration in force during the month
  (declared before its end, not superseded or expired before its start), summed;
  capacity used — MT patients accepted that month.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from guichet.models import (
    CapacityDeclaration,
    Doctor,
    Patient,
    PatientRequest,
    Proposal,
    RequestEvent,
    Slot,
    Territory,
)
from guichet.timeutil import age_on, paris_today, to_paris

MONTH_NAMES = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
               "octobre", "novembre", "décembre"]



@dataclass
class MonthFigures:
    month: date
    received: dict[str, dict[str, int]] = field(default_factory=lambda: {"mt": {}, "snp": {}})
    placed: int = 0
    placed_ald: int = 0
    placed_70: int = 0
    placed_css: int = 0
    median_days_to_proposal: float | None = None
    median_days_to_acceptance: float | None = None
    declined: int = 0
    #: declined proposals by the GP's preset reason (workflow.DECLINE_REASONS; "" when none)
    declined_by_reason: dict[str, int] = field(default_factory=dict)
    snp_handled: int = 0
    slots_offered: int = 0
    slots_used: int = 0
    capacity_declared: int = 0

    @property
    def label(self) -> str:
        return f"{MONTH_NAMES[self.month.month - 1]} {self.month.year}"

    @property
    def received_mt(self) -> int:
        return sum(self.received["mt"].values())

    @property
    def received_snp(self) -> int:
        return sum(self.received["snp"].values())

    @property
    def capacity_used(self) -> int:
        return self.placed


def _month(value: datetime) -> date:
    local = to_paris(value)
    return date(local.year, local.month, 1)


def _next_month(month: date) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def _days(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 86400


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def months_of(year: int, now: datetime) -> list[date]:
    today = paris_today(now)
    last = 12 if year < today.year else (today.month if year == today.year else 0)
    return [date(year, m, 1) for m in range(1, last + 1)]


def last_months(now: datetime, count: int = 12) -> list[date]:
    """The `count` calendar months ending with the current one (Paris), oldest first."""
    month = date(paris_today(now).year, paris_today(now).month, 1)
    out = [month]
    for _ in range(count - 1):
        month = date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)
        out.append(month)
    return out[::-1]


def compute(db: Session, territory: Territory, year: int, *, now: datetime) -> list[MonthFigures]:
    """The figures of each month of `year` up to the current month, oldest first."""
    return compute_months(db, territory, months_of(year, now))


def compute_total(db: Session, territory: Territory, year: int, *, now: datetime) -> MonthFigures | None:
    """The figures of the whole of `year` (to date): sums, and medians over the year's values.

    The places declared are those of the busiest month (a sum over months would count a GP
    twelve times).
    """
    months = months_of(year, now)
    if not months:
        return None
    rows = compute_months(db, territory, months)
    total = compute_months(db, territory, months, whole=True)[0]
    total.capacity_declared = max(r.capacity_declared for r in rows)
    return total


def compute_months(db: Session, territory: Territory, months: list[date], *,
                   whole: bool = False) -> list[MonthFigures]:
    """The figures of the given months, oldest first; with `whole`, one figure for them all."""
    figures = {m: MonthFigures(month=m) for m in months}
    if not months:
        return []
    if whole:
        single = MonthFigures(month=months[0])
        figures = {m: single for m in months}

    def bucket(value: datetime | None) -> MonthFigures | None:
        return figures.get(_month(value)) if value is not None else None

    requests = {r.id: r for r in db.scalars(select(PatientRequest).where(PatientRequest.territory_id == territory.id))}
    for r in requests.values():
        if (fig := bucket(r.submitted_dt)) is not None:
            fig.received[r.kind][r.channel] = fig.received[r.kind].get(r.channel, 0) + 1

    patients = {p.id: p for p in db.scalars(select(Patient).where(Patient.territory_id == territory.id))}
    mt_proposals = list(db.scalars(
        select(Proposal).join(PatientRequest, PatientRequest.id == Proposal.request_id)
        .where(PatientRequest.territory_id == territory.id, PatientRequest.kind == "mt")
        .order_by(Proposal.id)
    ))
    first_sent: dict[int, datetime] = {}
    accepted: dict[int, Proposal] = {}
    for p in mt_proposals:
        if p.sent_dt is not None and (p.request_id not in first_sent or p.sent_dt < first_sent[p.request_id]):
            first_sent[p.request_id] = p.sent_dt
        # accepted and still standing (a placement cancelled afterwards is not counted)
        if p.status == "accepted" and p.answered_dt is not None:
            accepted.setdefault(p.request_id, p)
        if p.status == "declined" and (fig := bucket(p.answered_dt)) is not None:
            fig.declined += 1
            code = p.decline_code or ""
            fig.declined_by_reason[code] = fig.declined_by_reason.get(code, 0) + 1
    to_proposal: dict[date, list[float]] = defaultdict(list)
    for request_id, sent in first_sent.items():
        if (fig := bucket(sent)) is not None:
            to_proposal[fig.month].append(_days(requests[request_id].submitted_dt, sent))
    to_acceptance: dict[date, list[float]] = defaultdict(list)
    for request_id, p in accepted.items():
        fig = bucket(p.answered_dt)
        if fig is None or p.answered_dt is None:
            continue
        request = requests[request_id]
        patient = patients[request.patient_id]
        fig.placed += 1
        fig.placed_ald += patient.is_ald
        fig.placed_css += patient.is_css
        if patient.birth_date and age_on(patient.birth_date, paris_today(p.answered_dt)) >= 70:
            fig.placed_70 += 1
        to_acceptance[fig.month].append(_days(request.submitted_dt, p.answered_dt))
    for fig in figures.values():
        fig.median_days_to_proposal = _median(to_proposal.get(fig.month, []))
        fig.median_days_to_acceptance = _median(to_acceptance.get(fig.month, []))

    first_booked: dict[int, datetime] = {}
    snp_ids = [r.id for r in requests.values() if r.kind == "snp"]
    if snp_ids:
        for request_id, at in db.execute(
            select(RequestEvent.request_id, RequestEvent.at_dt)
            .where(RequestEvent.request_id.in_(snp_ids), RequestEvent.to_status == "booked",
                   RequestEvent.kind == "status")
        ):
            if request_id not in first_booked or at < first_booked[request_id]:
                first_booked[request_id] = at
    for at in first_booked.values():
        if (fig := bucket(at)) is not None:
            fig.snp_handled += 1

    slot_rows = db.execute(
        select(Slot.start_dt, Slot.status).join(Doctor, Doctor.id == Slot.doctor_id)
        .where(Doctor.territory_id == territory.id)
    )
    for start, status in slot_rows:
        if status == "cancelled" or (fig := bucket(start)) is None:
            continue
        fig.slots_offered += 1
        fig.slots_used += status == "booked"

    declarations = list(db.scalars(
        select(CapacityDeclaration).join(Doctor, Doctor.id == CapacityDeclaration.doctor_id)
        .where(Doctor.territory_id == territory.id)
        .order_by(CapacityDeclaration.doctor_id, CapacityDeclaration.declared_dt, CapacityDeclaration.id)
    ))
    for month, fig in figures.items():
        end = _next_month(month)
        newest: dict[int, CapacityDeclaration] = {}
        for d in declarations:
            declared = to_paris(d.declared_dt).date()
            superseded = to_paris(d.superseded_dt).date() if d.superseded_dt else None
            if declared >= end or (superseded is not None and superseded < month) \
                    or (d.valid_until is not None and d.valid_until < month):
                continue
            newest[d.doctor_id] = d  # ordered by declared_dt: the last one wins
        fig.capacity_declared = sum(d.new_patients for d in newest.values())
    if whole:
        return [figures[months[0]]]
    return [figures[m] for m in months]


CSV_HEADERS = [
    "Mois", "Demandes MT reçues", "dont en ligne", "dont par téléphone", "dont listes Assurance Maladie",
    "Demandes SNP reçues", "Patients ayant trouvé un médecin traitant", "dont ALD", "dont 70 ans ou plus",
    "dont CSS/AME", "Délai médian demande → proposition (jours)", "Délai médian demande → acceptation (jours)",
    "Propositions refusées par les médecins", "Demandes SNP prises en charge", "Créneaux SNP proposés",
    "Créneaux SNP utilisés", "Places déclarées par les médecins", "Places utilisées",
]


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:g}".replace(".", ",")


def csv_lines(rows: list[MonthFigures]) -> Iterator[str]:
    """The table as CSV for a French spreadsheet (UTF-8 with BOM, semicolons)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_HEADERS)
    for f in rows:
        writer.writerow([
            f.month.strftime("%Y-%m"), f.received_mt, f.received["mt"].get("web", 0),
            f.received["mt"].get("phone", 0), f.received["mt"].get("import", 0), f.received_snp,
            f.placed, f.placed_ald, f.placed_70, f.placed_css, _num(f.median_days_to_proposal),
            _num(f.median_days_to_acceptance), f.declined, f.snp_handled, f.slots_offered, f.slots_used,
            f.capacity_declared, f.capacity_used,
        ])
    yield "\ufeff" + buffer.getvalue()


def report_lines(total: MonthFigures) -> list[tuple[str, str]]:
    """The yearly report's figures, as (French label, value) in the order the ACI reads them."""
    from guichet.workflow import DECLINE_REASONS

    lines = [
        ("Demandes de médecin traitant reçues", str(total.received_mt)),
        ("dont en ligne", str(total.received["mt"].get("web", 0))),
        ("dont par téléphone", str(total.received["mt"].get("phone", 0))),
        ("dont listes de l'Assurance Maladie", str(total.received["mt"].get("import", 0))),
        ("Patients ayant trouvé un médecin traitant", str(total.placed)),
        ("dont en affection de longue durée (ALD)", str(total.placed_ald)),
        ("dont de 70 ans ou plus", str(total.placed_70)),
        ("dont bénéficiaires de la CSS ou de l'AME", str(total.placed_css)),
        ("Délai médian de la demande à la première proposition (jours)", _num(total.median_days_to_proposal) or "—"),
        ("Délai médian de la demande à l'acceptation (jours)", _num(total.median_days_to_acceptance) or "—"),
        ("Propositions refusées par les médecins", str(total.declined)),
    ]
    for code, label in {**DECLINE_REASONS, "": "Motif non précisé"}.items():
        if total.declined_by_reason.get(code):
            lines.append((f"dont « {label} »", str(total.declined_by_reason[code])))
    lines += [
        ("Demandes de soins non programmés reçues", str(total.received_snp)),
        ("Demandes de soins non programmés prises en charge", str(total.snp_handled)),
        ("Créneaux de soins non programmés proposés", str(total.slots_offered)),
        ("Créneaux de soins non programmés utilisés", str(total.slots_used)),
        ("Places déclarées par les médecins (mois le plus haut)", str(total.capacity_declared)),
    ]
    return lines


def report_csv(territory_name: str, year: int, total: MonthFigures | None) -> Iterator[str]:
    """The yearly report as CSV for a French spreadsheet (UTF-8 with BOM, semicolons)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(["Indicateur", f"{territory_name} — {year}"])
    for label, value in report_lines(total) if total else []:
        writer.writerow([label, value])
    yield "\ufeff" + buffer.getvalue()
