"""Input of the matching engine: demands, offers, the problem, their rules and error type.

Each numeric field has one rule (:class:`_Rule`: a real number, finite, within bounds).
A record applies its rules when it is built; :func:`compile_problem`, which ``solve``
calls, applies the very same rules again to whole columns — a record may have been
altered since — and turns the problem into the arrays the solver works on.  Problem-level
rules (record types, unique ids, weights within :data:`MAX_WEIGHT_SPAN` of each other,
known ids in pinned/forbidden pairs, pins that fit the capacity and are not forbidden)
likewise run when the problem is built and again in ``solve``, through the same function.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import FrozenInstanceError, dataclass, field
from decimal import Decimal
from typing import Any, Generic, TypeAlias, TypeVar

import numpy as np
import numpy.typing as npt

#: identifier of a demand or an offer: any hashable (int, str, UUID...)
Id: TypeAlias = Hashable
#: type of the demand ids of one problem, carried to its result (e.g. ``int``)
DemandId = TypeVar("DemandId", bound=Hashable)
#: type of the offer ids of one problem, carried to its result
OfferId = TypeVar("OfferId", bound=Hashable)
_T = TypeVar("_T")

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


# ---------------------------------------------------------------- rules

#: the most places one offer may declare; keeps every count of places far inside int64
MAX_CAPACITY = 1_000_000_000
#: largest ratio between two demands' weights.  The float certificate compares values to
#: 1e-10 of the largest (see guichet.matching.certificate), so within this span even the
#: least urgent demand is matched to 1e-4 of its own weight; beyond ~1e10 it could no
#: longer be told from zero and was left waiting next to free places.
MAX_WEIGHT_SPAN = 1e6


@dataclass(frozen=True, slots=True)
class _Rule:
    """What one numeric field accepts; applied alike to one value and to a whole column.

    A value must be a real number (int, float, Decimal, Fraction, numpy integer or
    floating; never a bool or a string), finite, and within ``[low, high]`` (``low``
    itself refused when ``low_open``).  ``whole`` fields take integer types only.
    """

    attr: str
    low: float = -math.inf
    high: float = math.inf
    low_open: bool = False
    whole: bool = False

    @property
    def range_text(self) -> str:
        if self.whole:
            return f"must be a whole number within [{_num(self.low)}, {_num(self.high)}]"
        if self.high < math.inf:
            return f"must be within [{_num(self.low)}, {_num(self.high)}]"
        return f"must be {'>' if self.low_open else '≥'} {_num(self.low)}"

    def complaint(self, value: object) -> str | None:
        """Why ``value`` is refused (``"<attr> must be …"``), or None if it is accepted."""
        if not _is_number_type(type(value), self.whole):
            return f"{self.attr} {self.range_text if self.whole else 'must be a number'}"
        number: float | int
        if self.whole:
            number = int(value)  # type: ignore[call-overload]  # an Integral, checked above
        else:
            try:
                number = float(value)  # type: ignore[arg-type]  # a Real or Decimal, checked above
            except (OverflowError, ValueError):  # an int beyond float range, a signalling NaN
                number = math.nan
            if not math.isfinite(number):
                return f"{self.attr} must be finite"
        if number < self.low or number > self.high or (self.low_open and number == self.low):
            return f"{self.attr} {self.range_text}"
        return None

    def refused(self, column: FloatArray | IntArray) -> BoolArray:
        """Vectorised :meth:`complaint` on a column converted from accepted types."""
        with np.errstate(invalid="ignore"):
            ok = (column > self.low) if self.low_open else (column >= self.low)
            ok &= column <= self.high
            if not self.whole:
                ok &= np.isfinite(column)
        out: BoolArray = ~ok
        return out


def _num(bound: float) -> str:
    return str(int(bound)) if bound == int(bound) else repr(bound)


_TYPE_OK: dict[tuple[type, bool], bool] = {}


def _is_number_type(cls: type, whole: bool) -> bool:
    known = _TYPE_OK.get((cls, whole))
    if known is None:
        if issubclass(cls, bool | np.bool_):
            known = False  # True is not 1 place, nor 1 km
        elif whole:
            known = issubclass(cls, numbers.Integral)
        else:
            known = issubclass(cls, numbers.Real | Decimal)
        _TYPE_OK[(cls, whole)] = known
    return known


_LAT = _Rule("lat", -90.0, 90.0)
_LON = _Rule("lon", -180.0, 180.0)
_WEIGHT = _Rule("weight", 0.0, low_open=True)
_MAX_KM = _Rule("max_km", 0.0)
_CAPACITY = _Rule("capacity", 0, MAX_CAPACITY, whole=True)
_MIN_WEIGHT = _Rule("min_weight")
_KM_COST = _Rule("km_cost", 0.0)
#: rules of each record's numeric fields, in field order (the first failing one is reported)
DEMAND_RULES: tuple[_Rule, ...] = (_LAT, _LON, _WEIGHT, _MAX_KM)
OFFER_RULES: tuple[_Rule, ...] = (_LAT, _LON, _CAPACITY, _MAX_KM, _MIN_WEIGHT)


def _check_record(kind: str, record: Demand[Any] | Offer[Any], rules: tuple[_Rule, ...]) -> None:
    """Raise :class:`InvalidProblem` for the first field of ``record`` a rule refuses."""
    rid = record.id
    try:
        hash(rid)
    except TypeError:
        raise InvalidProblem(f"{kind} id {rid!r} is not hashable", rid) from None
    for rule in rules:
        value = getattr(record, rule.attr)
        complaint = rule.complaint(value)
        if complaint is not None:
            raise InvalidProblem(f"{kind} {rid!r}: {complaint}, got {value!r}", rid)


def _check_km_cost(value: object) -> float:
    complaint = _KM_COST.complaint(value)
    if complaint is not None:
        raise InvalidProblem(f"{complaint}, got {value!r}", "km_cost")
    return float(value)  # type: ignore[arg-type]  # a finite real number, checked above


def _frozen_tags(kind: str, rid: object, attr: str, value: Iterable[str]) -> frozenset[str]:
    if isinstance(value, frozenset):
        return value
    if isinstance(value, str):
        # A bare string would silently become a set of letters.
        return frozenset((value,))
    try:
        return frozenset(value)
    except TypeError:
        raise InvalidProblem(
            f"{kind} {rid!r}: {attr} must be an iterable of hashable tags, got {value!r}", rid
        ) from None


# ---------------------------------------------------------------- records


def _frozen_setattr(self: object, name: str, value: object) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def subscriptable(cls: type[_T]) -> type[_T]:
    """Let a frozen, slotted, generic dataclass be built as ``Demand[int](...)``.

    ``Demand[int](...)`` sets ``__orig_class__`` on the new record and ignores the
    AttributeError a frozen record raises; but before Python 3.13 the ``__setattr__`` of
    a slotted frozen dataclass raises TypeError there (it names the class as it was before
    ``slots=True`` rebuilt it).  Every assignment is refused anyway: say so plainly.
    """
    setattr(cls, "__setattr__", _frozen_setattr)  # noqa: B010 - mypy refuses a direct assignment to a method
    return cls


@subscriptable
@dataclass(frozen=True, slots=True)
class Demand(Generic[DemandId]):
    """A patient request: where, how urgent (``weight`` > 0), how far, which needs.

    ``tags`` are the needs every candidate offer must accept (e.g. ``"visite_domicile"``).
    Numbers may be any real numbers (numpy's included), never bools or strings; they are
    kept as given.
    """

    id: DemandId
    lat: float
    lon: float
    weight: float
    max_km: float
    tags: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        # Checked here and again by solve(): bad input fails where it is written.
        _check_record("demand", self, DEMAND_RULES)
        object.__setattr__(self, "tags", _frozen_tags("demand", self.id, "tags", self.tags))


@subscriptable
@dataclass(frozen=True, slots=True)
class Offer(Generic[OfferId]):
    """A GP's remaining new-patient capacity, or one SNP slot (then ``capacity=1``).

    ``min_weight`` > 0 restricts the offer to priority patients ("patients prioritaires").
    ``capacity`` is a whole number (int or numpy integer) up to :data:`MAX_CAPACITY`.
    The SNP (soins non programmés) matching is this same solver with one offer per slot;
    the caller builds those offers, nothing else differs.
    """

    id: OfferId
    lat: float
    lon: float
    capacity: int
    max_km: float
    accepts: frozenset[str] = frozenset()
    min_weight: float = 0.0

    def __post_init__(self) -> None:
        _check_record("offer", self, OFFER_RULES)
        object.__setattr__(self, "accepts", _frozen_tags("offer", self.id, "accepts", self.accepts))


@dataclass(frozen=True)
class Problem(Generic[DemandId, OfferId]):
    """Demands, offers, the price of one km, forbidden pairs and pinned pairs.

    ``forbidden`` holds ``(demand_id, offer_id)`` pairs never to propose; ``pinned`` maps a
    demand id to the offer staff already chose for it (kept whatever its value or distance,
    but it uses the offer's capacity).  The whole problem is checked when it is built and
    again by :func:`~guichet.matching.solve` (it may have been altered since), with the
    same rules; :class:`InvalidProblem` names the first culprit.
    """

    demands: Sequence[Demand[DemandId]]
    offers: Sequence[Offer[OfferId]]
    km_cost: float = 1.0
    forbidden: Iterable[tuple[DemandId, OfferId]] = ()
    pinned: Mapping[DemandId, OfferId] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Materialise once: a generator would be consumed by the first solve.
        object.__setattr__(self, "demands", tuple(self.demands))
        object.__setattr__(self, "offers", tuple(self.offers))
        object.__setattr__(self, "forbidden", tuple(_as_pair(p) for p in self.forbidden))
        object.__setattr__(self, "pinned", dict(self.pinned))
        _validate(self)


def _as_pair(value: Any) -> tuple[Any, Any]:
    try:
        demand_id, offer_id = value
    except (TypeError, ValueError):
        raise InvalidProblem(
            f"forbidden entries must be (demand_id, offer_id) pairs, got {value!r}", value
        ) from None
    return demand_id, offer_id


# ---------------------------------------------------------------- the problem as arrays


@dataclass(eq=False)
class Compiled(Generic[DemandId, OfferId]):
    """A validated problem as column arrays, records indexed by input position."""

    demands: tuple[Demand[DemandId], ...]
    offers: tuple[Offer[OfferId], ...]
    d_index: dict[DemandId, int]
    o_index: dict[OfferId, int]
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
    masks: tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]] | None = None


def compile_problem(problem: Problem[DemandId, OfferId]) -> Compiled[DemandId, OfferId]:
    """Validate ``problem`` (again) and turn it into arrays; raises :class:`InvalidProblem`."""
    c = _validate(problem)
    c.masks = tag_masks(c.demands, c.offers)
    return c


def _validate(problem: Problem[DemandId, OfferId]) -> Compiled[DemandId, OfferId]:
    """Every rule, on whole columns: the records' own rules, then the problem's."""
    demands = tuple(problem.demands)
    offers = tuple(problem.offers)
    km_cost = _check_km_cost(problem.km_cost)
    d_index: dict[DemandId, int] = _index(demands, "demand", Demand)
    o_index: dict[OfferId, int] = _index(offers, "offer", Offer)
    d_cols = _columns(demands, "demand", DEMAND_RULES)
    o_cols = _columns(offers, "offer", OFFER_RULES)
    capacity = o_cols["capacity"].astype(np.int64)
    _check_weight_span(demands, d_cols["weight"])

    n_off = len(offers)
    keys: list[int] = []
    for entry in problem.forbidden:
        di, oi = _lookup_pair(_as_pair(entry), d_index, o_index, "forbidden")
        keys.append(di * n_off + oi)
    forbidden = np.unique(np.array(keys, dtype=np.int64))

    pinned_items = sorted(
        _lookup_pair(pair, d_index, o_index, "pinned") for pair in dict(problem.pinned).items()
    )
    pinned = dict(pinned_items)
    if pinned and forbidden.size:
        pk = np.array([di * n_off + oi for di, oi in pinned_items], dtype=np.int64)
        clash = np.isin(pk, forbidden)
        if clash.any():
            di, oi = pinned_items[int(np.argmax(clash))]
            pair = (demands[di].id, offers[oi].id)
            raise InvalidProblem(f"pair {pair!r} is both pinned and forbidden", pair)
    used = np.bincount(np.array([oi for _, oi in pinned_items], dtype=np.int64), minlength=n_off)
    over = used > capacity
    if over.any():
        o = offers[int(np.argmax(over))]
        raise InvalidProblem(
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
        d_lat=d_cols["lat"],
        d_lon=d_cols["lon"],
        weight=d_cols["weight"],
        d_max=d_cols["max_km"],
        o_lat=o_cols["lat"],
        o_lon=o_cols["lon"],
        o_max=o_cols["max_km"],
        min_w=o_cols["min_weight"],
        capacity=capacity,
        forbidden=forbidden,
        pinned=pinned,
    )


def _check_weight_span(demands: Sequence[Demand[Any]], weight: FloatArray) -> None:
    if weight.size == 0:
        return
    lo, hi = int(np.argmin(weight)), int(np.argmax(weight))
    if weight[lo] * MAX_WEIGHT_SPAN < weight[hi]:
        small, large = demands[lo], demands[hi]
        raise InvalidProblem(
            f"demand {small.id!r}: weight {small.weight!r} is below {1.0 / MAX_WEIGHT_SPAN:g} of "
            f"the largest weight {large.weight!r} (demand {large.id!r}); the engine compares "
            f"values to 1e-10 of the largest, so weights may span a factor {MAX_WEIGHT_SPAN:g} "
            "at most: rescale them",
            small.id,
        )


def _columns(
    records: Sequence[Demand[Any]] | Sequence[Offer[Any]], kind: str, rules: tuple[_Rule, ...]
) -> dict[str, npt.NDArray[Any]]:
    """One array per field; raises for the first record a rule refuses, as it would alone.

    The vectorised tests only find that record: its message comes from the very check the
    record ran when it was built (:func:`_check_record`), so both always say the same.
    """
    n = len(records)
    columns: dict[str, npt.NDArray[Any]] = {}
    refused = np.zeros(n, bool)
    for rule in rules:
        values = [getattr(r, rule.attr) for r in records]
        if not all(_is_number_type(t, rule.whole) for t in set(map(type, values))):
            bad = np.fromiter((not _is_number_type(type(v), rule.whole) for v in values), bool, n)
            column: npt.NDArray[Any] = np.zeros(n)
        else:
            try:
                column = np.array(values, dtype=np.int64 if rule.whole else np.float64)
            except (OverflowError, ValueError):  # beyond int64 or float range, a signalling NaN
                bad = np.fromiter((rule.complaint(v) is not None for v in values), bool, n)
                column = np.zeros(n)
            else:
                bad = rule.refused(column)
        refused |= bad
        columns[rule.attr] = column
    if refused.any():
        record = records[int(np.argmax(refused))]
        _check_record(kind, record, rules)
        raise RuntimeError(f"validation rules disagree on {kind} {record.id!r}")  # pragma: no cover
    return columns


def _index(records: Sequence[Any], kind: str, cls: type[Demand[Any]] | type[Offer[Any]]) -> dict[Any, int]:
    index: dict[Any, int] = {}
    for k, r in enumerate(records):
        if not isinstance(r, cls):
            raise InvalidProblem(f"{kind} #{k} is {_a(type(r).__name__)}, not {_a(cls.__name__)}", r)
        try:
            if r.id in index:
                raise InvalidProblem(f"duplicate {kind} id {r.id!r}", r.id)
        except TypeError:
            raise InvalidProblem(f"{kind} id {r.id!r} is not hashable", r.id) from None
        index[r.id] = k
    return index


def _a(noun: str) -> str:
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


def _lookup_pair(
    pair: tuple[Any, Any], d_index: dict[Any, int], o_index: dict[Any, int], what: str
) -> tuple[int, int]:
    d_id, o_id = pair
    try:
        di = d_index.get(d_id)
        oi = o_index.get(o_id)
    except TypeError:
        raise InvalidProblem(f"{what} pair {pair!r}: ids must be hashable", pair) from None
    if di is None:
        raise InvalidProblem(f"{what} pair {pair!r}: unknown demand id {d_id!r}", d_id)
    if oi is None:
        raise InvalidProblem(f"{what} pair {pair!r}: unknown offer id {o_id!r}", o_id)
    return di, oi


def tag_masks(
    demands: Sequence[Demand[Any]], offers: Sequence[Offer[Any]]
) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]] | None:
    """Bit masks of required / accepted tags (one uint64 word per 64 distinct tags)."""
    required = _tag_sets(demands, "demand", "tags")
    bit: dict[Hashable, int] = {}
    for tags in required:
        for t in tags:
            bit.setdefault(t, len(bit))
    if not bit:
        return None
    words = (len(bit) + 63) // 64
    dm = np.zeros((len(demands), words), np.uint64)
    om = np.zeros((len(offers), words), np.uint64)
    for row, sets in ((dm, required), (om, _tag_sets(offers, "offer", "accepts"))):
        for k, tags in enumerate(sets):
            for t in tags:
                b = bit.get(t)
                if b is not None:
                    row[k, b // 64] |= np.uint64(1 << (b % 64))
    return dm, om


def _tag_sets(records: Sequence[Demand[Any]] | Sequence[Offer[Any]], kind: str, attr: str) -> list[frozenset[str]]:
    """Each record's tags as its constructor leaves them (normalised again if altered since)."""
    out: list[frozenset[str]] = []
    for r in records:
        tags = getattr(r, attr)
        out.append(tags if type(tags) is frozenset else _frozen_tags(kind, r.id, attr, tags))
    return out
