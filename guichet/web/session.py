"""One database session per web request, rolled back and closed at teardown."""

from __future__ import annotations

from flask import current_app, g
from sqlalchemy.orm import Session


def get_session() -> Session:
    """The current request's session; the view commits, teardown rolls back the rest."""
    if "db" not in g:
        g.db = current_app.extensions["guichet"]["sessionmaker"]()
    return g.db


def close_session(_exc: BaseException | None = None) -> None:
    db = g.pop("db", None)
    if db is not None:
        db.rollback()
        db.close()
