"""Exact demand → offer matching: integer min-cost flow, then a float optimality certificate.

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
1. Geometry (:mod:`guichet.matching.geo`): the pairs within reach, by spatial tiles and a
   KD-tree of offers; the reach test is the exact haversine test.
2. Core: OR-Tools ``SimpleMinCostFlow`` (cost-scaling push-relabel, integer costs) on
   source → demand → offer → sink plus a source → sink bypass.  Values are floats, so they
   are scaled and rounded: ``cost = −round(value × S)`` with ``S`` as large as OR-Tools'
   overflow guard allows (it multiplies costs by ``(nodes + 1)²``).  The result is optimal
   for the *rounded* values, i.e. within ``n × 0.5 / S`` of the float optimum — not exact.
3. Certificate and repair, in floats: the solution is turned into the "exchange graph"
   over offers plus a node Z (the waiting list).  An arc k → j of weight
   ``v_ij − v_ik`` says "move i from j to k"; Z → j (``v_ij``) "unassign i"; k → Z
   (``−v_ik``) "give k to waiting i"; zero arcs stand for free places.  The solution is
   optimal iff this graph has no negative cycle.  A vectorised Bellman-Ford finds either
   potentials — the offer *prices* p_j, i.e. LP duals — or negative cycles, which are
   cancelled (all vertex-disjoint ones at once) before trying again.  Relaxations need to
   gain more than ``tol = 1e-10 × max value``, far above float noise, so the loop ends.
4. With the prices, ``u_i = max(0, max_k v_ik − p_k)`` and ``Σ u_i + Σ cap_j p_j`` is an
   LP upper bound on every solution; ``stats["optimality_gap"]`` = bound − objective
   proves how far from optimal the answer can be (0 up to float rounding).

The objective reported is recomputed in floats (``math.fsum``) from the chosen pairs.
Relaxations below ``tol`` are ignored, so values spread over more than ~10 orders of
magnitude would be matched only to ``tol``; ``optimality_gap`` tells.

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
from collections.abc import Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from ortools.graph.python import min_cost_flow

from guichet.matching.geo import haversine_np, reach_pairs
from guichet.matching.model import (
    ALL_FORBIDDEN,
    BELOW_MIN_WEIGHT,
    CAPACITY_TAKEN,
    NO_CAPACITY,
    NO_OFFER_IN_REACH,
    TAGS_NOT_ACCEPTED,
    TOO_FAR_FOR_PRIORITY,
    Demand,
    Id,
    InvalidProblem,
    Offer,
    Problem,
)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# Stage reached by a pair within reach, in filter order (see _STAGE_REASON).
_ST_TAGS, _ST_MINW, _ST_FORBIDDEN, _ST_VALUE, _ST_NOCAP, _ST_ELIGIBLE = range(6)
_STAGE_REASON = {
    _ST_TAGS: TAGS_NOT_ACCEPTED,
    _ST_MINW: BELOW_MIN_WEIGHT,
    _ST_FORBIDDEN: ALL_FORBIDDEN,
    _ST_VALUE: TOO_FAR_FOR_PRIORITY,
    _ST_NOCAP: NO_CAPACITY,
}

#: relative gain a float exchange must bring to count as an improvement
_REL_TOL = 1e-10
# Above this many exchange-graph cells the dense aggregation would cost too much memory.
_DENSE_CELLS = 6_000_000


# ---------------------------------------------------------------- results and explanations


@dataclass(frozen=True, slots=True)
class Option:
    """One offer within reach of a demand, and what became of the pair."""

    offer_id: Id
    distance_km: float
    value: float
    #: "chosen", "eligible" (allowed, worth it, had capacity) or the reason code that
    #: excluded it (tags_not_accepted, below_min_weight, all_forbidden...)
    status: str
    #: the offer's shadow price: a demand needs a value above it to enter this offer
    price: float | None


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why a demand got, or did not get, an offer."""

    demand_id: Id
    status: str  # "pinned", "assigned" or "unassigned"
    offer_id: Id | None
    reason: str | None
    distance_km: float | None
    value: float | None
    weight: float
    #: offers within both radii
    n_in_reach: int
    #: offers allowed, worth it (value > 0) and with capacity: the real alternatives
    n_eligible: int
    #: 1 = the chosen offer is this demand's most valuable eligible option
    rank: int | None
    #: most valuable eligible option not taken (for unassigned: the nearest miss)
    best_alternative: Option | None
    #: for capacity_taken: how much more value the demand would have needed
    shortfall: float | None
    options: tuple[Option, ...]

    def summary(self) -> str:
        """One sentence in French for the staff console."""
        if self.status == "pinned":
            return f"Attribution fixée par l'équipe ({_fmt_km(self.distance_km)})."
        if self.status == "assigned":
            rang = "son meilleur choix" if self.rank == 1 else f"son choix n° {self.rank}"
            return (
                f"Proposé à {self.offer_id} à {_fmt_km(self.distance_km)}, {rang} "
                f"parmi {self.n_eligible} médecin(s) possible(s)."
            )
        texts = {
            NO_OFFER_IN_REACH: "Aucun médecin dans le rayon accepté.",
            TAGS_NOT_ACCEPTED: "Les médecins à portée ne prennent pas en charge ses besoins.",
            BELOW_MIN_WEIGHT: "Les médecins à portée ne prennent que des patients prioritaires.",
            ALL_FORBIDDEN: "Les médecins à portée sont exclus pour ce patient.",
            TOO_FAR_FOR_PRIORITY: "Trop loin au regard de sa priorité.",
            NO_CAPACITY: "Les médecins à portée n'ont aucune place.",
        }
        if self.reason == CAPACITY_TAKEN:
            alt = self.best_alternative
            if alt is not None and self.shortfall is not None:
                return (
                    f"Places prises par des patients plus prioritaires ; chez {alt.offer_id} "
                    f"({_fmt_km(alt.distance_km)}) il manquait {self.shortfall:.1f} point(s)."
                )
            return "Places prises par des patients plus prioritaires."
        return texts.get(self.reason or "", "Non attribué.")


