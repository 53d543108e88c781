"""The engine's problems, built from the database: médecin traitant and same-day care (SNP).

Problem builder (médecin traitant)
----------------------------------
* Demands are the territory's MT requests in status ``waiting`` that hold no live
  proposal — except an unreviewed, unpinned draft of an earlier run, which the new run
  replaces. The priority is refreshed with ``now`` first (days waited move every day).
* Weight = :func:`guichet.assignment.priority.engine_weight`: the refreshed priority
  score, a tie-break under one point that grows with the minutes waited (the earlier of
  two equal requests wins), and ``REACH_BONUS_KM × km_cost``. The engine only proposes
  pairs worth more than zero; without the bonus a patient who has just asked (score 1)
  could not be proposed to a GP 2 km away even when that GP has free places.
* Position = the patient's commune (no street geocoding: the CPTS does not need it);
  a patient whose commune has no coordinates is reported "commune sans coordonnées".
* Tags a GP must accept: ``children`` (children listed in the request), ``home_visit``,
  ``step_free``. Languages are **not** a hard constraint (nothing tells us a patient
  speaks no French); a shared language is shown in the explanation.
* Offers are the territory's active GPs with an open current declaration
  (``capacity.remaining_by_doctor``): capacity = declared − committed, radius = the
  declaration's ``max_km``.
* "Priority patients only" is expressed as **forbidden pairs**: the engine's numeric
  ``min_weight`` cannot express "has one of these flags" (a patient without any flag who
  waited 400 days scores more than an ALD patient who just asked). For a priority-only
  GP, every demand without one of the declaration's ``priority_flags`` (any priority flag
  when the list is empty) is forbidden with that GP; those pairs are remembered so that
  an unplaced patient is told "médecins proches réservés aux patients prioritaires"
  rather than "exclus".
* Forbidden pairs also come from ``PairExclusion`` (declined by the GP, excluded by staff).
* Pinned pairs are staff assignments: drafts with ``is_pinned`` still ``proposed``.
  They keep their GP and use the GP's capacity in the solve, so new drafts never exceed
  what remains. A pin the engine cannot honour (GP without open declaration, more pins
  than places) is left out of the solve and reported; its draft stays for staff.

SNP (soins non programmés) uses the same engine with one offer per free slot of today
and tomorrow (capacity 1); a pair is forbidden unless the slot starts inside one of the
patient's availability periods (Paris time). The engine's objective has no term for the
hours until the slot, so waiting time is a secondary criterion applied afterwards: at
one practice every slot is at the same distance, so giving the earliest suitable slots
of that practice to its patients (most urgent first) leaves the engine's objective
unchanged and shortens the wait. See :func:`build_snp_problem` and :func:`solve_snp`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import case, exists, select
from sqlalchemy.orm import Session, object_session, selectinload

from guichet.assignment.priority import FLAG_LABELS, REACH_BONUS_KM, engine_weight, is_reason
from guichet.doctors import capacity
from guichet.matching import (
    Demand,
    Offer,
    Problem,
    haversine_km,
)
from guichet.models import (
    ACTIVE_PROPOSAL_STATUSES,
    CapacityDeclaration,
    Commune,
    Doctor,
    PairExclusion,
    Patient,
    PatientRequest,
    Proposal,
    RequestEvent,
    Slot,
    Territory,
)
from guichet.requests.records import refresh_priority, situation_of
from guichet.territories import settings as territory_settings
from guichet.timeutil import PARIS, paris_today, to_paris
from guichet.vocabulary import SNP_PERIOD_HOURS

#: price of one kilometre in priority points (1 km = 1 day waited) unless the territory says otherwise
DEFAULT_KM_COST = float(territory_settings.DEFAULT_SETTINGS["matching_km_cost"])


# Reason codes added by the builder (the engine's own codes are in guichet.matching).
NO_POSITION = "no_position"


PIN_NOT_HONOURED = "pin_not_honoured"


RESERVED_FOR_PRIORITY = "reserved_for_priority"


FORBIDDEN_OR_RESERVED = "forbidden_or_reserved"


OUTSIDE_AVAILABILITY = "outside_availability"


#: the patient's availability periods for SNP, in Paris local hours [start, end)


#: an SNP slot is open to the whole territory: the patient's own radius decides
SNP_OFFER_KM = 200.0


def km_cost_of(territory: Territory) -> float:
    value = territory_settings.setting(territory, "matching_km_cost")
    try:
        number = float(value)
    except (TypeError, ValueError):
        return DEFAULT_KM_COST
    return number if number >= 0 else DEFAULT_KM_COST


@dataclass
class BuiltProblem:
    """The engine's input plus what is needed to turn its answer back into rows."""

    kind: str
    territory: Territory
    problem: Problem[int, int]
    requests: dict[int, PatientRequest]
    #: offer id → doctor (MT: offer id is the doctor id; SNP: the slot id)
    doctors: dict[int, Doctor]
    #: MT: doctor id → current open declaration
    declarations: dict[int, CapacityDeclaration] = field(default_factory=dict)
    #: SNP: slot id → slot
    slots: dict[int, Slot] = field(default_factory=dict)
    #: request id → reason code, for requests left out of the solve
    skipped: dict[int, str] = field(default_factory=dict)
    #: pairs forbidden because the GP takes priority patients only
    priority_pairs: set[tuple[int, int]] = field(default_factory=set)
    #: pairs forbidden by a PairExclusion (declined or excluded)
    excluded_pairs: set[tuple[int, int]] = field(default_factory=set)
    #: request id → the pinned draft kept by this run
    pinned_drafts: dict[int, Proposal] = field(default_factory=dict)
    #: unreviewed unpinned drafts a real run cancels
    replaced_drafts: list[Proposal] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)


