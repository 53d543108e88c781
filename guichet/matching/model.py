"""Input records of the matching engine: demands, offers, the problem, and its error type."""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

#: identifier of a demand or an offer: any hashable (int, str, UUID...)
Id: TypeAlias = Hashable

FloatArray: TypeAlias = npt.NDArray[np.float64]
IntArray: TypeAlias = npt.NDArray[np.int64]
BoolArray: TypeAlias = npt.NDArray[np.bool_]

# Reason codes of ``Result.unassigned``, from the most to the least "structural":
#: no offer lies within both the demand's and the offer's maximum distance
NO_OFFER_IN_REACH = "no_offer_in_reach"
#: offers in reach, but none accepts every tag the demand requires
TAGS_NOT_ACCEPTED = "tags_not_accepted"
#: offers in reach accept the tags, but all of them take only higher-priority demands
BELOW_MIN_WEIGHT = "below_min_weight"
#: the offers otherwise allowed are all forbidden for this demand (staff decision)
ALL_FORBIDDEN = "all_forbidden"
#: allowed offers exist, but weight − km_cost × distance ≤ 0 for every one of them
TOO_FAR_FOR_PRIORITY = "too_far_for_priority"
#: allowed, worthwhile offers exist, but none of them has any capacity (declared 0)
NO_CAPACITY = "no_capacity"
#: allowed, worthwhile offers had capacity, but it went to better uses (or to pinned pairs)
CAPACITY_TAKEN = "capacity_taken"

REASONS: tuple[str, ...] = (
    NO_OFFER_IN_REACH,
    TAGS_NOT_ACCEPTED,
    BELOW_MIN_WEIGHT,
    ALL_FORBIDDEN,
    TOO_FAR_FOR_PRIORITY,
    NO_CAPACITY,
    CAPACITY_TAKEN,
)


class InvalidProblem(ValueError):
    """The problem cannot be solved as given; ``culprit`` names the offending record."""

    def __init__(self, message: str, culprit: object = None) -> None:
        super().__init__(message)
        self.culprit = culprit


