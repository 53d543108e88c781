"""Public API of the matching engine: reasons, validation, edge cases, determinism, explanations."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

import guichet.matching as gm
from guichet.matching import (
    ALL_FORBIDDEN,
    BELOW_MIN_WEIGHT,
    CAPACITY_TAKEN,
    NO_CAPACITY,
    NO_OFFER_IN_REACH,
    TAGS_NOT_ACCEPTED,
    TOO_FAR_FOR_PRIORITY,
    Demand,
    InvalidProblem,
    Offer,
    Problem,
    haversine_km,
    solve,
)
from guichet.matching.instances import generate, load_communes

ROOT = Path(__file__).resolve().parents[3]

# Two villages of the Vercors, ~4.6 km apart.
A = (45.0500, 5.4200)
B = (45.0900, 5.4350)


def demand(id, pos=A, weight=100.0, max_km=10.0, tags=frozenset()):
    return Demand(id, pos[0], pos[1], weight, max_km, tags)


def offer(id, pos=A, capacity=1, max_km=10.0, accepts=frozenset(), min_weight=0.0):
    return Offer(id, pos[0], pos[1], capacity, max_km, accepts, min_weight)


# ---------------------------------------------------------------- basics


def test_public_names() -> None:
    for name in ("Demand", "Offer", "Problem", "solve", "InvalidProblem", "haversine_km",
                 "Result", "MatchingResult", "NO_OFFER_IN_REACH", "CAPACITY_TAKEN", "explain"):
        assert hasattr(gm, name), name
    assert issubclass(InvalidProblem, ValueError)


def test_haversine() -> None:
    assert haversine_km(*A, *A) == 0.0
    # Paris (Notre-Dame) – Lyon (Bellecour): 391.5 km on the mean sphere
    d = haversine_km(48.8530, 2.3499, 45.7578, 4.8320)
    assert 390.5 < d < 392.5
    assert haversine_km(*A, *B) == haversine_km(*B, *A)
    assert math.isclose(haversine_km(0.0, 0.0, 0.0, 180.0), math.pi * 6371.0088)


def test_simple_assignment_and_stats() -> None:
    p = Problem([demand(1), demand(2, weight=50.0)], [offer("g", B, capacity=1)], km_cost=2.0)
    r = solve(p)
    dist = haversine_km(*A, *B)
    assert r.assignments == {1: "g"}
    assert r.unassigned == {2: CAPACITY_TAKEN}
    assert r.objective == pytest.approx(100.0 - 2.0 * dist, rel=1e-12)
    for key in ("n_demands", "n_offers", "n_pairs", "seconds"):
        assert key in r.stats
    assert r.stats["n_demands"] == 2 and r.stats["n_offers"] == 1 and r.stats["n_pairs"] == 2


def test_empty_problems() -> None:
    for p in (Problem([], []), Problem([demand(1)], []), Problem([], [offer("g")])):
        r = solve(p)
        assert r.assignments == {}
        assert r.objective == 0.0
    assert solve(Problem([demand(1)], [])).unassigned == {1: NO_OFFER_IN_REACH}


def test_zero_capacities() -> None:
    p = Problem([demand(1), demand(2)], [offer("g", capacity=0), offer("h", B, capacity=0)])
    r = solve(p)
    assert r.assignments == {}
    assert r.unassigned == {1: NO_CAPACITY, 2: NO_CAPACITY}
    assert r.objective == 0.0


def test_all_out_of_reach() -> None:
    far = (43.3, 5.4)  # Marseille
    p = Problem([demand(i) for i in range(5)], [offer("g", far, capacity=10, max_km=500)])
    r = solve(p)
    assert r.assignments == {}
    assert set(r.unassigned.values()) == {NO_OFFER_IN_REACH}


def test_reach_needs_both_radii() -> None:
    dist = haversine_km(*A, *B)
    assert solve(Problem([demand(1, max_km=dist)], [offer("g", B, max_km=dist)])).assignments
    r = solve(Problem([demand(1, max_km=dist * 0.999)], [offer("g", B, max_km=50.0)]))
    assert r.unassigned == {1: NO_OFFER_IN_REACH}
    r = solve(Problem([demand(1, max_km=50.0)], [offer("g", B, max_km=dist * 0.999)]))
    assert r.unassigned == {1: NO_OFFER_IN_REACH}


def test_each_reason_code() -> None:
    demands = [
        demand("far", (44.0, 4.0)),
        demand("tags", tags={"domicile"}),
        demand("minw", weight=50.0),
        demand("forb"),
        demand("value", weight=1.0),
        demand("taken", weight=200.0),
        demand("winner", weight=900.0),
    ]
    offers = [offer("g", capacity=1, min_weight=100.0), offer("h", B, capacity=1)]
    forbidden = [("forb", "g"), ("forb", "h")]
    r = solve(Problem(demands, offers, km_cost=1.0, forbidden=forbidden))
    # "minw" can still use h (no minimum there) unless h is better used: it is (winner/taken).
    assert r.assignments == {"winner": "g", "taken": "h"} or r.assignments == {
        "winner": "h",
        "taken": "g",
    }
    assert r.unassigned["far"] == NO_OFFER_IN_REACH
    assert r.unassigned["tags"] == TAGS_NOT_ACCEPTED
    assert r.unassigned["forb"] == ALL_FORBIDDEN
    assert r.unassigned["value"] == TOO_FAR_FOR_PRIORITY
    assert r.unassigned["minw"] == CAPACITY_TAKEN

    only_priority = Problem([demand("minw", weight=50.0)], [offer("g", min_weight=100.0)])
    assert solve(only_priority).unassigned == {"minw": BELOW_MIN_WEIGHT}


def test_value_must_be_positive() -> None:
    dist = haversine_km(*A, *B)
    p = Problem([demand(1, weight=dist)], [offer("g", B)], km_cost=1.0)
    assert solve(p).unassigned == {1: TOO_FAR_FOR_PRIORITY}  # value exactly 0 is not worth it


def test_exact_beats_greedy() -> None:
    # Greedy gives g to the best pair (x, value 100) and leaves y without a place;
    # the optimum sends x to h and y to g.
    x = demand("x", A, weight=100.0, max_km=30.0)
    y = demand("y", A, weight=99.0, max_km=1.0)
    p = Problem([x, y], [offer("g", A), offer("h", B)], km_cost=0.1)
    r = solve(p)
    assert r.assignments == {"x": "h", "y": "g"}


def test_ties_are_stable() -> None:
    p = Problem([demand(i) for i in range(6)], [offer("g", capacity=2), offer("h", capacity=1)])
    first = solve(p)
    assert len(first.assignments) == 3
    assert first.objective == pytest.approx(300.0)
    for _ in range(5):
        again = solve(p)
        assert again.assignments == first.assignments
        assert again.unassigned == first.unassigned


# ---------------------------------------------------------------- pinned and forbidden


def test_pinned_kept_out_of_reach_and_counted() -> None:
    far = (44.0, 4.0)
    dist = haversine_km(*far, *A)
    p = Problem(
        [demand("p", far, weight=10.0), demand("q", weight=500.0)],
        [offer("g", capacity=1)],
        pinned={"p": "g"},
    )
    r = solve(p)
    assert r.assignments == {"p": "g"}
    assert r.unassigned == {"q": CAPACITY_TAKEN}
    assert r.objective == pytest.approx(10.0 - dist)  # negative, staff decided
    assert r.explain("p").status == "pinned"


def test_forbidden_pair_is_avoided() -> None:
    p = Problem([demand(1)], [offer("g"), offer("h", B)], forbidden=[(1, "g")])
    assert solve(p).assignments == {1: "h"}


# ---------------------------------------------------------------- invalid input


@pytest.mark.parametrize(
    ("problem", "culprit"),
    [
        (lambda: Problem([demand(1)], [offer("g", capacity=-1)]), "'g'"),
        (lambda: Problem([demand(1)], [offer("g", capacity=1.5)]), "'g'"),  # type: ignore[arg-type]
        (lambda: Problem([demand(1)], [offer("g", capacity=True)]), "'g'"),
        (lambda: Problem([demand("nan", (math.nan, 5.0))], [offer("g")]), "'nan'"),
        (lambda: Problem([demand("inf", (45.0, math.inf))], [offer("g")]), "'inf'"),
        (lambda: Problem([demand("pole", (91.0, 5.0))], [offer("g")]), "'pole'"),
        (lambda: Problem([demand(1)], [offer("bad", (math.nan, 1.0))]), "'bad'"),
        (lambda: Problem([demand("w0", weight=0.0)], []), "'w0'"),
        (lambda: Problem([demand("wn", weight=math.nan)], []), "'wn'"),
        (lambda: Problem([demand("mk", max_km=-1.0)], []), "'mk'"),
        (lambda: Problem([demand("s", weight="lots")], []), "'s'"),  # type: ignore[arg-type]
        (lambda: Problem([demand(7), demand(7)], []), "7"),
        (lambda: Problem([demand(1)], [offer("g"), offer("g")]), "'g'"),
        (lambda: Problem([demand(1)], [offer("g")], pinned={2: "g"}), "2"),
        (lambda: Problem([demand(1)], [offer("g")], pinned={1: "zz"}), "'zz'"),
        (lambda: Problem([demand(1)], [offer("g")], forbidden=[(1, "zz")]), "'zz'"),
        (lambda: Problem([demand(1)], [offer("g")], forbidden=[("x", "g")]), "'x'"),
        (lambda: Problem([demand(1), demand(2)], [offer("g")], pinned={1: "g", 2: "g"}), "'g'"),
        (lambda: Problem([demand(1)], [offer("g")], pinned={1: "g"}, forbidden=[(1, "g")]), "'g'"),
        (lambda: Problem([demand(1)], [offer("g")], km_cost=-1.0), "km_cost"),
        (lambda: Problem([demand(1)], [offer("g")], km_cost=math.inf), "km_cost"),
    ],
)
def test_invalid_input_names_the_culprit(problem: Callable[[], Problem], culprit: str) -> None:
    # Bad records fail where they are built, or at the latest in solve().
    with pytest.raises(InvalidProblem) as err:
        solve(problem())
    assert culprit in str(err.value)
    assert isinstance(err.value, ValueError)


# ---------------------------------------------------------------- determinism


_SCRIPT = textwrap.dedent(
    """
    import json
    from guichet.matching import solve
    from guichet.matching.instances import generate
    p = generate("S")
    r = solve(p)
    print(json.dumps([sorted(r.assignments.items()), sorted(r.unassigned.items()),
                      r.objective]))
    """
)


@pytest.mark.slow
def test_same_output_whatever_the_hash_seed() -> None:
    outputs = []
    for seed in ("1", "2", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
        run = subprocess.run(
            [sys.executable, "-c", _SCRIPT], env=env, capture_output=True, text=True, check=True
        )
        outputs.append(json.loads(run.stdout))
    assert outputs[0] == outputs[1] == outputs[2]
    assert len(outputs[0][0]) > 100


def test_repeated_solves_are_identical() -> None:
    p = generate("S", load_communes())
    a, b = solve(p), solve(p)
    assert a.assignments == b.assignments
    assert a.unassigned == b.unassigned
    assert a.objective == b.objective


@pytest.mark.slow
def test_import_pulls_neither_flask_nor_sqlalchemy() -> None:
    code = (
        "import sys, guichet.matching, guichet.matching.bench; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('flask', 'sqlalchemy')]; "
        "assert not bad, bad"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", code], env=env, check=True)


# ---------------------------------------------------------------- explanations


def test_explanations() -> None:
    demands = [demand("a", weight=300.0), demand("b", weight=100.0), demand("c", (44.0, 4.0))]
    offers = [offer("g", A, capacity=1), offer("h", B, capacity=0)]
    r = solve(Problem(demands, offers))
    ea = r.explain("a")
    assert ea.status == "assigned" and ea.offer_id == "g" and ea.rank == 1
    assert ea.distance_km == 0.0 and ea.value == 300.0
    assert ea.n_in_reach == 2 and ea.n_eligible == 1
    assert {o.offer_id: o.status for o in ea.options} == {"g": "chosen", "h": NO_CAPACITY}
    eb = r.explain("b")
    assert eb.status == "unassigned" and eb.reason == CAPACITY_TAKEN
    assert eb.best_alternative is not None and eb.best_alternative.offer_id == "g"
    assert eb.shortfall is not None and eb.shortfall >= 0.0
    ec = gm.explain(r, "c")
    assert ec.reason == NO_OFFER_IN_REACH and ec.options == ()
    # Codes and numbers only: sentences are guichet.assignment.explanations' business.
    assert not hasattr(ea, "summary")
    assert set(r.explanations) == {"a", "b", "c"}
    assert r.explanations["b"] == eb
    with pytest.raises(KeyError):
        r.explain("nobody")
    assert r.offer_prices["g"] >= 100.0  # b (value 100) could not outbid a's place


def test_rank_of_a_second_choice() -> None:
    # x would rather have g (closer) but y can only use g: x is moved to its 2nd choice.
    x = demand("x", A, weight=100.0, max_km=30.0)
    y = demand("y", A, weight=99.0, max_km=1.0)
    r = solve(Problem([x, y], [offer("g", A), offer("h", B)], km_cost=0.1))
    e = r.explain("x")
    assert e.rank == 2 and e.n_eligible == 2
    assert e.best_alternative is not None and e.best_alternative.offer_id == "g"


def test_bad_records_fail_as_soon_as_they_are_built() -> None:
    with pytest.raises(ValueError, match="'g'.*capacity"):
        Offer("g", 45.0, 5.0, -1, 10.0)
    with pytest.raises(ValueError, match="'d'.*lat"):
        Demand("d", math.nan, 5.0, 10.0, 10.0)
    with pytest.raises(InvalidProblem, match="duplicate demand id 7"):
        Problem([Demand(7, 45.0, 5.0, 1.0, 5.0), Demand(7, 45.0, 5.0, 1.0, 5.0)], [])
