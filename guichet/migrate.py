"""Bring a database to the latest migration (used by `init-db` and the tests); scratch databases."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection, make_url

from guichet.settings import PROJECT_ROOT

ALEMBIC_INI = PROJECT_ROOT / "alembic.ini"


def alembic_config(database_url: str | None = None, connection: Connection | None = None) -> Config:
    config = Config(str(ALEMBIC_INI))
    config.set_main_option("script_location", str(Path(PROJECT_ROOT, "migrations")))
    if database_url:
        config.attributes["database_url"] = database_url
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def include_object_for(dialect: str) -> Callable[..., bool]:
    """Alembic's include_object hook for a backend: leaves out the indexes declared for another one.

    A model's `Index(...).ddl_if(dialect="postgresql")` exists on PostgreSQL only. Alembic's
    autogenerate does not read ddl_if (sqlalchemy/alembic#1491): without this,
    `alembic check` on SQLite asks for the PostgreSQL-only trigram indexes.
    """
    def include_object(obj: Any, _name: str | None, type_: str, reflected: bool, _compare_to: Any) -> bool:
        only = getattr(obj, "_ddl_if", None) if type_ == "index" and not reflected else None
        return only is None or only.dialect is None or only.dialect == dialect

    return include_object


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)


def _server(url: str) -> str:
    return make_url(url).set(database="postgres").render_as_string(hide_password=False)


def create_postgres_database(server_url: str, name: str, template: str | None = None) -> str:
    """(Re)create a database on `server_url`'s server, empty or a copy of `template`; return its URL."""
    from guichet.db import make_engine

    admin = make_engine(_server(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        copy = f' TEMPLATE "{template}"' if template else ""
        conn.execute(text(f'CREATE DATABASE "{name}"{copy}'))
    admin.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(server_url: str, name: str) -> None:
    from guichet.db import make_engine

    admin = make_engine(_server(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@contextmanager
def temporary_postgres_database(server_url: str, prefix: str) -> Iterator[str]:
    """A new empty database for the block (benchmarks), dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    url = create_postgres_database(server_url, name)
    try:
        yield url
    finally:
        drop_postgres_database(server_url, name)
