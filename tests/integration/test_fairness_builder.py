"""Issue 15 in the database: the builder's weight is engine_weight; ties go to the earlier arrival."""

from datetime import date, timedelta

import pytest

from guichet.assignment import problems, runs
from guichet.requests.records import situation_of
from guichet.services.priority import engine_weight


def test_builder_gives_the_engine_exactly_engine_weight(db, factory, now):
    territory = factory.territory()
    territory.settings = {"priority_weights": {"ald": 250}, "waiting_guarantee_days": 60, "matching_km_cost": 2}
    requests = [
        factory.request(patient=factory.patient(territory=territory, is_ald=True), waited_days=3),
        factory.request(patient=factory.patient(territory=territory, birth_date=date(1950, 1, 1)), waited_days=45),
    ]
    built = problems.build_mt_problem(db, territory, now=now)
    weights = {d.id: d.weight for d in built.problem.demands}
    for request in requests:
        assert weights[request.id] == engine_weight(
            situation_of(request.patient), request.waiting_since_dt, now=now,
            settings=territory.settings, km_cost=2.0)


def test_of_two_identical_requests_minutes_apart_the_earlier_is_proposed(db, factory, now):
    territory = factory.territory()
    gp = factory.doctor(territory=territory)
    factory.declaration(gp, new_patients=1)
    # created in the "wrong" order, so that neither the id nor the input order decides
    later = factory.request(patient=factory.patient(territory=territory, commune="26223",
                                                    birth_date=date(1990, 1, 1)), waited_days=5)
    earlier = factory.request(patient=factory.patient(territory=territory, commune="26223",
                                                      birth_date=date(1990, 1, 1)), waited_days=5)
    earlier.waiting_since_dt = later.waiting_since_dt - timedelta(minutes=3)
    db.flush()
    outcome = runs.run_mt(db, territory, now=now, dry_run=True)
    assert [p.request.id for p in outcome.placements] == [earlier.id]
    assert later.priority_score == earlier.priority_score  # the same score: only the minutes differ


@pytest.mark.parametrize(("guarantee", "winner"), [(0, "ald"), (180, "plain")])
def test_a_request_near_the_guarantee_outranks_a_new_ald_request_only_as_the_setting_says(
        db, factory, now, guarantee, winner):
    territory = factory.territory()
    territory.settings = {"waiting_guarantee_days": guarantee}
    gp = factory.doctor(territory=territory)
    factory.declaration(gp, new_patients=1)
    born = date(1990, 1, 1)
    made = {
        "plain": factory.request(patient=factory.patient(territory=territory, birth_date=born), waited_days=170),
        "ald": factory.request(patient=factory.patient(territory=territory, birth_date=born, is_ald=True),
                               waited_days=0),
    }
    outcome = runs.run_mt(db, territory, now=now, dry_run=True)
    assert [p.request.id for p in outcome.placements] == [made[winner].id]
