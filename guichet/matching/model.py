"""Input records of the matching engine: demands, offers, the problem, and its error type."""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

#: identifier of a demand or an offer: any hashable (int, str, UUID...)
Id: TypeAlias = Hashable

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
