"""The same person cannot hold two open requests of one kind, even submitted at the same instant."""

import threading
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from guichet.db import make_engine
from guichet.models import PatientRequest
from guichet.requests import intake, staff_requests
from guichet.requests.identity import person_key
from guichet.territories import geo
from guichet.workflow import change_request_status
from tests.conftest import NOW


def test_the_database_refuses_a_second_open_request_for_the_same_person(factory, db):
    territory = factory.territory()
    first = factory.request(patient=factory.patient(territory=territory, birth_name="Lefèvre",
                                                    first_names="Marie-Anne", birth_date=date(1950, 1, 2)))
    twin = factory.patient(territory=territory, birth_name="LEFEVRE", first_names="marie anne",
                           birth_date=date(1950, 1, 2))
    assert person_key(twin) == first.identity_key
    with pytest.raises(IntegrityError):
        with db.begin_nested():
            factory.request(patient=twin)


def test_a_closed_request_does_not_block_a_new_one(factory, db, now):
    territory = factory.territory()
    patient = factory.patient(territory=territory)
    old = factory.request(patient=patient)
    change_request_status(db, old, "withdrawn", now=now, actor="patient")
    new = factory.request(patient=factory.patient(territory=territory, birth_name=patient.birth_name,
                                                  first_names=patient.first_names,
                                                  birth_date=patient.birth_date))
    assert new.identity_key == old.identity_key


def test_staff_cannot_edit_a_request_into_a_copy_of_another(factory, db, now):
    territory = factory.territory()
    staff = factory.user("staff", territory=territory)
    a = factory.request(patient=factory.patient(territory=territory, birth_name="Martin"))
    b = factory.request(patient=factory.patient(territory=territory, birth_name="Durand"))
    values = {"birth_name": "Martin", "first_names": b.patient.first_names,
              "birth_date": b.patient.birth_date}
    with pytest.raises(staff_requests.InvalidEdit, match="fusionnez"):
        staff_requests.edit(db, b, _edit_values(b, values), user_id=staff.id, now=now)
    assert b.patient.birth_name == "Durand" and a.patient.birth_name == "Martin"


def _edit_values(request, overrides):
    fields = staff_requests.EDITABLE_FIELDS
    patient = request.patient
    values = {k: getattr(patient, k) for k in fields}
    values.update(overrides)
    return values


@pytest.mark.postgres
def test_a_double_click_submits_once(clone_database, is_postgres):
    if not is_postgres:
        pytest.skip("concurrent transactions need PostgreSQL (GUICHET_TEST_DATABASE_URL): SQLite has one writer")
    engine = make_engine(clone_database("twin"))
    try:
        with Session(engine) as db, db.begin():
            territory_id = geo.create_territory(db, "CPTS Double", ["26059", "26117"], now=NOW).id
        data = intake.MtRequestData(
            filled_by="self", birth_name="Dupont", first_names="Jeanne", birth_date=date(1948, 5, 6),
            sex="F", phone="06 12 34 56 78", address="1 rue Haute", postal_code="26190",
            commune_insee="26059", max_km=10, is_consented=True,
        )
        barrier = threading.Barrier(2)
        outcomes: list[str] = []

        def submit() -> None:

            with Session(engine) as db:
                territory = db.get(geo.Territory, territory_id)
                assert territory is not None
                barrier.wait()
                try:
                    intake.submit_mt_request(db, data, channel="web", now=NOW, base_url="http://x")
                    db.commit()
                    outcomes.append("created")
                except intake.DuplicateRequest:
                    db.commit()
                    outcomes.append("duplicate")

        threads = [threading.Thread(target=submit) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert sorted(outcomes) == ["created", "duplicate"]
        with Session(engine) as db:
            assert db.scalar(select(func.count()).select_from(PatientRequest)) == 1
    finally:
        engine.dispose()



def test_staff_cannot_edit_a_request_into_the_same_person_as_another_by_a_married_name(factory, db, now):
    # the key differs (birth names Martin and Dupont), but the married name makes them the same
    # person for the online form and the import: a correction follows the same rule
    territory = factory.territory()
    staff = factory.user("staff", territory)
    a = factory.request(patient=factory.patient(territory=territory, birth_name="Martin", usage_name="Durand",
                                                first_names="Anne", birth_date=date(1960, 2, 2)))
    b = factory.request(patient=factory.patient(territory=territory, birth_name="Dupont", first_names="Anne",
                                                birth_date=date(1960, 2, 2)))
    with pytest.raises(staff_requests.InvalidEdit, match="fusionnez") as exc:
        staff_requests.edit(db, b, {"usage_name": "DURAND"}, user_id=staff.id, now=now)
    assert a.reference in exc.value.errors["usage_name"]
    assert b.patient.usage_name is None
    # another kind of request is another queue: an SNP request of the same person may be open
    snp = factory.request(patient=factory.patient(territory=territory, birth_name="Roux", first_names="Anne",
                                                  birth_date=date(1960, 2, 2)), kind="snp")
    staff_requests.edit(db, snp, {"usage_name": "Durand"}, user_id=staff.id, now=now)
