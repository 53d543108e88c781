"""Matching runs: build the engine's problem from the database, solve it, store the drafts.

Problem builder (médecin traitant)
----------------------------------
* Demands are the territory's MT requests in status ``waiting`` that hold no live
  proposal — except an unreviewed, unpinned draft of an earlier run, which the new run
  replaces. The priority is refreshed with ``now`` first (days waited move every day).
* Weight = refreshed priority score + ``REACH_BONUS_KM × km_cost``. The engine only
  proposes pairs worth more than zero; without the bonus a patient who has just asked
  (score 1) could not be proposed to a GP 2 km away even when that GP has free places.
  The bonus is the same for everyone, so it changes no priority order: it only says that
  leaving a patient waiting while a GP within both radii has a place is never better.
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

A run (``run_mt``) is one transaction: earlier unreviewed drafts are cancelled, the
``MatchingRun`` and its drafts are added, and with automatic approval the drafts are
approved and sent at once; the caller commits. ``dry_run=True`` computes the same result
and writes nothing. Raises ``matching.InvalidProblem`` only on a programming error.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session, selectinload

from guichet.assignment import proposals
from guichet.assignment.priority import FLAG_LABELS
from guichet.doctors import capacity
from guichet.matching import (
    ALL_FORBIDDEN,
    BELOW_MIN_WEIGHT,
    CAPACITY_TAKEN,
    NO_CAPACITY,
    NO_OFFER_IN_REACH,
    TAGS_NOT_ACCEPTED,
    TOO_FAR_FOR_PRIORITY,
    Demand,
    Offer,
    Problem,
    Result,
    haversine_km,
    solve,
)
from guichet.models import (
    ACTIVE_PROPOSAL_STATUSES,
    CapacityDeclaration,
    Commune,
    Doctor,
    MatchingRun,
    PairExclusion,
    Patient,
    PatientRequest,
    Proposal,
    Slot,
    Territory,
    User,
)
from guichet.requests.records import refresh_priority
from guichet.territories import settings as territory_settings
from guichet.timeutil import PARIS, paris_today, to_paris

#: price of one kilometre in priority points (1 km = 1 day waited) unless the territory says otherwise
DEFAULT_KM_COST = float(territory_settings.DEFAULT_SETTINGS["matching_km_cost"])
#: the largest radius a patient or a GP may choose (models' CHECK constraints)
REACH_BONUS_KM = 200.0
#: reason given when a new run replaces the drafts of the previous one
REPLACED_REASON = "remplacée par une nouvelle attribution"

# Reason codes added by the builder (the engine's own codes are in guichet.matching).
NO_POSITION = "no_position"
PIN_NOT_HONOURED = "pin_not_honoured"
RESERVED_FOR_PRIORITY = "reserved_for_priority"
FORBIDDEN_OR_RESERVED = "forbidden_or_reserved"
OUTSIDE_AVAILABILITY = "outside_availability"

TAG_LABELS = {
    "children": "enfants",
    "home_visit": "visites à domicile",
    "step_free": "accès de plain-pied",
}

#: the patient's availability periods for SNP, in Paris local hours [start, end)
SNP_PERIODS = {"morning": (8, 12), "afternoon": (12, 18), "evening": (18, 21)}
SNP_PERIOD_LABELS = {"morning": "matin", "afternoon": "après-midi", "evening": "soir"}
#: an SNP slot is open to the whole territory: the patient's own radius decides
SNP_OFFER_KM = 200.0


def km_cost_of(territory: Territory) -> float:
    value = territory_settings.setting(territory, "matching_km_cost")
    try:
        number = float(value)
    except (TypeError, ValueError):
        return DEFAULT_KM_COST
    return number if number >= 0 else DEFAULT_KM_COST


def reason_text(code: str, *, max_km: float | None = None, tags: list[str] | None = None) -> str:
    """The reason, in French, why a patient got no proposal."""
    if code == NO_OFFER_IN_REACH:
        return f"aucun médecin disponible à moins de {max_km:g} km" if max_km else "aucun médecin disponible"
    if code == CAPACITY_TAKEN:
        return "places prises par des patients prioritaires ou plus proches"
    if code == TAGS_NOT_ACCEPTED:
        labels = ", ".join(TAG_LABELS.get(t, t) for t in (tags or []))
        return f"aucun médecin proche n'accepte : {labels}" if labels else "aucun médecin proche n'accepte ses besoins"
    if code in (ALL_FORBIDDEN,):
        return "médecins proches déjà refusés ou exclus"
    if code in (BELOW_MIN_WEIGHT, RESERVED_FOR_PRIORITY):
        return "médecins proches réservés aux patients prioritaires"
    if code == FORBIDDEN_OR_RESERVED:
        return "médecins proches déjà refusés, exclus ou réservés aux patients prioritaires"
    if code == TOO_FAR_FOR_PRIORITY:
        return "médecins disponibles trop éloignés au regard de sa priorité"
    if code == NO_CAPACITY:
        return "les médecins proches n'ont plus de place"
    if code == NO_POSITION:
        return "commune sans coordonnées"
    if code == PIN_NOT_HONOURED:
        return "attribution manuelle impossible à tenir : le médecin n'a plus de place déclarée"
    if code == OUTSIDE_AVAILABILITY:
        return "aucun créneau libre pendant ses disponibilités"
    return "non attribué"


# ---------------------------------------------------------------- builder


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
    return {k for k in (request.priority_breakdown or {}) if k != "waiting_days"}


def qualifies_for(request: PatientRequest, declaration: CapacityDeclaration) -> bool:
    """Whether a priority-only declaration takes this patient."""
    if not declaration.is_priority_only:
        return True
    wanted = set(declaration.priority_flags or []) or (set(FLAG_LABELS) - {"waiting_days"})
    return bool(request_flags(request) & wanted)


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
        demands.append(Demand(request.id, pos[0], pos[1], weight=request.priority_score + bonus,
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


# ---------------------------------------------------------------- result for review


@dataclass
class Placement:
    """One pair of the result, ready for the review table."""

    request: PatientRequest
    doctor: Doctor
    distance_km: float
    value: float
    explanation: dict[str, Any]
    is_pinned: bool = False
    slot: Slot | None = None


@dataclass
class Unplaced:
    request: PatientRequest
    reason: str
    text: str


@dataclass
class RunOutcome:
    """What a run found: pairs, unplaced patients with reasons, counts and timing."""

    kind: str
    placements: list[Placement]
    unplaced: list[Unplaced]
    stats: dict[str, Any]
    solver_seconds: float
    objective: float
    parameters: dict[str, Any]
    run: MatchingRun | None = None
    drafts: list[Proposal] = field(default_factory=list)
    approval_failures: list[tuple[int, str]] = field(default_factory=list)


def _unplaced_reason(built: BuiltProblem, result: Result[int, int], request_id: int, code: str) -> tuple[str, str]:
    request = built.requests[request_id]
    if code == ALL_FORBIDDEN:
        expl = result.explain(request_id)
        forbidden = [o for o in expl.options if o.status == ALL_FORBIDDEN]
        by_priority = [o for o in forbidden if (request_id, o.offer_id) in built.priority_pairs]
        if forbidden and len(by_priority) == len(forbidden):
            code = RESERVED_FOR_PRIORITY
        elif by_priority:
            code = FORBIDDEN_OR_RESERVED
    if code == ALL_FORBIDDEN and built.kind == "snp":
        code = OUTSIDE_AVAILABILITY
    tags: list[str] = []
    if code == TAGS_NOT_ACCEPTED:
        expl = result.explain(request_id)
        needed = sorted(demand_tags(request))
        offers = {o.id: o for o in built.problem.offers}
        in_reach = [offers[o.offer_id] for o in expl.options]
        tags = [t for t in needed if not any(t in off.accepts for off in in_reach)] or needed
    return code, reason_text(code, max_km=float(request.patient.max_km), tags=tags)


def _explanation(built: BuiltProblem, result: Result[int, int], request: PatientRequest, offer_id: int,
                 doctor: Doctor, distance: float, is_pinned: bool) -> dict[str, Any]:
    expl = result.explain(request.id)
    flags = {k: v for k, v in (request.priority_breakdown or {}).items()}
    data: dict[str, Any] = {
        "priority": flags,
        "score": request.priority_score,
        "distance_km": round(distance, 2),
        "in_reach": expl.n_in_reach,
        "eligible": expl.n_eligible,
        "rank": expl.rank,
        "pinned": is_pinned,
    }
    alt = expl.best_alternative
    if alt is not None:
        data["alternative_km"] = round(alt.distance_km, 2)
    eligible = [o.distance_km for o in expl.options if o.status in ("chosen", "eligible")]
    if eligible:
        data["nearest_km"] = round(min(eligible), 2)
    tags = sorted(demand_tags(request))
    if tags:
        data["tags"] = tags
    decl = built.declarations.get(doctor.id)
    shared = sorted(set(request.patient.languages or []) & set(decl.languages or [])) if decl else []
    if shared:
        data["languages"] = shared
    if decl is not None and decl.is_priority_only:
        data["priority_only"] = True
    data["summary"] = explanation_summary(data)
    return data


def _km(value: float | None) -> str:
    return f"{value or 0:.1f} km".replace(".", ",")


def explanation_summary(data: dict[str, Any]) -> str:
    """Why this GP, in one French sentence for the review table."""
    if data.get("pinned"):
        return f"Attribution fixée par l'équipe ({_km(data.get('distance_km'))})."
    parts = []
    eligible = data.get("eligible") or 0
    rank = data.get("rank")
    distance = data.get("distance_km", 0) or 0
    nearest = data.get("nearest_km")
    if rank == 1 or (nearest is not None and distance <= nearest + 0.05):
        parts.append(f"le plus proche parmi {eligible} médecin(s) possible(s)")
    elif rank:
        parts.append(f"{rank}e plus proche parmi {eligible} médecin(s) possible(s), les plus proches "
                     "étant réservés à d'autres patients")
    parts.append(f"à {_km(data.get('distance_km'))}")
    if data.get("tags"):
        parts.append("accepte : " + ", ".join(TAG_LABELS.get(t, t) for t in data["tags"]))
    if data.get("languages"):
        parts.append("langue partagée : " + ", ".join(data["languages"]))
    if data.get("priority_only"):
        parts.append("réservé aux patients prioritaires")
    text = " ; ".join(parts)
    return text[:1].upper() + text[1:] + "."


def _outcome(built: BuiltProblem, result: Result[int, int], seconds: float) -> RunOutcome:
    placements: list[Placement] = []
    for request_id, offer_id in result.assignments.items():
        request = built.requests[request_id]
        doctor = built.doctors[offer_id]
        slot = built.slots.get(offer_id) if built.kind == "snp" else None
        dpos = doctor_position(doctor)
        rpos = request_position(request)
        assert dpos is not None and rpos is not None
        distance = haversine_km(rpos[0], rpos[1], dpos[0], dpos[1])
        is_pinned = request_id in built.pinned_drafts
        value = request.priority_score - built.problem.km_cost * distance
        placements.append(Placement(
            request=request, doctor=doctor, distance_km=distance, value=value, is_pinned=is_pinned, slot=slot,
            explanation=_explanation(built, result, request, offer_id, doctor, distance, is_pinned),
        ))
    unplaced: list[Unplaced] = []
    for request_id, code in result.unassigned.items():
        final, text = _unplaced_reason(built, result, request_id, code)
        unplaced.append(Unplaced(built.requests[request_id], final, text))
    for request_id, code in built.skipped.items():
        request = built.requests.get(request_id) or _request_of(built, request_id)
        unplaced.append(Unplaced(request, code, reason_text(code)))
    unplaced.sort(key=lambda u: (-u.request.priority_score, u.request.id))
    placements.sort(key=lambda p: (-p.request.priority_score, p.request.id))
    by_reason: dict[str, int] = {}
    for u in unplaced:
        by_reason[u.reason] = by_reason.get(u.reason, 0) + 1
    s = result.stats
    stats = {
        "n_demands": s["n_demands"] + len(built.skipped),
        "n_offers": s["n_offers"],
        "places": s.get("places", 0),
        "n_pairs": s.get("n_pairs", 0),
        "n_pinned": s.get("n_pinned", 0),
        "n_assigned": len(placements),
        "n_new": sum(1 for p in placements if not p.is_pinned),
        "n_unassigned": len(unplaced),
        "unassigned_by_reason": by_reason,
        "unassigned": [{"request_id": u.request.id, "reason": u.reason, "text": u.text} for u in unplaced],
        "n_replaced": len(built.replaced_drafts),
        "optimality_gap": s.get("optimality_gap", 0.0),
    }
    return RunOutcome(kind=built.kind, placements=placements, unplaced=unplaced, stats=stats,
                      solver_seconds=seconds, objective=result.objective, parameters=built.parameters)


def _request_of(built: BuiltProblem, request_id: int) -> PatientRequest:
    session = object_session(built.territory)
    assert session is not None
    request = session.get(PatientRequest, request_id)
    assert request is not None
    return request


def solve_built(built: BuiltProblem) -> tuple[Result[int, int], float]:
    started = time.perf_counter()
    result = solve(built.problem)
    return result, time.perf_counter() - started


# ---------------------------------------------------------------- the run


def run_mt(db: Session, territory: Territory, *, now: datetime, user: User | None = None,
           dry_run: bool = False, source: str = "web") -> RunOutcome:
    """Run the MT matching for a territory; unless `dry_run`, store the run and its drafts.

    A real run cancels the previous unreviewed, unpinned drafts, adds a MatchingRun with
    its parameters, counts and solver time, and one draft per new pair; with the
    territory's automatic approval the drafts are approved and sent at once (failures,
    e.g. a GP whose capacity changed meanwhile, are reported in ``approval_failures``).
    Flushes, never commits. A dry run writes nothing (the refreshed scores are only in
    the session, which the caller rolls back).
    """
    built = build_mt_problem(db, territory, now=now, lock=not dry_run)
    result, seconds = solve_built(built)
    outcome = _outcome(built, result, seconds)
    outcome.parameters = {**outcome.parameters, "source": source, "dry_run": dry_run}
    if dry_run:
        return outcome
    for draft in built.replaced_drafts:
        proposals.cancel(db, draft, now=now, reason=REPLACED_REASON, user_id=user.id if user else None)
    run = MatchingRun(
        territory_id=territory.id, kind="mt", started_by_id=user.id if user else None, started_dt=now,
        finished_dt=now + timedelta(seconds=seconds), parameters=outcome.parameters, stats=outcome.stats,
        solver_seconds=seconds, objective=result.objective,
    )
    db.add(run)
    db.flush()
    outcome.run = run
    for placement in outcome.placements:
        if placement.is_pinned:
            outcome.drafts.append(built.pinned_drafts[placement.request.id])
            continue
        decl = built.declarations[placement.doctor.id]
        outcome.drafts.append(proposals.create_draft(
            db, placement.request, placement.doctor, now=now, run_id=run.id, declaration_id=decl.id,
            distance_km=round(placement.distance_km, 3), value=placement.value,
            explanation=placement.explanation,
        ))
    if territory.is_auto_approval and outcome.drafts:
        from guichet.assignment import arbitration

        report = arbitration.approve(db, territory, [p.id for p in outcome.drafts], user=user, now=now)
        outcome.approval_failures = report.failed
        run.stats = {**run.stats, "auto_approved": len(report.approved), "auto_failed": len(report.failed)}
    db.flush()
    return outcome


def review_data(db: Session, run: MatchingRun) -> dict[str, Any]:
    """The review table of a stored run: its drafts, the pinned drafts, the unplaced patients."""
    drafts = list(
        db.scalars(
            select(Proposal)
            .where(Proposal.run_id == run.id)
            .options(selectinload(Proposal.request).selectinload(PatientRequest.patient),
                     selectinload(Proposal.doctor))
            .order_by(Proposal.id)
        )
    )
    pinned = list(
        db.scalars(
            select(Proposal)
            .join(PatientRequest, PatientRequest.id == Proposal.request_id)
            .where(PatientRequest.territory_id == run.territory_id, PatientRequest.kind == run.kind,
                   Proposal.is_pinned.is_(True), Proposal.status == "proposed",
                   (Proposal.run_id.is_(None)) | (Proposal.run_id != run.id))
            .order_by(Proposal.id)
        )
    )
    rows = sorted(drafts + pinned, key=lambda p: (p.status != "proposed", -p.request.priority_score, p.id))
    unassigned = (run.stats or {}).get("unassigned", [])
    ids = [u["request_id"] for u in unassigned]
    requests = {r.id: r for r in db.scalars(select(PatientRequest).where(PatientRequest.id.in_(ids)))} if ids else {}
    unplaced = [
        {"request": requests[u["request_id"]], "reason": u["reason"], "text": u["text"]}
        for u in unassigned if u["request_id"] in requests
    ]
    return {"run": run, "proposals": rows, "unplaced": unplaced,
            "pending": sum(1 for p in rows if p.status == "proposed")}


def patient_summary(request: PatientRequest, now: datetime) -> dict[str, Any]:
    """What the review table shows of a patient: age group, commune, situation flags."""
    patient = request.patient
    return {
        "age_group": proposals.age_group(request, now),
        "commune": patient.commune.name if patient.commune else "",
        "flags": [FLAG_LABELS.get(k, k) for k in request_flags(request)],
        "needs": [TAG_LABELS[t] for t in sorted(demand_tags(request))],
    }


def distance_to(request: PatientRequest, doctor: Doctor) -> float | None:
    rpos, dpos = request_position(request), doctor_position(doctor)
    if rpos is None or dpos is None:
        return None
    return haversine_km(rpos[0], rpos[1], dpos[0], dpos[1])


# ---------------------------------------------------------------- SNP


def _snp_days(now: datetime) -> tuple[date, date]:
    today = paris_today(now)
    return today, today + timedelta(days=1)


def availability_windows(request: PatientRequest) -> list[tuple[datetime, datetime]]:
    """The patient's availability periods as aware datetimes (Europe/Paris)."""
    windows = []
    for item in request.snp_availability or []:
        try:
            day = date.fromisoformat(str(item.get("day")))
            start_h, end_h = SNP_PERIODS[str(item.get("period"))]
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
    """Waiting SNP requests available today or tomorrow (or any time), most urgent first."""
    days = {d.isoformat() for d in _snp_days(now)}
    rows = db.scalars(
        select(PatientRequest)
        .where(PatientRequest.territory_id == territory.id, PatientRequest.kind == "snp",
               PatientRequest.status == "waiting")
        .options(selectinload(PatientRequest.patient).selectinload(Patient.commune))
        .order_by(PatientRequest.priority_score.desc(), PatientRequest.waiting_since_dt, PatientRequest.id)
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
        demands.append(Demand(request.id, pos[0], pos[1], weight=request.priority_score + bonus,
                              max_km=float(request.patient.max_km), tags=demand_tags(request)))
        for slot_id, slot in built.slots.items():
            if not slot_fits(request, slot):
                forbidden.append((request.id, slot_id))
    built.problem = Problem(demands, offers, km_cost=km_cost, forbidden=forbidden)
    built.parameters = {"km_cost": km_cost, "reach_bonus": bonus, "waiting_hours": "earliest_slot_per_practice"}
    return built


def _earliest_slots(built: BuiltProblem, assignments: dict[int, int]) -> dict[int, int]:
    """At each practice, give its patients (most urgent first) the earliest slots that fit.

    Every slot of one GP is at the same place, so the engine's objective is unchanged; if
    the greedy choice cannot seat every patient of that GP, the engine's choice is kept.
    """
    taken = set(assignments.values())
    by_doctor: dict[int, list[int]] = {}
    for request_id, slot_id in assignments.items():
        by_doctor.setdefault(built.slots[slot_id].doctor_id, []).append(request_id)
    better = dict(assignments)
    for doctor_id, request_ids in by_doctor.items():
        mine = {assignments[r] for r in request_ids}
        pool = sorted((s for s in built.slots.values() if s.doctor_id == doctor_id
                       and (s.id in mine or s.id not in taken)), key=lambda s: (s.start_dt, s.id))
        order = sorted(request_ids, key=lambda r: (-built.requests[r].priority_score, r))
        used: set[int] = set()
        choice: dict[int, int] = {}
        for request_id in order:
            request = built.requests[request_id]
            slot = next((s for s in pool if s.id not in used and slot_fits(request, s)), None)
            if slot is None:
                break
            used.add(slot.id)
            choice[request_id] = slot.id
        if len(choice) == len(request_ids):
            better.update(choice)
            taken = (taken - mine) | used
    return better


def solve_snp(db: Session, territory: Territory, *, now: datetime) -> RunOutcome:
    """Suggest a slot for each of today's and tomorrow's SNP requests; writes nothing."""
    built = build_snp_problem(db, territory, now=now)
    result, seconds = solve_built(built)
    outcome = _outcome(built, result, seconds)
    improved = _earliest_slots(built, dict(result.assignments))
    for placement in outcome.placements:
        slot = built.slots[improved[placement.request.id]]
        placement.slot = slot
    outcome.placements.sort(key=lambda p: (p.slot.start_dt if p.slot else now, p.request.id))
    return outcome
