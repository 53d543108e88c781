from datetime import UTC, date, datetime, timedelta

from guichet.assignment.priority import Situation, compute_priority

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def test_default_weights_add_up_with_the_days_waited():
    situation = Situation(birth_date=date(1950, 1, 1), is_ald=True, is_css=True)
    score, breakdown = compute_priority(situation, NOW - timedelta(days=42), now=NOW)
    assert breakdown == {"ald": 300, "age_70": 200, "css": 150, "waiting_days": 42}
    assert score == 1 + 300 + 200 + 150 + 42


def test_age_70_counts_from_the_birthday_in_paris():
    born = date(1956, 11, 24)
    _, on_birthday = compute_priority(Situation(birth_date=born), NOW, now=NOW)
    _, day_before = compute_priority(Situation(birth_date=born), NOW, now=NOW - timedelta(days=1))
    assert "age_70" in on_birthday
    assert "age_70" not in day_before


def test_territory_weights_override_the_defaults():
    settings = {"priority_weights": {"ald": 500, "per_day_waited": 2}}
    score, breakdown = compute_priority(
        Situation(birth_date=date(1990, 1, 1), is_ald=True), NOW - timedelta(days=10),
        now=NOW, settings=settings)
    assert breakdown == {"ald": 500, "waiting_days": 20}
    assert score == 521


def test_old_hospital_discharge_no_longer_counts():
    recent = Situation(birth_date=None, hospital_discharge_date=date(2026, 11, 1))
    old = Situation(birth_date=None, hospital_discharge_date=date(2025, 1, 1))
    assert "hospital_discharge" in compute_priority(recent, NOW, now=NOW)[1]
    assert "hospital_discharge" not in compute_priority(old, NOW, now=NOW)[1]


def test_every_flag_has_its_weight():
    situation = Situation(birth_date=date(1940, 1, 1), is_ald=True, is_css=True, is_pregnant=True,
                          is_disabled=True, hospital_discharge_date=date(2026, 11, 20),
                          previous_mt_left_date=date(2026, 1, 1))
    score, breakdown = compute_priority(situation, NOW, now=NOW)
    assert score == 1 + 300 + 200 + 150 + 150 + 150 + 100 + 50
