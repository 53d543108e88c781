"""Migrations: upgrade and downgrade on the backend under test; one head; models agree."""

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from guichet import migrate
from guichet.db import Base, make_engine
from tests.conftest import fresh_database_url


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
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert diff == []


def test_alembic_check_command_finds_nothing_to_generate(empty_database):
    migrate.upgrade(empty_database)
    command.check(migrate.alembic_config(empty_database))
