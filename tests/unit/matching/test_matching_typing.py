"""Typed ids: a problem's id types carry over to its result, for mypy and at run time."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from guichet.matching import Demand, Explanation, Offer, Option, Problem, solve

ROOT = Path(__file__).resolve().parents[3]

_SNIPPET = textwrap.dedent(
    """
    from typing import assert_type

    from guichet.matching import Demand, Explanation, Offer, Option, Problem, Result, solve

    problem = Problem([Demand(1, 45.0, 5.0, 10.0, 5.0)], [Offer("g", 45.0, 5.0, 1, 5.0)],
                      pinned={1: "g"})
    assert_type(problem, Problem[int, str])
    result = solve(problem)
    assert_type(result, Result[int, str])
    assert_type(result.assignments, dict[int, str])
    assert_type(result.unassigned, dict[int, str])
    assert_type(result.offer_prices, dict[str, float])
    expl = result.explain(1)
    assert_type(expl, Explanation[int, str])
    assert_type(expl.offer_id, str | None)
    assert_type(expl.options, tuple[Option[str], ...])
    assert_type(result.explanations[1], Explanation[int, str])
    result.explain("1")  # E: a str is not a demand id of this problem
    """
)


@pytest.mark.slow
@pytest.mark.slow
def test_mypy_carries_the_id_types_from_problem_to_result(tmp_path: Path) -> None:
    snippet = tmp_path / "snippet.py"
    snippet.write_text(_SNIPPET, encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / "cache"),
         "--no-error-summary", str(snippet)],
        cwd=ROOT, capture_output=True, text=True,
    )
    errors = [line for line in run.stdout.splitlines() if ": error:" in line]
    # Exactly one error, on the line that passes a str where the demand ids are ints.
    assert len(errors) == 1, run.stdout
    line = _SNIPPET.splitlines().index('result.explain("1")  # E: a str is not a demand id of this problem') + 1
    assert f"snippet.py:{line}:" in errors[0] and "explain" in errors[0], errors


def test_records_can_be_built_with_explicit_id_types() -> None:
    # Python < 3.13 raised TypeError here for frozen slotted generic dataclasses.
    d = Demand[int](1, 45.0, 5.0, 10.0, 5.0)
    o = Offer[str]("g", 45.0, 5.0, 1, 5.0)
    r = solve(Problem[int, str]([d], [o]))
    assert r.assignments == {1: "g"}
    e = Explanation[int, str](**{name: getattr(r.explain(1), name) for name in Explanation.__slots__})
    assert e == r.explain(1)
    assert Option[str]("g", 0.0, 1.0, "chosen", None).offer_id == "g"
    with pytest.raises(AttributeError):
        d.lat = 46.0  # type: ignore[misc]
