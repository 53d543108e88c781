"""The engine's weight: ties broken by arrival to the minute, the waiting-time guarantee."""

from datetime import UTC, date, datetime, timedelta

import pytest

from guichet.assignment.priority import Situation, compute_priority, guarantee_bonus, tie_break
from guichet.services.priority import engine_weight

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
PLAIN = Situation(birth_date=date(1990, 1, 1))
ALD = Situation(birth_date=date(1990, 1, 1), is_ald=True)


def test_weight_grows_strictly_with_waiting_time_to_the_minute():
    earlier = engine_weight(PLAIN, NOW - timedelta(days=3, minutes=5), now=NOW)
    later = engine_weight(PLAIN, NOW - timedelta(days=3), now=NOW)
    assert earlier > later
    two_years = [engine_weight(PLAIN, NOW - timedelta(days=730, minutes=m), now=NOW) for m in (0, 1)]
    assert two_years[1] > two_years[0]


def test_tie_break_never_lifts_a_request_above_a_higher_score():
    assert 0 <= tie_break(NOW - timedelta(days=3650), NOW) < 1
    # one more whole point of score beats ten years of tie-break
    old_plain = engine_weight(PLAIN, NOW - timedelta(days=100, hours=1), now=NOW, settings={"waiting_guarantee_days": 0})
    newer_ald = engine_weight(ALD, NOW - timedelta(hours=1), now=NOW,
                              settings={"waiting_guarantee_days": 0, "priority_weights": {"ald": 101}})
    score_plain, _ = compute_priority(PLAIN, NOW - timedelta(days=100, hours=1), now=NOW,
                                      settings={"waiting_guarantee_days": 0})
    assert score_plain == 101  # 1 + 100 whole days (Paris)
    assert newer_ald > old_plain  # 102 + a tiny tie-break against 101 + a larger one


def test_weight_is_the_score_plus_tie_break_plus_reach_bonus():
    since = NOW - timedelta(days=12, minutes=7)
    score, _ = compute_priority(ALD, since, now=NOW)
    assert engine_weight(ALD, since, now=NOW, km_cost=2.0) == pytest.approx(score + tie_break(since, NOW) + 400.0)


@pytest.mark.parametrize(("days", "points"), [(0, 0), (90, 0), (91, 3), (135, 150), (180, 300), (270, 600)])
def test_guarantee_bonus_grows_from_half_the_guarantee_to_the_largest_weight(days, points):
    weights = {"ald": 300.0, "age_70": 200.0, "per_day_waited": 1.0}
    assert guarantee_bonus(days, 180, weights) == points


def test_guarantee_off_gives_no_bonus():
    assert guarantee_bonus(500, 0, {"ald": 300.0}) == 0


def test_near_the_guarantee_a_plain_request_outranks_a_new_ald_request_only_as_the_setting_says():
    settings = {"waiting_guarantee_days": 180}
    new_ald = engine_weight(ALD, NOW - timedelta(minutes=1), now=NOW, settings=settings)
    assert engine_weight(PLAIN, NOW - timedelta(days=120), now=NOW, settings=settings) < new_ald
    assert engine_weight(PLAIN, NOW - timedelta(days=150), now=NOW, settings=settings) > new_ald
    # a longer guarantee: the same 150-day wait does not yet outrank the new ALD request
    longer = {"waiting_guarantee_days": 365}
    assert engine_weight(PLAIN, NOW - timedelta(days=150), now=NOW, settings=longer) < engine_weight(
        ALD, NOW - timedelta(minutes=1), now=NOW, settings=longer)
    # without a guarantee, it takes 300 days (+1 point a day)
    off = {"waiting_guarantee_days": 0}
    assert engine_weight(PLAIN, NOW - timedelta(days=250), now=NOW, settings=off) < engine_weight(
        ALD, NOW - timedelta(minutes=1), now=NOW, settings=off)


def test_guarantee_points_are_shown_in_the_breakdown_apart_from_the_days():
    score, breakdown = compute_priority(PLAIN, NOW - timedelta(days=135), now=NOW,
                                        settings={"waiting_guarantee_days": 180})
    assert breakdown == {"waiting_days": 135, "waiting_guarantee": 150}
    assert score == 286
