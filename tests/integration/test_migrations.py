"""Migrations: upgrade and downgrade on the backend under test; one head; models agree; data moves."""

from datetime import date

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from guichet import migrate
from guichet.db import Base, make_engine
from guichet.models import Patient, PatientRequest, Territory
from guichet.requests import identity
from guichet.requests.identity import Identity
from tests.conftest import NOW, fresh_database_url


@pytest.fixture
def empty_database(tmp_path_factory):
    url, cleanup = fresh_database_url(tmp_path_factory, "migrations")
    yield url
    cleanup()


def test_there_is_a_single_head():
    script = ScriptDirectory.from_config(migrate.alembic_config())
    assert len(script.get_heads()) == 1


def test_upgrade_to_head_then_downgrade_to_base(empty_database):
    migrate.upgrade(empty_database)
    engine = make_engine(empty_database)
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    migrate.downgrade(empty_database, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(empty_database)  # and back up again: downgrades leave nothing behind
    engine.dispose()


def test_models_and_migrations_agree(empty_database):
    migrate.upgrade(empty_database)
    engine = make_engine(empty_database)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={
            "compare_type": True, "include_object": migrate.include_object_for(conn.dialect.name)})
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert diff == []


def test_alembic_check_command_finds_nothing_to_generate(empty_database):
    migrate.upgrade(empty_database)
    command.check(migrate.alembic_config(empty_database))


def test_import_keys_are_recomputed_from_the_identity_key_and_back(empty_database):
    migrate.upgrade(empty_database)
    engine = make_engine(empty_database)
    people = [("Lefèvre", "Zoé Marie", date(1990, 1, 1)), ("Roux", "Jean-Paul", date(2001, 6, 1)),
              ("Roux", "Jean-Marc", date(2001, 6, 1))]
    with Session(engine) as db, db.begin():
        territory = Territory(name="CPTS Test", slug="cpts-test", created_dt=NOW)
        for n, (birth_name, first_names, birth_date) in enumerate(people, start=1):
            patient = Patient(territory=territory, birth_name=birth_name, first_names=first_names,
                              birth_date=birth_date, created_dt=NOW)
            db.add(patient)
            db.flush()
            db.add(PatientRequest(
                reference=f"MT-2026-{n:06d}", tracking_token=f"token-{n:020d}", kind="mt", channel="import",
                status="to_contact", territory=territory, patient=patient, submitted_dt=NOW,
                waiting_since_dt=NOW, status_changed_dt=NOW, import_key=identity.import_key(territory.id, patient),
            ))
        territory_id = territory.id
    new_keys = [identity.import_key(territory_id, Identity(birth_name=b, first_names=f, birth_date=d))
                for b, f, d in people]

    def stored() -> list[str]:
        with engine.connect() as conn:
            return list(conn.scalars(select(PatientRequest.import_key).order_by(PatientRequest.id)))

    assert stored() == new_keys
    migrate.downgrade(empty_database, "20321f9bb985")
    # the import's former rule: first first name only, so the twins share one key and the
    # second keeps the new one (the unique constraint holds)
    old = stored()
    assert old[0] == "fd3fdcd62c3777231acffd42aea896b4462cb796c83d7293820142a61677adb4" and territory_id == 1
    assert old[1] != new_keys[1] and old[2] == new_keys[2]
    migrate.upgrade(empty_database)
    assert stored() == new_keys
    engine.dispose()
