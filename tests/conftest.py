"""Test harness: one database per test session, one rolled-back transaction per test.

SQLite by default; GUICHET_TEST_DATABASE_URL=postgresql://… runs the same suite on
PostgreSQL. Each pytest-xdist worker gets its own database.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from guichet import migrate
from guichet.clock import FrozenClock
from guichet.db import make_engine
from guichet.services import geo
from guichet.settings import check_database_url

#: a fixed "now" for tests that do not move the clock themselves
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def fresh_database_url(tmp_path_factory: pytest.TempPathFactory, label: str) -> tuple[str, object]:
    """A new empty database of the backend under test; returns (url, cleanup)."""
    base = os.environ.get("GUICHET_TEST_DATABASE_URL")
    if base:
        base = check_database_url(base)
        name = f"{make_url(base).database}_{label}_{uuid.uuid4().hex[:8]}"
        url = migrate.create_postgres_database(base, name)
        return url, lambda: migrate.drop_postgres_database(base, name)
    path = tmp_path_factory.mktemp(label) / "guichet.sqlite3"
    return f"sqlite:///{path}", lambda: None


@pytest.fixture(scope="session")
def is_postgres() -> bool:
    return bool(os.environ.get("GUICHET_TEST_DATABASE_URL"))


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Iterator[str]:
    url, cleanup = fresh_database_url(tmp_path_factory, f"test_{worker_id}")
    migrate.upgrade(url)
    engine = make_engine(url)
    with Session(engine) as db, db.begin():
        geo.load_communes(db)
    engine.dispose()
    yield url
    cleanup()  # type: ignore[operator]


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)  # includes the SQLite savepoint recipe
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    conn = engine.connect()
    trans = conn.begin()
    yield conn
    trans.rollback()
    conn.close()


@pytest.fixture
def sessions(connection: Connection) -> sessionmaker[Session]:
    """A sessionmaker whose sessions join the test's transaction: commits become savepoints."""
    return sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


@pytest.fixture
def db(sessions: sessionmaker[Session]) -> Iterator[Session]:
    session = sessions()
    yield session
    session.close()


@pytest.fixture
def clock() -> FrozenClock:
    """The test's one clock, frozen at NOW: the app, the CLI and the jobs read it; tests move it."""
    return FrozenClock(NOW)


@pytest.fixture
def app(sessions: sessionmaker[Session], database_url: str, clock: FrozenClock) -> Flask:
    app = create_test_app(sessions, database_url, clock=clock)
    return app


def create_test_app(sessions: sessionmaker[Session], database_url: str, *,
                    clock: FrozenClock | None = None, **overrides: object) -> Flask:
    from guichet.web import create_app

    settings = {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret",
        "WTF_CSRF_ENABLED": False,
        "SERVER_NAME": "guichet.test",
        "SESSIONMAKER": sessions,
    }
    settings.update(overrides)
    return create_app(settings, clock=clock or FrozenClock(NOW))


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def expiring_client(app: Flask, db: Session) -> FlaskClient:
    """A client after whose every request the test's session re-reads the database."""

    class ExpiringClient(FlaskClient):
        def open(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            response = super().open(*args, **kwargs)
            db.expire_all()
            return response

    app.test_client_class = ExpiringClient
    return app.test_client()


@pytest.fixture
def runner(app: Flask):  # type: ignore[no-untyped-def]
    return app.test_cli_runner()


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def factory(db: Session):  # type: ignore[no-untyped-def]
    from tests.factories import Factory

    return Factory(db, now=NOW)
