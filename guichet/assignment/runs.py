"""Matching runs: solve a built problem, explain the outcome, store the drafts.

A run (``run_mt``) is one transaction: earlier unreviewed drafts are cancelled, the
``MatchingRun`` and its drafts are added, and with automatic approval the drafts are
approved and sent at once; the caller commits. ``dry_run=True`` computes the same result
and writes nothing. Raises ``matching.InvalidProblem`` only on a programming error.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, object_session

from guichet.assignment import proposals
from guichet.assignment.explanations import explanation_summary, reason_text
from guichet.assignment.problems import (
    FORBIDDEN_OR_RESERVED,
    NO_POSITION,
    OUTSIDE_AVAILABILITY,
    RESERVED_FOR_PRIORITY,
    BuiltProblem,
    build_mt_problem,
    build_snp_problem,
    demand_tags,
    doctor_position,
    request_position,
    slot_fits,
)
from guichet.matching import (
    ALL_FORBIDDEN,
    TAGS_NOT_ACCEPTED,
    Result,
    haversine_km,
    solve,
)
from guichet.models import (
    Doctor,
    MatchingRun,
    PatientRequest,
    Proposal,
    Slot,
    Territory,
    User,
)

#: reason given when a new run replaces the drafts of the previous one
REPLACED_REASON = "remplacée par une nouvelle attribution"


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


def left_out(db: Session, territory: Territory) -> dict[str, int]:
    """MT requests a run does not consider: to review (received online), to call (imported lists).

    Those incomplete (no commune position) are in the run and reported as unplaced.
    """
    rows = db.execute(
        select(PatientRequest.status, func.count()).where(
            PatientRequest.territory_id == territory.id, PatientRequest.kind == "mt",
            PatientRequest.status.in_(("submitted", "to_contact"))).group_by(PatientRequest.status))
    counts = {status: int(n) for status, n in rows}
    return {"submitted": counts.get("submitted", 0), "to_contact": counts.get("to_contact", 0)}


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
    outcome.stats["left_out"] = {**left_out(db, territory),
                                 "incomplete": outcome.stats["unassigned_by_reason"].get(NO_POSITION, 0)}
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
