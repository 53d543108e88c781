"""The simulator's scenario read from a territory: communes, GPs, history of the last 12 months.

* Communes: the territory's communes that have coordinates, with their population.
* GPs: active GPs with an open current declaration; a declaration of N places until a date
  releases N spread over its months (from its declaration to that date); one without an
  end date is taken as monthly (GPs are asked to renew every month).
* Arrivals: the territory's médecin traitant requests submitted in the last 12 months give
  the yearly rate (scaled to a year when the oldest of them is more recent), the shares of
  each priority reason and the patients' radii — when there are at least ``MIN_HISTORY``;
  otherwise the national orders of magnitude of :mod:`guichet.assignment.simulator` (the
  page says which).
* The waiting list: the territory's médecin traitant requests waiting now (their commune,
  situation, date and radius) are in the list when the replay starts.
* Refusals: declined ÷ answered proposals of the last 12 months (at least
  ``MIN_ANSWERS`` answers), else the simulator's default rate.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from guichet.assignment import simulator
from guichet.assignment.priority import FLAG_LABELS, priority_flags
from guichet.assignment.problems import doctor_position
from guichet.doctors import capacity
from guichet.models import CapacityDeclaration, Doctor, PatientRequest, Proposal, Territory
from guichet.requests.records import situation_of
from guichet.territories import settings as territory_settings
from guichet.timeutil import as_utc, paris_today

MIN_HISTORY = 30
MIN_ANSWERS = 10
YEAR = timedelta(days=365)


def _monthly_places(declaration: CapacityDeclaration, today_ordinal: int) -> float:
    if declaration.valid_until is None:
        return float(declaration.new_patients)
    start = min(declaration.declared_dt.date().toordinal(), today_ordinal)
    days = max(simulator.MONTH_DAYS, declaration.valid_until.toordinal() - start)
    return declaration.new_patients * simulator.MONTH_DAYS / days


def _doctors(db: Session, territory: Territory, now: datetime) -> tuple[simulator.SimDoctor, ...]:
    today = paris_today(now)
    rows = db.execute(
        select(Doctor, CapacityDeclaration)
        .join(CapacityDeclaration, CapacityDeclaration.doctor_id == Doctor.id)
        .where(Doctor.territory_id == territory.id, Doctor.is_active.is_(True),
               CapacityDeclaration.superseded_dt.is_(None))
        .options(selectinload(Doctor.commune))
        .order_by(Doctor.id)
    ).all()
    result = []
    for doctor, decl in rows:
        pos = doctor_position(doctor)
        if pos is None or not capacity.is_open(decl, today):
            continue
        flags = frozenset(decl.priority_flags or []) if decl.is_priority_only else None
        result.append(simulator.SimDoctor(doctor.id, pos[0], pos[1], _monthly_places(decl, today.toordinal()),
                                          float(decl.max_km), flags))
    return tuple(result)


def _history(db: Session, territory: Territory, now: datetime) -> list[PatientRequest]:
    return list(db.scalars(
        select(PatientRequest)
        .where(PatientRequest.territory_id == territory.id, PatientRequest.kind == "mt",
               PatientRequest.submitted_dt >= now - YEAR, PatientRequest.submitted_dt <= now)
        .options(selectinload(PatientRequest.patient))
    ))


def _waiting(db: Session, territory: Territory, communes: tuple[simulator.SimCommune, ...]
             ) -> tuple[simulator.SimWaiting, ...]:
    index = {c.insee: i for i, c in enumerate(communes)}
    rows = db.scalars(
        select(PatientRequest)
        .where(PatientRequest.territory_id == territory.id, PatientRequest.kind == "mt",
               PatientRequest.status == "waiting")
        .options(selectinload(PatientRequest.patient))
        .order_by(PatientRequest.waiting_since_dt, PatientRequest.id)
    )
    return tuple(
        simulator.SimWaiting(index[r.patient.commune_insee], as_utc(r.waiting_since_dt), float(r.patient.max_km),
                             situation_of(r.patient))
        for r in rows if r.patient.commune_insee in index
    )


def _refusals(db: Session, territory: Territory, now: datetime) -> tuple[float, int]:
    statuses = list(db.scalars(
        select(Proposal.status)
        .join(PatientRequest, PatientRequest.id == Proposal.request_id)
        .where(PatientRequest.territory_id == territory.id, Proposal.status.in_(["accepted", "declined"]),
               Proposal.answered_dt >= now - YEAR)
    ))
    if len(statuses) < MIN_ANSWERS:
        return simulator.DEFAULT_REFUSAL_RATE, len(statuses)
    return statuses.count("declined") / len(statuses), len(statuses)


def scenario_for(db: Session, territory: Territory, *, now: datetime) -> simulator.Scenario:
    """Read the territory into a :class:`~guichet.assignment.simulator.Scenario` starting at `now`."""
    communes = tuple(
        simulator.SimCommune(c.insee, c.name, float(c.lat or 0), float(c.lon or 0), int(c.population or 0))
        for c in sorted(territory.communes, key=lambda c: c.insee) if c.has_position
    )
    history = _history(db, territory, now)
    settings = dict(territory.settings or {})
    default_km = float(territory_settings.setting(territory, "default_patient_km") or simulator.DEFAULT_PATIENT_KM)
    if len(history) >= MIN_HISTORY:
        counts = dict.fromkeys(simulator.REASONS, 0)
        for request in history:
            for flag in priority_flags(situation_of(request.patient), paris_today(request.submitted_dt)):
                counts[flag] = counts.get(flag, 0) + 1
        shares = {k: v / len(history) for k, v in counts.items() if k in FLAG_LABELS}
        # a younger territory: scale what it received to a year (at least one month observed)
        observed = max(30.0, (now - min(as_utc(r.submitted_dt) for r in history)).total_seconds() / 86400)
        rate = len(history) * 365 / min(365.0, observed)
        radii = tuple(sorted(float(r.patient.max_km) for r in history))
    else:
        shares = dict(simulator.NATIONAL_SHARES)
        rate = simulator.NATIONAL_ARRIVALS_PER_INHABITANT * sum(c.population for c in communes)
        radii = (default_km,)
    refusal, answers = _refusals(db, territory, now)
    return simulator.Scenario(
        territory=territory.name, start=now, communes=communes, doctors=_doctors(db, territory, now),
        arrivals_per_year=rate, shares=shares, patient_km=radii, refusal_rate=refusal, settings=settings,
        history_requests=len(history) if len(history) >= MIN_HISTORY else 0,
        answered_proposals=answers if answers >= MIN_ANSWERS else 0, waiting=_waiting(db, territory, communes),
        default_km=default_km,
    )

