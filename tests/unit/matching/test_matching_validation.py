"""One set of validation rules: a record refused when built is refused by solve() alike.

The records check themselves in ``__post_init__``; ``solve`` checks the same fields again
on whole columns (a record may have been altered since).  Both must apply the same rules
and say the same thing, which these tests pin by smuggling each bad value past the
constructor (``object.__setattr__``) and comparing the two messages.
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction
from typing import Any
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import guichet.matching.model as model
from guichet.matching import Demand, InvalidProblem, Offer, Problem, solve

GOOD_DEMAND: dict[str, Any] = {"id": "d", "lat": 45.0, "lon": 5.0, "weight": 10.0, "max_km": 10.0}
GOOD_OFFER: dict[str, Any] = {"id": "g", "lat": 45.0, "lon": 5.0, "capacity": 1, "max_km": 10.0}
RECORDS = {"demand": (Demand, GOOD_DEMAND), "offer": (Offer, GOOD_OFFER)}


def built_message(kind: str, attr: str, value: object) -> str | None:
    """What the constructor says about ``value`` (None: accepted)."""
    cls, good = RECORDS[kind]
    try:
        cls(**{**good, attr: value})
    except InvalidProblem as err:
        return str(err)
    return None


def solve_message(kind: str, attr: str, value: object) -> str | None:
    """What solve() says about ``value`` smuggled into a record built valid.

    The weight-span rule compares demands with each other: it is left out here (see
    test_matching_tolerance), these tests are about each record's own rules.
    """
    demand, offer = Demand(**GOOD_DEMAND), Offer(**GOOD_OFFER)
    problem = Problem([Demand("other", 45.0, 5.0, 1.0, 1.0), demand], [offer])
    object.__setattr__(demand if kind == "demand" else offer, attr, value)
    try:
        with mock.patch.object(model, "MAX_WEIGHT_SPAN", math.inf):
            solve(problem)
    except InvalidProblem as err:
        return str(err)
    return None


BAD = [
    ("demand", "lat", math.nan, "lat must be finite"),
    ("demand", "lat", math.inf, "lat must be finite"),
    ("demand", "lat", 91.0, "lat must be within [-90, 90]"),
    ("demand", "lat", -90.5, "lat must be within [-90, 90]"),
    ("demand", "lat", True, "lat must be a number"),
    ("demand", "lat", "45.0", "lat must be a number"),
    ("demand", "lat", None, "lat must be a number"),
    ("demand", "lon", 181.0, "lon must be within [-180, 180]"),
    ("demand", "lon", -180.5, "lon must be within [-180, 180]"),
    ("demand", "lon", math.inf, "lon must be finite"),
    ("demand", "lon", np.bool_(True), "lon must be a number"),
    ("demand", "weight", 0.0, "weight must be > 0"),
    ("demand", "weight", -1, "weight must be > 0"),
    ("demand", "weight", math.nan, "weight must be finite"),
    ("demand", "weight", math.inf, "weight must be finite"),
    ("demand", "weight", 10**400, "weight must be finite"),
    ("demand", "weight", "lots", "weight must be a number"),
    ("demand", "weight", False, "weight must be a number"),
    ("demand", "max_km", -1.0, "max_km must be ≥ 0"),
    ("demand", "max_km", math.inf, "max_km must be finite"),
    ("demand", "max_km", math.nan, "max_km must be finite"),
    ("offer", "lat", math.nan, "lat must be finite"),
    ("offer", "lat", 90.01, "lat must be within [-90, 90]"),
    ("offer", "lon", 360.0, "lon must be within [-180, 180]"),
    ("offer", "capacity", -1, "capacity must be a whole number within [0, 1000000000]"),
    ("offer", "capacity", 10**12, "capacity must be a whole number within [0, 1000000000]"),
    ("offer", "capacity", 10**30, "capacity must be a whole number within [0, 1000000000]"),
    ("offer", "capacity", 1.5, "capacity must be a whole number"),
    ("offer", "capacity", 2.0, "capacity must be a whole number"),
    ("offer", "capacity", np.float64(2.0), "capacity must be a whole number"),
    ("offer", "capacity", True, "capacity must be a whole number"),
    ("offer", "capacity", np.bool_(True), "capacity must be a whole number"),
    ("offer", "capacity", "2", "capacity must be a whole number"),
    ("offer", "max_km", -0.5, "max_km must be ≥ 0"),
    ("offer", "max_km", math.inf, "max_km must be finite"),
    ("offer", "min_weight", math.nan, "min_weight must be finite"),
    ("offer", "min_weight", math.inf, "min_weight must be finite"),
    ("offer", "min_weight", -math.inf, "min_weight must be finite"),
    ("offer", "min_weight", "high", "min_weight must be a number"),
]


@pytest.mark.parametrize(("kind", "attr", "value", "fragment"), BAD)
def test_a_bad_value_is_refused_alike_when_built_and_when_solved(
    kind: str, attr: str, value: object, fragment: str
) -> None:
    built = built_message(kind, attr, value)
    assert built is not None and fragment in built, built
    assert f"{kind} {RECORDS[kind][1]['id']!r}:" in built  # names the culprit
    assert solve_message(kind, attr, value) == built


GOOD = [
    ("demand", "lat", np.float64(45.5)),
    ("demand", "lat", np.float32(45.5)),
    ("demand", "lat", np.int64(45)),
    ("demand", "lat", Fraction(91, 2)),
    ("demand", "lat", Decimal("45.5")),
    ("demand", "lon", -180),
    ("demand", "lon", 180.0),
    ("demand", "weight", np.float32(2.5)),
    ("demand", "weight", np.int32(3)),
    ("demand", "max_km", np.int16(0)),
    ("offer", "capacity", np.int64(2)),
    ("offer", "capacity", np.int32(2)),
    ("offer", "capacity", np.uint8(2)),
    ("offer", "capacity", 0),
    ("offer", "capacity", 1_000_000_000),
    ("offer", "min_weight", -5.0),
    ("offer", "min_weight", np.float64(3.0)),
    ("offer", "max_km", np.float32(7.0)),
]


@pytest.mark.parametrize(("kind", "attr", "value"), GOOD)
def test_numpy_and_other_real_numbers_are_accepted_alike(kind: str, attr: str, value: object) -> None:
    assert built_message(kind, attr, value) is None
    assert solve_message(kind, attr, value) is None


def test_numpy_capacities_solve_like_python_ints() -> None:
    demands = [Demand(i, 45.0 + i * 0.01, 5.0, 10.0 + i, 20.0) for i in range(6)]
    plain = Problem(demands, [Offer("g", 45.0, 5.0, 2, 20.0), Offer("h", 45.05, 5.0, 3, 20.0)])
    numpy = Problem(
        demands,
        [Offer("g", 45.0, 5.0, np.int64(2), 20.0), Offer("h", 45.05, 5.0, np.int32(3), 20.0)],
        km_cost=np.float64(1.0),
    )
    a, b = solve(plain), solve(numpy)
    assert a.assignments == b.assignments and a.unassigned == b.unassigned
    assert a.objective == b.objective


@pytest.mark.parametrize(
    ("km_cost", "fragment"),
    [
        (-1.0, "km_cost must be ≥ 0"),
        (math.inf, "km_cost must be finite"),
        (math.nan, "km_cost must be finite"),
        (True, "km_cost must be a number"),
        ("1", "km_cost must be a number"),
    ],
)
def test_a_bad_km_cost_is_refused_alike(km_cost: object, fragment: str) -> None:
    with pytest.raises(InvalidProblem) as built:
        Problem([], [], km_cost=km_cost)  # type: ignore[arg-type]
    assert fragment in str(built.value) and built.value.culprit == "km_cost"
    problem = Problem([], [])
    object.__setattr__(problem, "km_cost", km_cost)
    with pytest.raises(InvalidProblem) as solved:
        solve(problem)
    assert str(solved.value) == str(built.value)


@pytest.mark.parametrize("km_cost", [np.float32(1.5), np.int64(2), 0, Fraction(1, 2)])
def test_numpy_km_costs_are_accepted(km_cost: object) -> None:
    r = solve(Problem([Demand(1, 45.0, 5.0, 10.0, 5.0)], [Offer("g", 45.0, 5.0, 1, 5.0)], km_cost=km_cost))  # type: ignore[arg-type]
    assert r.assignments == {1: "g"}


def test_problem_level_rules_apply_when_built_and_when_solved() -> None:
    d, o = Demand(1, 45.0, 5.0, 10.0, 5.0), Offer("g", 45.0, 5.0, 1, 5.0)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"demands": [d, "not a demand"], "offers": [o]}, "demand #1 is a str, not a Demand"),
        ({"demands": [d], "offers": [o, d]}, "offer #1 is a Demand, not an Offer"),
        ({"demands": [d, d], "offers": [o]}, "duplicate demand id 1"),
        ({"demands": [d], "offers": [o], "pinned": {1: "zz"}}, "unknown offer id 'zz'"),
        ({"demands": [d], "offers": [o], "pinned": {1: "g"}, "forbidden": [(1, "g")]},
         "is both pinned and forbidden"),
        ({"demands": [d, Demand(2, 45.0, 5.0, 1.0, 1.0)], "offers": [o], "pinned": {1: "g", 2: "g"}},
         "2 pinned demands exceed its capacity 1"),
    ]
    for fields, fragment in cases:
        with pytest.raises(InvalidProblem, match=fragment) as built:
            Problem(**fields)
        # The same problem, made valid and then altered, is refused by solve() alike.
        valid = Problem([d, Demand(2, 45.0, 5.0, 1.0, 1.0)], [o])
        for name, value in fields.items():
            value = tuple(value) if name in ("demands", "offers", "forbidden") else value
            object.__setattr__(valid, name, value)
        with pytest.raises(InvalidProblem) as solved:
            solve(valid)
        assert str(solved.value) == str(built.value)


def test_unhashable_ids_are_refused_when_built() -> None:
    with pytest.raises(InvalidProblem, match="id .* is not hashable"):
        Demand(["x"], 45.0, 5.0, 1.0, 1.0)  # type: ignore[arg-type]
    with pytest.raises(InvalidProblem, match="id .* is not hashable"):
        Offer({"x": 1}, 45.0, 5.0, 1, 1.0)  # type: ignore[arg-type]


def test_a_bare_string_tag_is_one_tag() -> None:
    assert Demand(1, 45.0, 5.0, 1.0, 1.0, tags="pmr").tags == frozenset({"pmr"})  # type: ignore[arg-type]
    with pytest.raises(InvalidProblem, match="tags"):
        Demand(1, 45.0, 5.0, 1.0, 1.0, tags=[["pmr"]])  # type: ignore[list-item]


_VALUES = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**20), 10**20),
    st.booleans(),
    st.none(),
    st.text(max_size=3),
    st.floats(-200, 200).map(np.float32),
    st.integers(-5, 5).map(np.int64),
    st.integers(0, 5).map(np.uint16),
    st.sampled_from([np.bool_(False), Decimal("1.5"), Decimal("NaN"), Fraction(1, 3)]),
)
_FIELDS = [(kind, attr) for kind, (_, good) in RECORDS.items() for attr in good if attr != "id"]
_FIELDS.append(("offer", "min_weight"))


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(_FIELDS), _VALUES)
def test_both_paths_agree_on_any_value(field: tuple[str, str], value: object) -> None:
    kind, attr = field
    assert solve_message(kind, attr, value) == built_message(kind, attr, value)