def _fmt_km(km: float | None) -> str:
    return "?" if km is None else f"{km:.1f} km"


@dataclass(eq=False)
class _Context:
    """Arrays kept from the solve, for explanations computed on demand."""

    demands: Sequence[Demand]
    offers: Sequence[Offer]
    demand_index: dict[Id, int]
    km_cost: float
    pinned: dict[int, int]
    reach_i: IntArray
    reach_j: IntArray
    reach_d: FloatArray
    stage: npt.NDArray[np.int8]
    weight: FloatArray
    assigned: IntArray  # offer index per demand, −1 if none (pinned included)
    price: FloatArray  # per offer; nan for offers that took no part in the flow


@dataclass(frozen=True)
class Result:
    """Outcome of :func:`solve`."""

    #: demand id → offer id, pinned pairs included, in demand input order
    assignments: dict[Id, Id]
    #: demand id → reason code, in demand input order
    unassigned: dict[Id, str]
    #: Σ (weight − km_cost × distance) over ``assignments``, pinned pairs included
    objective: float
    stats: dict[str, Any]
    _context: _Context = field(repr=False, compare=False)

    def explain(self, demand_id: Id) -> Explanation:
        """Explain one demand's outcome (computed on demand; cheap)."""
        return _explain(self._context, self.assignments, self.unassigned, demand_id)

    @property
    def explanations(self) -> Mapping[Id, Explanation]:
        """Lazy mapping demand id → :class:`Explanation`."""
        return _LazyExplanations(self)

    @property
    def offer_prices(self) -> dict[Id, float]:
        """Shadow price per offer: the value a further demand would need to get a place."""
        ctx = self._context
        return {
            o.id: float(ctx.price[j])
            for j, o in enumerate(ctx.offers)
            if not math.isnan(ctx.price[j])
        }


class _LazyExplanations(Mapping[Id, Explanation]):
    def __init__(self, result: Result) -> None:
        self._result = result

    def __getitem__(self, key: Id) -> Explanation:
        if key not in self._result._context.demand_index:
            raise KeyError(key)
        return self._result.explain(key)

    def __iter__(self) -> Iterator[Id]:
        return (d.id for d in self._result._context.demands)

    def __len__(self) -> int:
        return len(self._result._context.demands)


def explain(result: Result, demand_id: Id) -> Explanation:
    """Explain one demand's outcome; same as ``result.explain(demand_id)``."""
    return result.explain(demand_id)


