"""What :func:`guichet.matching.solve` returns: the result, its reasons and explanations.

Everything here is codes and numbers — reason codes from :mod:`guichet.matching.model`,
distances, values, ranks, shadow prices.  Sentences for people are the application's
business (see :mod:`guichet.assignment.explanations`).

Explanations are computed on demand from the arrays the solve kept (:class:`Context`):
a result for 100 000 demands does not build 100 000 explanations nobody reads.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic

import numpy as np
import numpy.typing as npt

from guichet.matching.geo import haversine_np
from guichet.matching.model import (
    ALL_FORBIDDEN,
    BELOW_MIN_WEIGHT,
    CAPACITY_TAKEN,
    NO_CAPACITY,
    NO_OFFER_IN_REACH,
    TAGS_NOT_ACCEPTED,
    TOO_FAR_FOR_PRIORITY,
    BoolArray,
    Demand,
    DemandId,
    FloatArray,
    IntArray,
    Offer,
    OfferId,
    subscriptable,
)

# Stage reached by a pair within reach, in filter order: a pair that fails the tags test
# stays at ST_TAGS, one that passes every test reaches ST_ELIGIBLE (see STAGE_REASON).
ST_TAGS, ST_MINW, ST_FORBIDDEN, ST_VALUE, ST_NOCAP, ST_ELIGIBLE = range(6)
#: reason code of a pair stopped at each stage (ST_ELIGIBLE has none: it could be chosen)
STAGE_REASON = {
    ST_TAGS: TAGS_NOT_ACCEPTED,
    ST_MINW: BELOW_MIN_WEIGHT,
    ST_FORBIDDEN: ALL_FORBIDDEN,
    ST_VALUE: TOO_FAR_FOR_PRIORITY,
    ST_NOCAP: NO_CAPACITY,
}


@subscriptable
@dataclass(frozen=True, slots=True)
class Option(Generic[OfferId]):
    """One offer within reach of a demand, and what became of the pair."""

    offer_id: OfferId
    distance_km: float
    value: float
    #: "chosen", "eligible" (allowed, worth it, had capacity) or the reason code that
    #: excluded it (tags_not_accepted, below_min_weight, all_forbidden...)
    status: str
    #: the offer's shadow price: a demand needs a value above it to enter this offer
    price: float | None


@subscriptable
@dataclass(frozen=True, slots=True)
class Explanation(Generic[DemandId, OfferId]):
    """Why a demand got, or did not get, an offer."""

    demand_id: DemandId
    status: str  # "pinned", "assigned" or "unassigned"
    offer_id: OfferId | None
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
    best_alternative: Option[OfferId] | None
    #: for capacity_taken: how much more value the demand would have needed
    shortfall: float | None
    options: tuple[Option[OfferId], ...]


@dataclass(eq=False)
class Context(Generic[DemandId, OfferId]):
    """Arrays kept from the solve, for explanations computed on demand."""

    demands: Sequence[Demand[DemandId]]
    offers: Sequence[Offer[OfferId]]
    demand_index: dict[DemandId, int]
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
class Result(Generic[DemandId, OfferId]):
    """Outcome of :func:`guichet.matching.solve`; its ids have the problem's types."""

    #: demand id → offer id, pinned pairs included, in demand input order
    assignments: dict[DemandId, OfferId]
    #: demand id → reason code, in demand input order
    unassigned: dict[DemandId, str]
    #: Σ (weight − km_cost × distance) over ``assignments``, pinned pairs included
    objective: float
    stats: dict[str, Any]
    _context: Context[DemandId, OfferId] = field(repr=False, compare=False)

    def explain(self, demand_id: DemandId) -> Explanation[DemandId, OfferId]:
        """Explain one demand's outcome (computed on demand; cheap)."""
        return _explain(self._context, self.assignments, self.unassigned, demand_id)

    @property
    def explanations(self) -> Mapping[DemandId, Explanation[DemandId, OfferId]]:
        """Lazy mapping demand id → :class:`Explanation`."""
        return _LazyExplanations(self)

    @property
    def offer_prices(self) -> dict[OfferId, float]:
        """Shadow price per offer: the value a further demand would need to get a place."""
        ctx = self._context
        return {
            o.id: float(ctx.price[j])
            for j, o in enumerate(ctx.offers)
            if not math.isnan(ctx.price[j])
        }


class _LazyExplanations(Mapping[DemandId, Explanation[DemandId, OfferId]]):
    def __init__(self, result: Result[DemandId, OfferId]) -> None:
        self._result = result

    def __getitem__(self, key: DemandId) -> Explanation[DemandId, OfferId]:
        if key not in self._result._context.demand_index:
            raise KeyError(key)
        return self._result.explain(key)

    def __iter__(self) -> Iterator[DemandId]:
        return (d.id for d in self._result._context.demands)

    def __len__(self) -> int:
        return len(self._result._context.demands)


def explain(
    result: Result[DemandId, OfferId], demand_id: DemandId
) -> Explanation[DemandId, OfferId]:
    """Explain one demand's outcome; same as ``result.explain(demand_id)``."""
    return result.explain(demand_id)


def unassigned_reasons(n: int, reach_i: IntArray, stage: npt.NDArray[np.int8], pin_taken: BoolArray) -> list[str]:
    """Reason code per demand, should it be unassigned, from the furthest stage it reached.

    A demand none of whose pairs is within reach gets ``no_offer_in_reach``; one with an
    eligible pair lost it to better uses (``capacity_taken``), and so did one whose only
    worthwhile offers had their capacity consumed by pinned pairs (``pin_taken``).
    """
    furthest = np.full(n, -1, np.int64)
    if reach_i.size:
        np.maximum.at(furthest, reach_i, stage.astype(np.int64))
    reasons: list[str] = []
    for f, taken in zip(furthest.tolist(), pin_taken.tolist(), strict=True):
        if f < 0:
            reasons.append(NO_OFFER_IN_REACH)
        elif f == ST_ELIGIBLE or (f == ST_NOCAP and taken):
            reasons.append(CAPACITY_TAKEN)
        else:
            reasons.append(STAGE_REASON[f])
    return reasons


def _explain(
    ctx: Context[DemandId, OfferId],
    assignments: dict[DemandId, OfferId],
    unassigned: dict[DemandId, str],
    demand_id: DemandId,
) -> Explanation[DemandId, OfferId]:
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
    options: list[Option[OfferId]] = []
    for j, dist, st in zip(js.tolist(), dists.tolist(), stages.tolist(), strict=True):
        price = float(ctx.price[j])
        status = (
            "chosen"
            if j == chosen
            else ("eligible" if st == ST_ELIGIBLE else STAGE_REASON[int(st)])
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
    best: Option[OfferId] | None = None
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
