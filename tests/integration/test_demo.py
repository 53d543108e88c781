import pytest
from sqlalchemy import func, select

from guichet import demo
from guichet.identifiers import luhn_is_valid
from guichet.models import CapacityDeclaration, Doctor, PatientRequest, Slot, User

pytestmark = pytest.mark.slow


def count(db, model):
    return db.scalar(select(func.count()).select_from(model))


def test_demo_territory_is_realistic(db, now):
    summary = demo.load_demo(db, now=now)
    assert summary.created and summary.territory == "CPTS Royans-Vercors"
    doctors = db.scalars(select(Doctor)).all()
    assert len(doctors) == 15 and all(luhn_is_valid(d.rpps) for d in doctors)
    territory_codes = {c.insee for c in doctors[0].territory.communes}
    assert all(d.commune_insee in territory_codes for d in doctors)
    assert 0 < count(db, CapacityDeclaration) < 15
    assert count(db, Slot) > 0
    requests = db.scalars(select(PatientRequest).where(PatientRequest.status == "waiting")).all()
    assert len(requests) == 200
    # and a year of past activity for the indicators' trends
    assert db.scalar(select(func.count()).select_from(PatientRequest).where(PatientRequest.status == "completed")) > 100
    share = lambda flag: sum(1 for r in requests if flag in r.priority_breakdown) / 200  # noqa: E731
    assert 0.18 <= share("ald") <= 0.32
    assert 0.14 <= share("age_70") <= 0.28
    assert 0.05 <= share("css") <= 0.16
    waits = [r.priority_breakdown["waiting_days"] for r in requests]
    assert min(waits) >= 1 and max(waits) <= 300
    assert any(r.children_birth_dates for r in requests)


def test_loading_the_demo_twice_adds_nothing(db, now):
    demo.load_demo(db, now=now)
    counts = [count(db, m) for m in (Doctor, PatientRequest, Slot, User)]
    second = demo.load_demo(db, now=now)
    assert not second.created
    assert [count(db, m) for m in (Doctor, PatientRequest, Slot, User)] == counts
    assert ("coordination", demo.STAFF_EMAIL, demo.DEMO_PASSWORD) in second.logins


def test_demo_gps_can_be_told_apart(db, now):
    from sqlalchemy import select

    from guichet.demo import load_demo
    from guichet.models import Doctor

    load_demo(db, now=now)
    doctors = list(db.scalars(select(Doctor)))
    assert len({d.last_name for d in doctors}) == len(doctors)