def _explain(
    ctx: _Context, assignments: dict[Id, Id], unassigned: dict[Id, str], demand_id: Id
) -> Explanation:
    try:
        i = ctx.demand_index[demand_id]
    except (KeyError, TypeError):
        raise KeyError(demand_id) from None
    dem = ctx.demands[i]
    lo, hi = np.searchsorted(ctx.reach_i, [i, i + 1])
    js = ctx.reach_j[lo:hi]
    dists = ctx.reach_d[lo:hi]
    stages = ctx.stage[lo:hi]
    chosen = int(ctx.assigned[i])
    options: list[Option] = []
    for j, dist, st in zip(js.tolist(), dists.tolist(), stages.tolist(), strict=True):
        price = float(ctx.price[j])
        status = (
            "chosen"
            if j == chosen
            else ("eligible" if st == _ST_ELIGIBLE else _STAGE_REASON[int(st)])
        )
        options.append(
            Option(
                offer_id=ctx.offers[j].id,
                distance_km=dist,
                value=dem.weight - ctx.km_cost * dist,
                status=status,
                price=None if math.isnan(price) else price,
            )
        )
    # Most valuable first; ties by offer input order (stable sort), never by hash.
    options.sort(key=lambda o: -o.value)
    eligible = [o for o in options if o.status in ("chosen", "eligible")]
    n_eligible = len(eligible)

    if i in ctx.pinned:
        j = ctx.pinned[i]
        off = ctx.offers[j]
        dist = float(haversine_np(dem.lat, dem.lon, off.lat, off.lon))
        return Explanation(
            demand_id=demand_id,
            status="pinned",
            offer_id=off.id,
            reason=None,
            distance_km=dist,
            value=dem.weight - ctx.km_cost * dist,
            weight=dem.weight,
            n_in_reach=len(options),
            n_eligible=n_eligible,
            rank=None,
            best_alternative=None,
            shortfall=None,
            options=tuple(options),
        )
    if demand_id in assignments:
        pos = next(k for k, o in enumerate(eligible) if o.status == "chosen")
        mine = eligible[pos]
        others = [o for o in eligible if o.status != "chosen"]
        return Explanation(
            demand_id=demand_id,
            status="assigned",
            offer_id=mine.offer_id,
            reason=None,
            distance_km=mine.distance_km,
            value=mine.value,
            weight=dem.weight,
            n_in_reach=len(options),
            n_eligible=n_eligible,
            rank=pos + 1,
            best_alternative=others[0] if others else None,
            shortfall=None,
            options=tuple(options),
        )
    reason = unassigned[demand_id]
    best: Option | None = None
    shortfall: float | None = None
    if eligible:
        # The nearest miss: the option whose value falls shortest of the offer's price.
        best = min(eligible, key=lambda o: (o.price or 0.0) - o.value)
        shortfall = max(0.0, (best.price or 0.0) - best.value)
    return Explanation(
        demand_id=demand_id,
        status="unassigned",
        offer_id=None,
        reason=reason,
        distance_km=None,
        value=None,
        weight=dem.weight,
        n_in_reach=len(options),
        n_eligible=n_eligible,
        rank=None,
        best_alternative=best,
        shortfall=shortfall,
        options=tuple(options),
    )


# ---------------------------------------------------------------- validation


def _fail(message: str, culprit: object) -> InvalidProblem:
    return InvalidProblem(message, culprit)


def _float_column(records: Sequence[Any], attr: str, kind: str) -> FloatArray:
    try:
        return np.array([getattr(r, attr) for r in records], dtype=np.float64)
    except (TypeError, ValueError):
        for r in records:
            try:
                float(getattr(r, attr))
            except (TypeError, ValueError):
                raise _fail(
                    f"{kind} {r.id!r}: {attr} must be a number, got {getattr(r, attr)!r}", r.id
                ) from None
        raise  # pragma: no cover - numpy refused something float() accepts


def _check(bad: BoolArray, records: Sequence[Any], kind: str, attr: str, rule: str) -> None:
    if bad.any():
        r = records[int(np.argmax(bad))]
        raise _fail(f"{kind} {r.id!r}: {attr} {rule}, got {getattr(r, attr)!r}", r.id)


def _index(
    records: Sequence[Any], kind: str, cls: type[Demand] | type[Offer]
) -> dict[Id, int]:
    index: dict[Id, int] = {}
    for k, r in enumerate(records):
        if not isinstance(r, cls):
            raise _fail(f"{kind} #{k} is a {type(r).__name__}, not a {cls.__name__}", r)
        try:
            if r.id in index:
                raise _fail(f"duplicate {kind} id {r.id!r}", r.id)
        except TypeError:
            raise _fail(f"{kind} #{k}: id {r.id!r} is not hashable", r.id) from None
        index[r.id] = k
    return index