def _position(commune: Any) -> tuple[float, float] | None:
    if commune is None or commune.lat is None or commune.lon is None:
        return None
    return float(commune.lat), float(commune.lon)


def doctor_position(doctor: Doctor) -> tuple[float, float] | None:
    if doctor.lat is not None and doctor.lon is not None:
        return float(doctor.lat), float(doctor.lon)
    return _position(doctor.commune)


def request_position(request: PatientRequest) -> tuple[float, float] | None:
    """Where the patient is: for SNP the commune where they are now, else their own commune."""
    if request.kind == "snp" and request.snp_commune_insee:
        session = object_session(request)
        pos = _position(session.get(Commune, request.snp_commune_insee)) if session else None
        if pos:
            return pos
    return _position(request.patient.commune)


def demand_tags(request: PatientRequest) -> frozenset[str]:
    tags = set()
    if request.kind == "mt" and request.children_birth_dates:
        tags.add("children")
    if request.kind == "mt" and request.patient.needs_home_visit:
        tags.add("home_visit")
    if request.patient.needs_step_free:
        tags.add("step_free")
    return frozenset(tags)


def offer_accepts(doctor: Doctor, declaration: CapacityDeclaration | None) -> frozenset[str]:
    accepts = set()
    if declaration is None or declaration.accepts_children:
        accepts.add("children")
    if declaration is not None and declaration.does_home_visits:
        accepts.add("home_visit")
    if doctor.has_step_free_access:
        accepts.add("step_free")
    return frozenset(accepts)


def request_flags(request: PatientRequest) -> set[str]:
    """Priority flags of the (refreshed) breakdown: every key but the days waited."""
    return {k for k in (request.priority_breakdown or {}) if is_reason(k)}


def qualifies_for(request: PatientRequest, declaration: CapacityDeclaration) -> bool:
    """Whether a priority-only declaration takes this patient."""
    if not declaration.is_priority_only:
        return True
    wanted = set(declaration.priority_flags or []) or {k for k in FLAG_LABELS if is_reason(k)}
    return bool(request_flags(request) & wanted)


def request_weight(request: PatientRequest, *, now: datetime, km_cost: float) -> float:
    """The engine's weight for this request (the one rule in guichet.assignment.priority)."""
    return engine_weight(situation_of(request.patient), request.waiting_since_dt, now=now,
                         settings=request.territory.settings, km_cost=km_cost)


def _territory_doctors(db: Session, territory: Territory) -> list[Doctor]:
    return list(
        db.scalars(
            select(Doctor)
            .where(Doctor.territory_id == territory.id, Doctor.is_active.is_(True))
            .options(selectinload(Doctor.commune))
            .order_by(Doctor.id)
        )
    )


