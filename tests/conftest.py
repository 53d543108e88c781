"""Test harness: one database per test session, one rolled-back transaction per test.

SQLite by default; GUICHET_TEST_DATABASE_URL=postgresql://… runs the same suite on
PostgreSQL. Each pytest-xdist worker migrates one template database and loads the communes
once; the rolled-back tests' database and every database where commits must be real
(threads, processes, a live server) are copies of it.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from guichet import migrate
from guichet.clock import FrozenClock
from guichet.db import make_engine
from guichet.settings import check_database_url
from guichet.territories import geo

#: a fixed "now" for tests that do not move the clock themselves
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def fresh_database_url(tmp_path_factory: pytest.TempPathFactory, label: str,
                       template: str | None = None) -> tuple[str, Callable[[], None]]:
    """A new database of the backend under test, empty or a copy of the `template` URL's
    database (which nobody may be connected to); returns (url, cleanup)."""
    base = os.environ.get("GUICHET_TEST_DATABASE_URL")
    if base:
        base = check_database_url(base)
        name = f"{make_url(base).database}_{label}_{uuid.uuid4().hex[:8]}"
        source = make_url(template).database if template else None
        url = migrate.create_postgres_database(base, name, template=source)
        return url, lambda: migrate.drop_postgres_database(base, name)
    path = tmp_path_factory.mktemp(label) / "guichet.sqlite3"
    if template:
        shutil.copyfile(str(make_url(template).database), path)
    return f"sqlite:///{path}", lambda: None


@pytest.fixture(scope="session")
def is_postgres() -> bool:
    return bool(os.environ.get("GUICHET_TEST_DATABASE_URL"))


@pytest.fixture(scope="session")
def template_database_url(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Iterator[str]:
    """Migrated, with the communes; never used directly, only copied."""
    url, cleanup = fresh_database_url(tmp_path_factory, f"template_{worker_id}")
    migrate.upgrade(url)
    engine = make_engine(url)
    with Session(engine) as db, db.begin():
        geo.load_communes(db)
    engine.dispose()
    yield url
    cleanup()


@pytest.fixture(scope="session")
def clone_database(tmp_path_factory: pytest.TempPathFactory,
                   template_database_url: str) -> Iterator[Callable[[str], str]]:
    """clone(label) -> URL of a new migrated database with the communes, dropped at the end.

    For tests whose commits must be real (concurrent transactions, schedulers, a live server).
    """
    cleanups: list[Callable[[], None]] = []

    def clone(label: str) -> str:
        url, cleanup = fresh_database_url(tmp_path_factory, label, template=template_database_url)
        cleanups.append(cleanup)
        return url

    yield clone
    for cleanup in cleanups:
        cleanup()


@pytest.fixture(scope="session")
def database_url(clone_database: Callable[[str], str], worker_id: str) -> str:
    return clone_database(f"test_{worker_id}")


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


@pytest.fixture(scope="session")
def shared_app(database_url: str) -> Flask:
    """One application per worker: building one compiles every URL rule (~0.1 s)."""
    return create_test_app(None, database_url)


@pytest.fixture
def app(shared_app: Flask, sessions: sessionmaker[Session], clock: FrozenClock) -> Iterator[Flask]:
    """The shared application, joined to this test's transaction and clock; whatever the
    test changes on it (settings, rate-limit counts, client class) is put back afterwards."""
    state = shared_app.extensions["guichet"]
    config = dict(shared_app.config)
    client_class = shared_app.test_client_class
    state["sessionmaker"], state["clock"] = sessions, clock
    state["ratelimiter"].reset()
    yield shared_app
    shared_app.config.clear()
    shared_app.config.update(config)
    shared_app.test_client_class = client_class
    state["sessionmaker"] = state["clock"] = None


#: GUICHET_TEST_REDIS_URL=redis://127.0.0.1:6379/0 keeps the rate-limit counts in Redis, as in
#: production with several workers; each test run uses (and clears) keys under its own prefix
TEST_REDIS_URL = os.environ.get("GUICHET_TEST_REDIS_URL", "")
RATE_LIMIT_TEST_PREFIX = f"guichet-test-{uuid.uuid4().hex[:12]}"


def create_test_app(sessions: sessionmaker[Session] | None, database_url: str, *,
                    clock: FrozenClock | None = None, **overrides: object) -> Flask:
    from guichet.web import create_app

    settings = {
        "REDIS_URL": TEST_REDIS_URL,
        "LOG_LEVEL": "WARNING",  # one line per request is noise here; tests/web/test_logs.py reads them
        "RATE_LIMIT_KEY_PREFIX": RATE_LIMIT_TEST_PREFIX,
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret",
        "WTF_CSRF_ENABLED": False,
        "SERVER_NAME": "guichet.test",
        "BASE_URL": "http://guichet.test",
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
