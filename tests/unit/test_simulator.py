"""The rules simulator: same seed, same figures; the policies trade what they should."""

from dataclasses import replace

import pytest

from guichet.assignment import simulator
from guichet.benchmarks.simulator import scenario as reference_scenario


@pytest.fixture(scope="module")
def stressed():
    return reference_scenario("CPTS Royans-Vercors", per_100=4.0, ratio=1.75, seed=1)


def _by_policy(sim):
    return {m.policy: m for m in sim.metrics}


def test_same_seed_same_figures_other_seed_other_arrivals(stressed):
    one = simulator.simulate(stressed, days=200, seed=7)
    two = simulator.simulate(stressed, days=200, seed=7)
    other = simulator.simulate(stressed, days=200, seed=8)
    assert simulator.csv_rows(one) == simulator.csv_rows(two)
    assert simulator.csv_rows(one) != simulator.csv_rows(other)


def test_the_engine_favours_priority_patients_and_the_list_favours_the_longest_wait(stressed):
    m = _by_policy(simulator.simulate(stressed, days=365, seed=1, proposed={"waiting_guarantee_days": 0},
                                      threshold_days=180))
    assert m["fcfs"].arrivals == m["current"].arrivals == m["nearest"].arrivals
    assert m["current"].ald70_within_30 > 2 * m["fcfs"].ald70_within_30
    assert m["fcfs"].beyond_threshold < m["proposed"].beyond_threshold
    # the nearest-first rule gives the shortest trips
    assert m["nearest"].distance[1] <= min(m["fcfs"].distance[1], m["current"].distance[1])


def test_a_guarantee_leaves_fewer_people_waiting_beyond_it_at_a_cost_for_priority_patients(stressed):
    m = _by_policy(simulator.simulate(replace(stressed, settings={"waiting_guarantee_days": 0}), days=365,
                                      seed=1, proposed={"waiting_guarantee_days": 180}))
    assert m["proposed"].beyond_threshold < m["current"].beyond_threshold
    assert m["proposed"].ald70_within_30 <= m["current"].ald70_within_30


def test_a_larger_default_distance_reaches_more_gps_for_patients_who_kept_the_default(stressed):
    world = replace(stressed, patient_km=(10.0,), default_km=10.0)
    m = _by_policy(simulator.simulate(world, days=200, seed=1, policies=("current", "proposed"),
                                      proposed={"default_patient_km": 30}))
    assert m["proposed"].distance[1] > m["current"].distance[1]
    assert m["proposed"].placed >= m["current"].placed


def test_text_table_has_one_column_per_policy_and_one_line_per_figure(stressed):
    sim = simulator.simulate(stressed, days=60, seed=1)
    table = simulator.text_table(sim)
    assert all(label in table for label in simulator.POLICY_LABELS.values())
    assert "ALD ou 70 ans et plus placés en 30 jours ou moins" in table
    assert len(simulator.csv_rows(sim)) == 4 and len(simulator.CSV_HEADERS) == len(simulator.csv_rows(sim)[0])


def test_proposed_changes_are_read_or_refused_in_french():
    assert simulator.parse_changes("ald=250, waiting_guarantee_days=120,matching_km_cost=2,default_patient_km=15") == {
        "priority_weights": {"ald": 250.0}, "waiting_guarantee_days": 120, "matching_km_cost": 2.0,
        "default_patient_km": 15}
    for text, message in [("ald", "clé=valeur"), ("ald=x", "un nombre"), ("rayon=3", "pas un réglage connu"),
                          ("ald=-1", "positif")]:
        with pytest.raises(ValueError, match=message):
            simulator.parse_changes(text)