def build_mt_problem(db: Session, territory: Territory, *, now: datetime,
                     km_cost: float | None = None, lock: bool = False) -> BuiltProblem:
    """Turn the territory's waiting MT requests and GP capacity into the engine's problem.

    With `lock`, the live proposals of those requests are read under a row lock.
    """
    km_cost = km_cost_of(territory) if km_cost is None else km_cost
    bonus = REACH_BONUS_KM * km_cost
    waiting = list(
        db.scalars(
            select(PatientRequest)
            .where(PatientRequest.territory_id == territory.id, PatientRequest.kind == "mt",
                   PatientRequest.status == "waiting")
            .options(selectinload(PatientRequest.patient).selectinload(Patient.commune))
            .order_by(PatientRequest.id)
        )
    )
    by_id = {r.id: r for r in waiting}
    query = (
        select(Proposal)
        .where(Proposal.request_id.in_(list(by_id)), Proposal.status.in_(ACTIVE_PROPOSAL_STATUSES))
        .order_by(Proposal.id)
    )
    if lock:
        # A real run replaces drafts: lock them so that an approval running at the same
        # moment either finishes first (the run then sees it) or waits for the run.
        query = query.with_for_update().execution_options(populate_existing=True)
    live = list(db.scalars(query)) if by_id else []
    pinned_drafts: dict[int, Proposal] = {}
    replaced: list[Proposal] = []
    held: set[int] = set()
    for p in live:
        if p.status == "proposed" and p.is_pinned:
            pinned_drafts[p.request_id] = p
        elif p.status == "proposed":
            replaced.append(p)
        else:
            held.add(p.request_id)

    doctors = _territory_doctors(db, territory)
    remaining = capacity.remaining_by_doctor(db, [d.id for d in doctors], now=now)
    declarations = {
        d.doctor_id: d
        for d in db.scalars(select(CapacityDeclaration).where(
            CapacityDeclaration.id.in_([decl_id for decl_id, _ in remaining.values()])))
    } if remaining else {}
    offers: list[Offer[int]] = []
    offer_doctors: dict[int, Doctor] = {}
    for doctor in doctors:
        if doctor.id not in remaining:
            continue
        pos = doctor_position(doctor)
        if pos is None:
            continue
        decl = declarations[doctor.id]
        offers.append(Offer(doctor.id, pos[0], pos[1], capacity=remaining[doctor.id][1],
                            max_km=float(decl.max_km), accepts=offer_accepts(doctor, decl)))
        offer_doctors[doctor.id] = doctor

    built = BuiltProblem(kind="mt", territory=territory, problem=Problem((), ()), requests={},
                         doctors=offer_doctors, declarations=declarations, replaced_drafts=replaced)
    excluded = {
        (pid, did) for pid, did in db.execute(
            select(PairExclusion.patient_id, PairExclusion.doctor_id).where(
                PairExclusion.patient_id.in_([r.patient_id for r in waiting]))
        )
    } if waiting else set()

    demands: list[Demand[int]] = []
    pins: dict[int, int] = {}
    pins_per_doctor: dict[int, int] = {}
    capacity_of = {o.id: o.capacity for o in offers}
    for request in waiting:
        if request.id in held:
            continue
        refresh_priority(request, now=now)
        pos = request_position(request)
        if pos is None:
            built.skipped[request.id] = NO_POSITION
            continue
        pin = pinned_drafts.get(request.id)
        if pin is not None:
            used = pins_per_doctor.get(pin.doctor_id, 0)
            if (pin.doctor_id not in capacity_of or used >= capacity_of[pin.doctor_id]
                    or (request.patient_id, pin.doctor_id) in excluded):
                built.skipped[request.id] = PIN_NOT_HONOURED
                continue
            pins_per_doctor[pin.doctor_id] = used + 1
            pins[request.id] = pin.doctor_id
            built.pinned_drafts[request.id] = pin
        built.requests[request.id] = request
        demands.append(Demand(request.id, pos[0], pos[1], weight=request_weight(request, now=now, km_cost=km_cost),
                              max_km=float(request.patient.max_km), tags=demand_tags(request)))
    for request_id, request in built.requests.items():
        if request_id in pins:
            continue
        for doctor_id in offer_doctors:
            if (request.patient_id, doctor_id) in excluded:
                built.excluded_pairs.add((request_id, doctor_id))
            elif not qualifies_for(request, declarations[doctor_id]):
                built.priority_pairs.add((request_id, doctor_id))
    forbidden = sorted(built.excluded_pairs | built.priority_pairs)
    built.problem = Problem(demands, offers, km_cost=km_cost, forbidden=forbidden, pinned=pins)
    built.parameters = {"km_cost": km_cost, "reach_bonus": bonus, "reach_bonus_km": REACH_BONUS_KM,
                        "languages": "preference", "priority_only": "forbidden_pairs"}
    return built


def distance_to(request: PatientRequest, doctor: Doctor) -> float | None:
    rpos, dpos = request_position(request), doctor_position(doctor)
    if rpos is None or dpos is None:
        return None
    return haversine_km(rpos[0], rpos[1], dpos[0], dpos[1])


def _snp_days(now: datetime) -> tuple[date, date]:
    today = paris_today(now)
    return today, today + timedelta(days=1)