def _tag_masks(
    demands: Sequence[Demand], offers: Sequence[Offer]
) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]] | None:
    """Bit masks of required / accepted tags (one uint64 word per 64 distinct tags)."""
    bit: dict[Hashable, int] = {}
    for d in demands:
        for t in d.tags:
            bit.setdefault(t, len(bit))
    if not bit:
        return None
    words = (len(bit) + 63) // 64
    dm = np.zeros((len(demands), words), np.uint64)
    om = np.zeros((len(offers), words), np.uint64)
    for row, recs, attr in ((dm, demands, "tags"), (om, offers, "accepts")):
        for k, r in enumerate(recs):
            for t in getattr(r, attr):
                b = bit.get(t)
                if b is not None:
                    row[k, b // 64] |= np.uint64(1 << (b % 64))
    return dm, om


@dataclass(eq=False)
class _Compiled:
    demands: tuple[Demand, ...]
    offers: tuple[Offer, ...]
    d_index: dict[Id, int]
    o_index: dict[Id, int]
    km_cost: float
    d_lat: FloatArray
    d_lon: FloatArray
    weight: FloatArray
    d_max: FloatArray
    o_lat: FloatArray
    o_lon: FloatArray
    o_max: FloatArray
    min_w: FloatArray
    capacity: IntArray
    forbidden: IntArray  # sorted keys demand_index × n_offers + offer_index
    pinned: dict[int, int]  # demand index → offer index, demand input order


def _compile(problem: Problem) -> _Compiled:
    demands = tuple(problem.demands)
    offers = tuple(problem.offers)
    try:
        km_cost = float(problem.km_cost)
    except (TypeError, ValueError):
        raise _fail(f"km_cost must be a number, got {problem.km_cost!r}", "km_cost") from None
    if not (math.isfinite(km_cost) and km_cost >= 0.0):
        raise _fail(f"km_cost must be finite and ≥ 0, got {problem.km_cost!r}", "km_cost")

    d_index = _index(demands, "demand", Demand)
    o_index = _index(offers, "offer", Offer)

    d_lat = _float_column(demands, "lat", "demand")
    d_lon = _float_column(demands, "lon", "demand")
    weight = _float_column(demands, "weight", "demand")
    d_max = _float_column(demands, "max_km", "demand")
    with np.errstate(invalid="ignore"):
        _check(~(np.abs(d_lat) <= 90.0), demands, "demand", "lat", "must be finite, in [-90, 90]")
        _check(~np.isfinite(d_lon), demands, "demand", "lon", "must be finite")
        _check(~(np.isfinite(weight) & (weight > 0)), demands, "demand", "weight", "must be > 0")
        _check(~(d_max >= 0.0), demands, "demand", "max_km", "must be ≥ 0")

    o_lat = _float_column(offers, "lat", "offer")
    o_lon = _float_column(offers, "lon", "offer")
    o_max = _float_column(offers, "max_km", "offer")
    min_w = _float_column(offers, "min_weight", "offer")
    with np.errstate(invalid="ignore"):
        _check(~(np.abs(o_lat) <= 90.0), offers, "offer", "lat", "must be finite, in [-90, 90]")
        _check(~np.isfinite(o_lon), offers, "offer", "lon", "must be finite")
        _check(~(o_max >= 0.0), offers, "offer", "max_km", "must be ≥ 0")
        _check(np.isnan(min_w), offers, "offer", "min_weight", "must be a number")
    caps: list[int] = []
    for o in offers:
        c = o.capacity
        if isinstance(c, bool) or not isinstance(c, int | np.integer) or c < 0:
            raise _fail(f"offer {o.id!r}: capacity must be an integer ≥ 0, got {c!r}", o.id)
        caps.append(int(c))
    capacity = np.array(caps, dtype=np.int64)

    n_off = len(offers)
    keys: list[int] = []
    for pair in problem.forbidden:
        di, oi = _lookup_pair(pair, d_index, o_index, "forbidden")
        keys.append(di * n_off + oi)
    forbidden = np.unique(np.array(keys, dtype=np.int64))

    pinned_items: list[tuple[int, int]] = []
    for d_id, o_id in problem.pinned.items():
        pinned_items.append(_lookup_pair((d_id, o_id), d_index, o_index, "pinned"))
    pinned_items.sort()
    pinned = dict(pinned_items)
    if pinned and forbidden.size:
        pk = np.array([di * n_off + oi for di, oi in pinned_items], dtype=np.int64)
        clash = np.isin(pk, forbidden)
        if clash.any():
            di, oi = pinned_items[int(np.argmax(clash))]
            pair = (demands[di].id, offers[oi].id)
            raise _fail(f"pair {pair!r} is both pinned and forbidden", pair)
    used = np.bincount(np.array([oi for _, oi in pinned_items], dtype=np.int64), minlength=n_off)
    over = used > capacity
    if over.any():
        o = offers[int(np.argmax(over))]
        raise _fail(
            f"offer {o.id!r}: {int(used[int(np.argmax(over))])} pinned demands exceed "
            f"its capacity {o.capacity}",
            o.id,
        )
    return _Compiled(
        demands=demands,
        offers=offers,
        d_index=d_index,
        o_index=o_index,
        km_cost=km_cost,
        d_lat=d_lat,
        d_lon=d_lon,
        weight=weight,
        d_max=d_max,
        o_lat=o_lat,
        o_lon=o_lon,
        o_max=o_max,
        min_w=min_w,
        capacity=capacity,
        forbidden=forbidden,
        pinned=pinned,
    )


def _lookup_pair(
    pair: tuple[Id, Id], d_index: dict[Id, int], o_index: dict[Id, int], what: str
) -> tuple[int, int]:
    d_id, o_id = pair
    try:
        di = d_index.get(d_id)
        oi = o_index.get(o_id)
    except TypeError:
        raise _fail(f"{what} pair {pair!r}: ids must be hashable", pair) from None
    if di is None:
        raise _fail(f"{what} pair {pair!r}: unknown demand id {d_id!r}", d_id)
    if oi is None:
        raise _fail(f"{what} pair {pair!r}: unknown offer id {o_id!r}", o_id)
    return di, oi


# ---------------------------------------------------------------- integer core


def _flow_core(
    n: int,
    k: int,
    ei: IntArray,
    ej: IntArray,
    ev: FloatArray,
    cap: IntArray,
    scale: float | None,
) -> tuple[IntArray, float]:
    """Optimal assignment for values rounded to integers; returns (offer per demand, S)."""
    assigned = np.full(n, -1, np.int64)
    if ei.size == 0:
        return assigned, 0.0
    act_d = np.flatnonzero(np.bincount(ei, minlength=n))
    act_o = np.flatnonzero(np.bincount(ej, minlength=k))
    nd, no = act_d.size, act_o.size
    dnode = np.full(n, -1, np.int64)
    dnode[act_d] = np.arange(nd)
    onode = np.full(k, -1, np.int64)
    onode[act_o] = nd + np.arange(no)
    src, snk = nd + no, nd + no + 1
    n_nodes = nd + no + 2
    vmax = float(ev.max())
    if scale is None:
        # OR-Tools multiplies costs by (nodes + 1) and checks the product against
        # int64 / (nodes + 1); keep a factor 8 of head-room on top.
        scale = float(2**62) / float(n_nodes + 1) ** 2 / 8.0 / vmax
    tails = np.concatenate((np.full(nd, src), dnode[ei], onode[act_o], [src])).astype(np.int32)
    heads = np.concatenate((dnode[act_d], onode[ej], np.full(no, snk), [snk])).astype(np.int32)
    caps = np.concatenate(
        (np.ones(nd, np.int64), np.ones(ei.size, np.int64), cap[act_o], [nd])
    ).astype(np.int64)
    zeros = np.zeros(nd, np.int64)
    for _attempt in range(8):
        costs = np.concatenate(
            (zeros, -np.rint(ev * scale).astype(np.int64), np.zeros(no + 1, np.int64))
        )
        mcf = min_cost_flow.SimpleMinCostFlow()
        mcf.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
        mcf.set_nodes_supplies(
            np.array([src, snk], dtype=np.int32), np.array([nd, -nd], dtype=np.int64)
        )
        status = mcf.solve()
        if status == mcf.OPTIMAL:
            flows = mcf.flows(np.arange(nd, nd + ei.size, dtype=np.int32))
            chosen = np.flatnonzero(np.asarray(flows) > 0)
            assigned[ei[chosen]] = ej[chosen]
            return assigned, scale
        if status != mcf.BAD_COST_RANGE:
            break
        scale /= 64.0
    raise RuntimeError(f"min cost flow failed with status {status!r}")  # pragma: no cover


# ---------------------------------------------------------------- float certificate


@dataclass(eq=False)
class _Certificate:
    assigned: IntArray
    price: FloatArray  # per offer (0 for offers outside the flow)
    iterations: int
    cycles: int


def _certify(
    n: int,
    k: int,
    ei: IntArray,
    ej: IntArray,
    ev: FloatArray,
    cap: IntArray,
    assigned: IntArray,
) -> _Certificate:
    """Make ``assigned`` optimal in floats (cancel negative cycles) and return prices."""
    price = np.zeros(k, np.float64)
    if ei.size == 0:
        return _Certificate(assigned, price, 0, 0)
    tol = _REL_TOL * max(1.0, float(ev.max()))
    act_o = np.flatnonzero(np.bincount(ej, minlength=k))
    no = act_o.size
    onode = np.full(k, -1, np.int64)
    onode[act_o] = np.arange(no)
    z = no  # the waiting-list node
    v_nodes = no + 1
    pe = onode[ej]
    cap_a = cap[act_o]
    # Value of each demand's current pair, looked up from the pair arrays.
    a_val = np.zeros(n, np.float64)
    pair_of = np.full(n, -1, np.int64)
    hit = np.flatnonzero(assigned[ei] == ej)
    pair_of[ei[hit]] = hit
    a_val[ei[hit]] = ev[hit]
    total_iter = 0
    cycles = 0
    while True:
        a_node = np.where(assigned >= 0, onode[np.maximum(assigned, 0)], -1)
        load = np.bincount(a_node[a_node >= 0], minlength=no)
        an = a_node[ei]
        free = an < 0
        same = an == pe
        move = ~free & ~same
        tail = np.concatenate((pe[move], np.full(int(same.sum()), z), pe[free]))
        head = np.concatenate((an[move], pe[same], np.full(int(free.sum()), z)))
        w = np.concatenate((a_val[ei[move]] - ev[move], ev[same], -ev[free]))
        src_pair = np.concatenate(
            (np.flatnonzero(move), np.flatnonzero(same), np.flatnonzero(free))
        )
        # Zero arcs: any offer may leave a place empty (j → Z); one with a free place
        # may give it (Z → j).
        open_o = np.flatnonzero(load < cap_a)
        tail = np.concatenate((tail, np.arange(no), np.full(open_o.size, z)))
        head = np.concatenate((head, np.full(no, z), open_o))
        w = np.concatenate((w, np.zeros(no), np.zeros(open_o.size)))
        src_pair = np.concatenate((src_pair, np.full(no + open_o.size, -1, np.int64)))

        a_tail, a_head, a_w = _aggregate(tail, head, w, v_nodes)
        dist, pred, iters, cycle_nodes = _bellman_ford(a_tail, a_head, a_w, v_nodes, tol)
        total_iter += iters
        if not cycle_nodes:
            p = dist[:no] - dist[z]
            price[act_o] = np.maximum(p, 0.0)
            return _Certificate(assigned, price, total_iter, cycles)
        # Cancel every cycle found (they are vertex-disjoint, hence demand-disjoint).
        key_all = head * v_nodes + tail
        for cyc in cycle_nodes:
            cycles += 1
            for h in cyc:
                t = int(pred[h])
                cand = np.flatnonzero(key_all == h * v_nodes + t)
                q = int(src_pair[cand[np.argmin(w[cand])]])  # first minimum: deterministic
                if q < 0:
                    continue  # a free place given or left empty: nothing to move
                i = int(ei[q])
                if t == z:  # Z → h: demand i leaves offer h for the waiting list
                    assigned[i] = -1
                    a_val[i] = 0.0
                else:  # t → h or t → Z: demand i now takes offer t
                    assigned[i] = int(ej[q])
                    a_val[i] = float(ev[q])


def _aggregate(
    tail: IntArray, head: IntArray, w: FloatArray, v_nodes: int
) -> tuple[IntArray, IntArray, FloatArray]:
    """Cheapest parallel arc per (tail, head), sorted by head."""
    key = head * v_nodes + tail
    if v_nodes * v_nodes <= _DENSE_CELLS:
        cells = np.full(v_nodes * v_nodes, np.inf)
        np.minimum.at(cells, key, w)
        keys = np.flatnonzero(np.isfinite(cells))
        best = cells[keys]
    else:
        order = np.argsort(key, kind="stable")
        ks = key[order]
        starts = np.flatnonzero(np.r_[True, ks[1:] != ks[:-1]])
        keys = ks[starts]
        best = np.minimum.reduceat(w[order], starts)
    return keys % v_nodes, keys // v_nodes, best


def _bellman_ford(
    tail: IntArray, head: IntArray, w: FloatArray, v_nodes: int, tol: float
) -> tuple[FloatArray, IntArray, int, list[list[int]]]:
    """Vectorised Bellman-Ford from a virtual source; returns negative cycles if any.

    Any cycle of the predecessor graph is a negative cycle (each relaxation gains more
    than ``tol``), so it is searched for every few rounds instead of after |V| rounds.
    """
    dist = np.zeros(v_nodes, np.float64)
    pred = np.full(v_nodes, -1, np.int64)
    starts = np.flatnonzero(np.r_[True, head[1:] != head[:-1]])
    heads_u = head[starts]
    seg_len = np.diff(np.r_[starts, head.size])
    positions = np.arange(head.size, dtype=np.int64)
    iters = 0
    while True:
        iters += 1
        cand = dist[tail] + w
        best = np.minimum.reduceat(cand, starts)
        better = best < dist[heads_u] - tol
        if not better.any():
            return dist, pred, iters, []
        is_min = cand == np.repeat(best, seg_len)
        arg = np.minimum.reduceat(np.where(is_min, positions, head.size), starts)
        upd = heads_u[better]
        dist[upd] = best[better]
        pred[upd] = tail[arg[better]]
        if iters % 8 == 0 or iters > v_nodes:
            cycles = _pred_cycles(pred)
            if cycles:
                return dist, pred, iters, cycles
        if iters > 50 * v_nodes + 100:  # pragma: no cover - would be a bug
            raise RuntimeError("Bellman-Ford did not converge")


def _pred_cycles(pred: IntArray) -> list[list[int]]:
    """Cycles of a functional graph (each node → its predecessor), as lists of nodes."""
    state = np.zeros(pred.size, np.int8)  # 0 new, 1 on current walk, 2 done
    cycles: list[list[int]] = []
    plist = pred.tolist()
    st = state.tolist()
    for start in range(len(plist)):
        if st[start]:
            continue
        walk: list[int] = []
        v = start
        while v >= 0 and st[v] == 0:
            st[v] = 1
            walk.append(v)
            v = plist[v]
        if v >= 0 and st[v] == 1:
            cycles.append(walk[walk.index(v) :])
        for x in walk:
            st[x] = 2
    return cycles


# ---------------------------------------------------------------- solve


def solve(problem: Problem, *, _scale: float | None = None) -> Result:
    """Solve the matching problem exactly; see the module docstring for the method.

    Raises :class:`InvalidProblem` (a ``ValueError``) naming the first invalid record.
    """
    t0 = time.perf_counter()
    c = _compile(problem)
    n, k = len(c.demands), len(c.offers)

    cap_left = c.capacity.copy()
    assigned = np.full(n, -1, np.int64)
    for di, oi in c.pinned.items():
        assigned[di] = oi
        cap_left[oi] -= 1
    free_d = np.ones(n, bool)
    if c.pinned:
        free_d[list(c.pinned)] = False
    free_idx = np.flatnonzero(free_d)

    # Pairs within reach, for demands still to place.
    ri, rj, rd = reach_pairs(
        c.d_lat[free_idx], c.d_lon[free_idx], c.d_max[free_idx], c.o_lat, c.o_lon, c.o_max
    )
    ri = free_idx[ri]
    stage = np.full(ri.size, _ST_TAGS, np.int8)
    ok = np.ones(ri.size, bool)
    masks = _tag_masks(c.demands, c.offers)
    if masks is not None:
        dm, om = masks
        ok = ~np.any(dm[ri] & ~om[rj], axis=1)
    stage[ok] = _ST_MINW
    ok &= c.weight[ri] >= c.min_w[rj]
    stage[ok] = _ST_FORBIDDEN
    if c.forbidden.size:
        ok &= ~np.isin(ri * k + rj, c.forbidden)
    stage[ok] = _ST_VALUE
    n_allowed_pairs = int(ok.sum())
    value = c.weight[ri] - c.km_cost * rd
    ok &= value > 0.0
    stage[ok] = _ST_NOCAP
    worth = ok.copy()
    ok &= cap_left[rj] > 0
    stage[ok] = _ST_ELIGIBLE
    sel = np.flatnonzero(ok)
    ei, ej, ev = ri[sel], rj[sel], value[sel]
    t_pairs = time.perf_counter()

    flow_assigned, scale = _flow_core(n, k, ei, ej, ev, cap_left, _scale)
    t_flow = time.perf_counter()
    cert = _certify(n, k, ei, ej, ev, cap_left, flow_assigned)
    t_cert = time.perf_counter()
    chosen = cert.assigned
    assigned[chosen >= 0] = chosen[chosen >= 0]

    # Reasons, from the furthest stage any of the demand's pairs reached.
    furthest = np.full(n, -1, np.int64)
    if ri.size:
        np.maximum.at(furthest, ri, stage.astype(np.int64))
    # Pins consumed the capacity of an otherwise eligible offer: "taken", not "none".
    pin_taken = np.zeros(n, bool)
    if c.pinned:
        pin_taken[ri[worth & (c.capacity[rj] > 0)]] = True

    assignments: dict[Id, Id] = {}
    unassigned: dict[Id, str] = {}
    values: list[float] = []
    pinned_values: list[float] = []
    furthest_l = furthest.tolist()
    assigned_l = assigned.tolist()
    for i, d in enumerate(c.demands):
        j = assigned_l[i]
        if j >= 0:
            assignments[d.id] = c.offers[j].id
            continue
        f = furthest_l[i]
        if f < 0:
            unassigned[d.id] = NO_OFFER_IN_REACH
        elif f == _ST_ELIGIBLE:
            unassigned[d.id] = CAPACITY_TAKEN
        elif f == _ST_NOCAP and pin_taken[i]:
            unassigned[d.id] = CAPACITY_TAKEN
        else:
            unassigned[d.id] = _STAGE_REASON[f]
    if c.pinned:
        pd = np.fromiter(c.pinned.keys(), np.int64, len(c.pinned))
        po = np.fromiter(c.pinned.values(), np.int64, len(c.pinned))
        dist = haversine_np(c.d_lat[pd], c.d_lon[pd], c.o_lat[po], c.o_lon[po])
        pinned_values = (c.weight[pd] - c.km_cost * dist).tolist()
    pair_pos = np.flatnonzero(chosen[ei] == ej)
    values = ev[pair_pos].tolist()
    objective = math.fsum(pinned_values + values)
    free_objective = math.fsum(values)

    # LP dual bound from the prices: Σ_i max(0, max_k v_ik − p_k) + Σ_j cap_j p_j.
    if ei.size:
        reduced = ev - cert.price[ej]
        starts = np.flatnonzero(np.r_[True, ei[1:] != ei[:-1]])
        u = np.maximum(np.maximum.reduceat(reduced, starts), 0.0)
        dual = math.fsum(u.tolist()) + math.fsum((cap_left * cert.price).tolist())
    else:
        dual = 0.0
    gap = max(0.0, dual - free_objective)

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
        "n_pairs_in_reach": int(ri.size),
        "n_pairs": n_allowed_pairs,
        "n_pairs_eligible": int(ei.size),
        "n_assigned": len(assignments),
        "n_unassigned": len(unassigned),
        "int_scale": scale,
        "bf_iterations": cert.iterations,
        "float_cycles_cancelled": cert.cycles,
        "dual_bound": dual + math.fsum(pinned_values),
        "optimality_gap": gap,
        "seconds_pairs": t_pairs - t0,
        "seconds_flow": t_flow - t_pairs,
        "seconds_certificate": t_cert - t_flow,
        "seconds": t_end - t0,
    }
    ctx = _Context(
        demands=c.demands,
        offers=c.offers,
        demand_index=c.d_index,
        km_cost=c.km_cost,
        pinned=c.pinned,
        reach_i=ri,
        reach_j=rj,
        reach_d=rd,
        stage=stage,
        weight=c.weight,
        assigned=assigned,
        price=price,
    )
    return Result(assignments, unassigned, objective, stats, ctx)