def _number(kind: str, rid: Any, attr: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise InvalidProblem(f"{kind} {rid!r}: {attr} must be a number, got {value!r}", rid) from None
    number = float(value)
    if not math.isfinite(number):
        raise InvalidProblem(f"{kind} {rid!r}: {attr} must be finite, got {value!r}", rid)
    return number


def _check_position(kind: str, rid: Any, lat: Any, lon: Any) -> None:
    if not -90.0 <= _number(kind, rid, "lat", lat) <= 90.0:
        raise InvalidProblem(f"{kind} {rid!r}: lat must be within [-90, 90], got {lat!r}", rid)
    if not -180.0 <= _number(kind, rid, "lon", lon) <= 180.0:
        raise InvalidProblem(f"{kind} {rid!r}: lon must be within [-180, 180], got {lon!r}", rid)


def _frozen_tags(value: Iterable[str]) -> frozenset[str]:
    if isinstance(value, str):
        # A bare string would silently become a set of letters.
        return frozenset((value,))
    return value if isinstance(value, frozenset) else frozenset(value)


@dataclass(frozen=True, slots=True)
class Demand:
    """A patient request: where, how urgent (``weight`` > 0), how far, which needs.

    ``tags`` are the needs every candidate offer must accept (e.g. ``"visite_domicile"``).
    """

    id: Id
    lat: float
    lon: float
    weight: float
    max_km: float
    tags: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        # Checked here as well as in solve(): bad input fails where it is written.
        _check_position("demand", self.id, self.lat, self.lon)
        if _number("demand", self.id, "weight", self.weight) <= 0:
            raise InvalidProblem(f"demand {self.id!r}: weight must be > 0, got {self.weight!r}", self.id)
        if _number("demand", self.id, "max_km", self.max_km) < 0:
            raise InvalidProblem(f"demand {self.id!r}: max_km must be ≥ 0, got {self.max_km!r}", self.id)
        object.__setattr__(self, "tags", _frozen_tags(self.tags))


@dataclass(frozen=True, slots=True)
class Offer:
    """A GP's remaining new-patient capacity, or one SNP slot (then ``capacity=1``).

    ``min_weight`` > 0 restricts the offer to priority patients ("patients prioritaires").
    The SNP (soins non programmés) matching is this same solver with one offer per slot;
    the caller builds those offers, nothing else differs.
    """

    id: Id
    lat: float
    lon: float
    capacity: int
    max_km: float
    accepts: frozenset[str] = frozenset()
    min_weight: float = 0.0

    def __post_init__(self) -> None:
        _check_position("offer", self.id, self.lat, self.lon)
        cap = self.capacity
        if isinstance(cap, bool) or not isinstance(cap, int) or cap < 0:
            raise InvalidProblem(
                f"offer {self.id!r}: capacity must be a whole number ≥ 0, got {cap!r}", self.id
            )
        if _number("offer", self.id, "max_km", self.max_km) < 0:
            raise InvalidProblem(f"offer {self.id!r}: max_km must be ≥ 0, got {self.max_km!r}", self.id)
        _number("offer", self.id, "min_weight", self.min_weight)
        object.__setattr__(self, "accepts", _frozen_tags(self.accepts))


@dataclass(frozen=True)
class Problem:
    """Demands, offers, the price of one km, forbidden pairs and pinned pairs.

    ``forbidden`` holds ``(demand_id, offer_id)`` pairs never to propose; ``pinned`` maps a
    demand id to the offer staff already chose for it (kept whatever its value or distance,
    but it uses the offer's capacity).  The records are plain data: :func:`solve` validates
    them and raises :class:`InvalidProblem` naming the first culprit.
    """

    demands: Sequence[Demand]
    offers: Sequence[Offer]
    km_cost: float = 1.0
    forbidden: Iterable[tuple[Id, Id]] = ()
    pinned: Mapping[Id, Id] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Materialise once: a generator would be consumed by the first solve.
        object.__setattr__(self, "demands", tuple(self.demands))
        object.__setattr__(self, "offers", tuple(self.offers))
        object.__setattr__(self, "forbidden", tuple(_as_pair(p) for p in self.forbidden))
        object.__setattr__(self, "pinned", dict(self.pinned))
        km_cost = self.km_cost
        if isinstance(km_cost, bool) or not isinstance(km_cost, (int, float)) or not (
            math.isfinite(km_cost) and km_cost >= 0
        ):
            raise InvalidProblem(f"km_cost must be a finite number ≥ 0, got {km_cost!r}", "km_cost")
        demand_ids: set[Id] = set()
        for d in self.demands:
            if isinstance(d, Demand):
                if d.id in demand_ids:
                    raise InvalidProblem(f"duplicate demand id {d.id!r}", d.id)
                demand_ids.add(d.id)
        offer_ids: set[Id] = set()
        for o in self.offers:
            if isinstance(o, Offer):
                if o.id in offer_ids:
                    raise InvalidProblem(f"duplicate offer id {o.id!r}", o.id)
                offer_ids.add(o.id)
        pairs = [*self.pinned.items(), *self.forbidden]
        for demand_id, offer_id in pairs:
            if demand_id not in demand_ids:
                raise InvalidProblem(f"unknown demand id {demand_id!r} in pinned/forbidden", demand_id)
            if offer_id not in offer_ids:
                raise InvalidProblem(f"unknown offer id {offer_id!r} in pinned/forbidden", offer_id)


def _as_pair(value: Any) -> tuple[Id, Id]:
    try:
        demand_id, offer_id = value
    except (TypeError, ValueError):
        raise InvalidProblem(
            f"forbidden entries must be (demand_id, offer_id) pairs, got {value!r}", value
        ) from None
    return demand_id, offer_id


# ---------------------------------------------------------------- the problem as arrays


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


def tag_masks(
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
class Compiled:
    """A validated problem as column arrays, records indexed by input position."""

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
    #: required / accepted tag bit masks, None when no demand requires any tag
    masks: tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]] | None


def compile_problem(problem: Problem) -> Compiled:
    """Validate ``problem`` and turn it into arrays; raises :class:`InvalidProblem`."""
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
    return Compiled(
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
        masks=tag_masks(demands, offers),
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