def availability_windows(request: PatientRequest) -> list[tuple[datetime, datetime]]:
    """The patient's availability periods as aware datetimes (Europe/Paris)."""
    windows = []
    for item in request.snp_availability or []:
        try:
            day = date.fromisoformat(str(item.get("day")))
            start_h, end_h = SNP_PERIOD_HOURS[str(item.get("period"))]
        except (ValueError, KeyError, AttributeError):
            continue
        windows.append((datetime(day.year, day.month, day.day, start_h, tzinfo=PARIS),
                        datetime(day.year, day.month, day.day, end_h, tzinfo=PARIS)))
    return windows


def slot_fits(request: PatientRequest, slot: Slot) -> bool:
    """Whether the slot starts inside one of the patient's availability periods.

    A request without any period stated is available at any time.
    """
    windows = availability_windows(request)
    if not windows:
        return True
    start = to_paris(slot.start_dt)
    return any(a <= start < b for a, b in windows)


def snp_board_requests(db: Session, territory: Territory, *, now: datetime) -> list[PatientRequest]:
    """Waiting SNP requests available today or tomorrow (or any time), most urgent first.

    A request whose appointment the GP cancelled comes first: the patient was already
    promised a consultation.
    """
    days = {d.isoformat() for d in _snp_days(now)}
    lost_a_slot = exists().where(RequestEvent.request_id == PatientRequest.id, RequestEvent.kind == "status",
                                 RequestEvent.reason == "slot_cancelled")
    rows = db.scalars(
        select(PatientRequest)
        .where(PatientRequest.territory_id == territory.id, PatientRequest.kind == "snp",
               PatientRequest.status == "waiting")
        .options(selectinload(PatientRequest.patient).selectinload(Patient.commune))
        .order_by(case((lost_a_slot, 0), else_=1), PatientRequest.priority_score.desc(),
                  PatientRequest.waiting_since_dt, PatientRequest.id)
    )
    result = []
    for r in rows:
        avail = r.snp_availability or []
        if not avail or any(str(a.get("day")) in days for a in avail if isinstance(a, dict)):
            result.append(r)
    return result


def snp_free_slots(db: Session, territory: Territory, *, now: datetime) -> list[Slot]:
    """Free slots of the territory's GPs starting from now until the end of tomorrow (Paris)."""
    _, tomorrow = _snp_days(now)
    end = datetime(tomorrow.year, tomorrow.month, tomorrow.day, tzinfo=PARIS) + timedelta(days=1)
    return list(
        db.scalars(
            select(Slot)
            .join(Doctor, Doctor.id == Slot.doctor_id)
            .where(Doctor.territory_id == territory.id, Doctor.is_active.is_(True), Slot.status == "free",
                   Slot.start_dt > now, Slot.start_dt < end)
            .options(selectinload(Slot.doctor).selectinload(Doctor.commune))
            .order_by(Slot.start_dt, Slot.id)
        )
    )


def build_snp_problem(db: Session, territory: Territory, *, now: datetime,
                      km_cost: float | None = None) -> BuiltProblem:
    """Today's and tomorrow's SNP requests against the free slots: one offer per slot."""
    km_cost = km_cost_of(territory) if km_cost is None else km_cost
    bonus = REACH_BONUS_KM * km_cost
    requests = snp_board_requests(db, territory, now=now)
    free = snp_free_slots(db, territory, now=now)
    built = BuiltProblem(kind="snp", territory=territory, problem=Problem((), ()), requests={}, doctors={})
    offers: list[Offer[int]] = []
    for slot in free:
        pos = doctor_position(slot.doctor)
        if pos is None:
            continue
        offers.append(Offer(slot.id, pos[0], pos[1], capacity=1, max_km=SNP_OFFER_KM,
                            accepts=offer_accepts(slot.doctor, None)))
        built.doctors[slot.id] = slot.doctor
        built.slots[slot.id] = slot
    demands: list[Demand[int]] = []
    forbidden: list[tuple[int, int]] = []
    for request in requests:
        refresh_priority(request, now=now)
        pos = request_position(request)
        if pos is None:
            built.skipped[request.id] = NO_POSITION
            continue
        built.requests[request.id] = request
        demands.append(Demand(request.id, pos[0], pos[1], weight=request_weight(request, now=now, km_cost=km_cost),
                              max_km=float(request.patient.max_km), tags=demand_tags(request)))
        for slot_id, slot in built.slots.items():
            if not slot_fits(request, slot):
                forbidden.append((request.id, slot_id))
    built.problem = Problem(demands, offers, km_cost=km_cost, forbidden=forbidden)
    built.parameters = {"km_cost": km_cost, "reach_bonus": bonus, "waiting_hours": "earliest_slot_per_practice"}
    return built
