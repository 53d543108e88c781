"""Exact demand → offer matching: :func:`solve` runs the engine's steps in order.

The problem
-----------
Maximise ``Σ (weight_i − km_cost × distance_ij)`` over the chosen pairs, each demand at
most once, each offer at most its capacity, only *allowed* pairs (within both radii, tags
accepted, weight ≥ the offer's minimum, not forbidden).  Pinned pairs are fixed first: they
use capacity and count in the objective whatever their value or distance.

Only pairs of **positive value** may be chosen: a pair worth ≤ 0 never beats leaving the
demand waiting, so such a demand is reported ``too_far_for_priority`` instead.

How it is solved exactly
------------------------
1. Validation (:mod:`guichet.matching.model`): the records and the problem become column
   arrays, under the same rules the records apply when they are built.
2. Geometry (:mod:`guichet.matching.geo`): the pairs within reach, by spatial tiles and a
   KD-tree of offers; the reach test is the exact haversine test.  The other filters
   (tags, minimum weight, forbidden, value > 0, capacity) follow here, each pair keeping
   the stage it reached so that reasons and explanations can be told.
3. Core (:mod:`guichet.matching.flow`): OR-Tools min-cost flow on values scaled and
   rounded to integers — optimal for the rounded values only.
4. Certificate and repair (:mod:`guichet.matching.certificate`), in floats: negative
   cycles of the exchange graph are cancelled until none is left, free places go to
   waiting demands that can take them; the offer prices give an LP upper bound, and
   ``stats["optimality_gap"]`` = bound − objective.  A result whose gap exceeds 1e-9 of
   the bound is refused (:class:`~guichet.matching.model.InvalidProblem`), never returned.
5. Results (:mod:`guichet.matching.results`): assignments, reason codes, statistics, and
   explanations computed on demand.

The objective reported is recomputed in floats (``math.fsum``) from the chosen pairs.

Reductions tried and measured (bench instances, 2 cores), and why they are not used:
connected components — M and L are each one component, nothing to split or spread over
two cores; solving on each demand's top-t pairs then pricing the rest in — the exchanges
to repair cost more than the full OR-Tools solve saves (t=20 on M: 0.18 s + 1.8 s repair
vs 0.45 s); a thread pool over geometry tiles — no gain (memory-bound kernels).

Determinism: records are indexed by input position, never by hash (ids may be str, and
``PYTHONHASHSEED`` varies); pairs are sorted by (demand, offer) input order; OR-Tools and
the repair are deterministic for the same arc order.  Ties are therefore broken the same
way on every run, but by no fairness rule.

The SNP (soins non programmés) matching is the same call with one offer per slot
(``capacity=1``); nothing else differs.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from guichet.matching.certificate import GAP_REL_TOL, certify, dual_bound, fill_free_places
from guichet.matching.flow import solve_flow
from guichet.matching.geo import haversine_np, reach_pairs
from guichet.matching.model import (
    BoolArray,
    Compiled,
    DemandId,
    FloatArray,
    IntArray,
    InvalidProblem,
    OfferId,
    Problem,
    compile_problem,
)
from guichet.matching.results import (
    ST_ELIGIBLE,
    ST_FORBIDDEN,
    ST_MINW,
    ST_NOCAP,
    ST_TAGS,
    ST_VALUE,
    Context,
    Result,
    unassigned_reasons,
)


@dataclass(eq=False)
class _Pairs:
    """Pairs within reach of the demands to place, and how far each got in the filters."""

    reach_i: IntArray  # demand index, sorted
    reach_j: IntArray  # offer index
    reach_d: FloatArray  # distance, km
    stage: npt.NDArray[np.int8]  # ST_* constant of guichet.matching.results
    value: FloatArray  # weight − km_cost × distance
    worth: BoolArray  # allowed and of positive value (capacity not looked at)
    n_allowed: int  # within reach, tags, minimum weight, not forbidden


def _pairs(c: Compiled[Any, Any], free_idx: IntArray, cap_left: IntArray) -> _Pairs:
    """Pairs within reach of the demands ``free_idx``, filtered stage by stage."""
    k = len(c.offers)
    ri, rj, rd = reach_pairs(
        c.d_lat[free_idx], c.d_lon[free_idx], c.d_max[free_idx], c.o_lat, c.o_lon, c.o_max
    )
    ri = free_idx[ri]
    stage = np.full(ri.size, ST_TAGS, np.int8)
    ok = np.ones(ri.size, bool)
    if c.masks is not None:
        dm, om = c.masks
        ok = ~np.any(dm[ri] & ~om[rj], axis=1)
    stage[ok] = ST_MINW
    ok &= c.weight[ri] >= c.min_w[rj]
    stage[ok] = ST_FORBIDDEN
    if c.forbidden.size:
        ok &= ~np.isin(ri * k + rj, c.forbidden)
    stage[ok] = ST_VALUE
    n_allowed = int(ok.sum())
    value = c.weight[ri] - c.km_cost * rd
    ok &= value > 0.0
    stage[ok] = ST_NOCAP
    worth = ok.copy()
    ok &= cap_left[rj] > 0
    stage[ok] = ST_ELIGIBLE
    return _Pairs(ri, rj, rd, stage, value, worth, n_allowed)


def solve(
    problem: Problem[DemandId, OfferId], *, _scale: float | None = None
) -> Result[DemandId, OfferId]:
    """Solve the matching problem exactly; see the module docstring for the method.

    The result's ids have the problem's types (``Problem[int, str]`` gives
    ``Result[int, str]``).  Raises :class:`~guichet.matching.model.InvalidProblem` (a
    ``ValueError``) naming the first invalid record, or the demand that sets the scale
    when values span too widely to be certified within 1e-9 of the optimum.  ``_scale``
    forces the integer core's cost scale (tests only).
    """
    t0 = time.perf_counter()
    c = compile_problem(problem)
    n, k = len(c.demands), len(c.offers)

    cap_left = c.capacity.copy()
    assigned = np.full(n, -1, np.int64)
    for di, oi in c.pinned.items():
        assigned[di] = oi
        cap_left[oi] -= 1
    free_d = np.ones(n, bool)
    if c.pinned:
        free_d[list(c.pinned)] = False
    pairs = _pairs(c, np.flatnonzero(free_d), cap_left)
    sel = np.flatnonzero(pairs.stage == ST_ELIGIBLE)
    ei, ej, ev = pairs.reach_i[sel], pairs.reach_j[sel], pairs.value[sel]
    t_pairs = time.perf_counter()

    flow_assigned, scale = solve_flow(n, k, ei, ej, ev, cap_left, _scale)
    t_flow = time.perf_counter()
    cert = certify(n, k, ei, ej, ev, cap_left, flow_assigned)
    n_filled = fill_free_places(ei, ej, ev, cap_left, cert.assigned)
    t_cert = time.perf_counter()
    chosen = cert.assigned
    assigned[chosen >= 0] = chosen[chosen >= 0]

    # Pins consumed the capacity of an otherwise eligible offer: "taken", not "none".
    pin_taken = np.zeros(n, bool)
    if c.pinned:
        pin_taken[pairs.reach_i[pairs.worth & (c.capacity[pairs.reach_j] > 0)]] = True
    reasons = unassigned_reasons(n, pairs.reach_i, pairs.stage, pin_taken)
    assignments: dict[DemandId, OfferId] = {}
    unassigned: dict[DemandId, str] = {}
    for d, j, reason in zip(c.demands, assigned.tolist(), reasons, strict=True):
        if j >= 0:
            assignments[d.id] = c.offers[j].id
        else:
            unassigned[d.id] = reason

    pinned_values: list[float] = []
    if c.pinned:
        pd = np.fromiter(c.pinned.keys(), np.int64, len(c.pinned))
        po = np.fromiter(c.pinned.values(), np.int64, len(c.pinned))
        dist = haversine_np(c.d_lat[pd], c.d_lon[pd], c.o_lat[po], c.o_lon[po])
        pinned_values = (c.weight[pd] - c.km_cost * dist).tolist()
    values = ev[np.flatnonzero(chosen[ei] == ej)].tolist()
    objective = math.fsum(pinned_values + values)
    free_objective = math.fsum(values)
    dual = dual_bound(ei, ej, ev, cap_left, cert.price)
    gap = max(0.0, dual - free_objective)
    if gap > GAP_REL_TOL * dual:
        top = int(ei[np.argmax(ev)])
        raise InvalidProblem(
            f"the matching is certified only within {gap:.3g} of the optimum, above the "
            f"tolerance {GAP_REL_TOL:g} × bound = {GAP_REL_TOL * dual:.3g}: pair values span "
            f"too many orders of magnitude (the largest, {float(ev.max()):.6g}, is demand "
            f"{c.demands[top].id!r}'s); rescale the weights or km_cost",
            c.demands[top].id,
        )

    price = np.full(k, np.nan)
    active = np.zeros(k, bool)
    active[ej] = True
    price[active] = cert.price[active]
    t_end = time.perf_counter()
    stats: dict[str, Any] = {
        "n_demands": n,
        "n_offers": k,
        "n_pinned": len(c.pinned),
        "places": int(c.capacity.sum()),
        "n_pairs_in_reach": int(pairs.reach_i.size),
        "n_pairs": pairs.n_allowed,
        "n_pairs_eligible": int(ei.size),
        "n_assigned": len(assignments),
        "n_unassigned": len(unassigned),
        "int_scale": scale,
        "bf_iterations": cert.iterations,
        "float_cycles_cancelled": cert.cycles,
        "n_filled_after_repair": n_filled,
        "dual_bound": dual + math.fsum(pinned_values),
        "optimality_gap": gap,
        "seconds_pairs": t_pairs - t0,
        "seconds_flow": t_flow - t_pairs,
        "seconds_certificate": t_cert - t_flow,
        "seconds": t_end - t0,
    }
    ctx = Context(
        demands=c.demands,
        offers=c.offers,
        demand_index=c.d_index,
        km_cost=c.km_cost,
        pinned=c.pinned,
        reach_i=pairs.reach_i,
        reach_j=pairs.reach_j,
        reach_d=pairs.reach_d,
        stage=pairs.stage,
        weight=c.weight,
        assigned=assigned,
        price=price,
    )
    return Result(assignments, unassigned, objective, stats, ctx)
