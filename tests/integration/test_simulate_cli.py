"""`flask --app wsgi simulate <territory>`: the comparison table, read from the territory."""

from datetime import date

import pytest
from sqlalchemy import func, select

from guichet.assignment import scenario
from guichet.models import Proposal


def _territory(factory):
    territory = factory.territory()
    for commune in ("26223", "26117"):
        factory.declaration(factory.doctor(territory=territory, commune=commune), new_patients=4)
    factory.request(patient=factory.patient(territory=territory, is_ald=True))
    return territory


def test_simulate_prints_the_comparison_with_the_first_come_first_served_list(runner, db, factory):
    territory = _territory(factory)
    result = runner.invoke(args=["simulate", territory.slug, "--days", "90", "--seed", "3",
                                 "--weights", "ald=250,waiting_guarantee_days=120"])
    assert result.exit_code == 0, result.output
    for text in ("Premier arrivé, premier servi", "Chaque médecin choisit les plus proches", "Règles actuelles",
                 "Règles proposées", "Patients placés", "Toujours en attente depuis plus de 120 jours",
                 "ordres de grandeur nationaux", "Temps de calcul"):
        assert text in result.output
    assert db.scalar(select(func.count()).select_from(Proposal)) == 0


def test_simulate_refuses_unknown_settings_and_territories(runner, factory):
    territory = _territory(factory)
    bad = runner.invoke(args=["simulate", territory.slug, "--weights", "rayon=3"])
    assert bad.exit_code == 1 and "n'est pas un réglage connu" in bad.output
    unknown = runner.invoke(args=["simulate", "nulle-part"])
    assert unknown.exit_code == 1 and "Territoire inconnu" in unknown.output


def test_scenario_uses_the_territory_history_when_it_has_one(db, factory, now):
    territory = _territory(factory)
    for i in range(scenario.MIN_HISTORY):
        factory.request(patient=factory.patient(territory=territory, is_ald=i % 2 == 0, max_km=15,
                                                birth_date=date(1990, 1, 1)), waited_days=i * 5)
    world = scenario.scenario_for(db, territory, now=now)
    assert world.history_requests == scenario.MIN_HISTORY + 1
    # 31 requests over the 145 days since the oldest one: about 78 a year
    assert world.arrivals_per_year == pytest.approx(31 * 365 / 145)
    assert world.shares["ald"] == (scenario.MIN_HISTORY // 2 + 1) / (scenario.MIN_HISTORY + 1)
    assert len(world.doctors) == 2 and world.doctors[0].monthly_places == world.doctors[1].monthly_places
    assert 15.0 in world.patient_km
    # the replay starts from today's waiting list, oldest first
    assert len(world.waiting) == scenario.MIN_HISTORY + 1
    assert world.waiting[0].since == min(w.since for w in world.waiting)
