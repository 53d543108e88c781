"""Guichet's matching engine: which waiting patient is proposed to which GP, exactly.

Pure Python + numpy/scipy/OR-Tools; imports neither Flask nor SQLAlchemy.  See
:mod:`guichet.matching.solver` for the method and its exactness argument.
"""

from guichet.matching.geo import EARTH_RADIUS_KM, haversine_km
from guichet.matching.model import (
    ALL_FORBIDDEN,
    BELOW_MIN_WEIGHT,
    CAPACITY_TAKEN,
    NO_CAPACITY,
    NO_OFFER_IN_REACH,
    REASONS,
    TAGS_NOT_ACCEPTED,
    TOO_FAR_FOR_PRIORITY,
    Demand,
    DemandId,
    Id,
    InvalidProblem,
    Offer,
    OfferId,
    Problem,
)
from guichet.matching.results import Explanation, Option, Result, explain
from guichet.matching.solver import solve

MatchingResult = Result

__all__ = [
    "ALL_FORBIDDEN",
    "BELOW_MIN_WEIGHT",
    "CAPACITY_TAKEN",
    "EARTH_RADIUS_KM",
    "NO_CAPACITY",
    "NO_OFFER_IN_REACH",
    "REASONS",
    "TAGS_NOT_ACCEPTED",
    "TOO_FAR_FOR_PRIORITY",
    "Demand",
    "DemandId",
    "Explanation",
    "Id",
    "InvalidProblem",
    "MatchingResult",
    "Offer",
    "OfferId",
    "Option",
    "Problem",
    "Result",
    "explain",
    "haversine_km",
    "solve",
]
