"""Per-request state: the database session and the request's "now"."""

from __future__ import annotations

from datetime import datetime

from flask import current_app, g
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session


def get_session() -> Session:
    """The current request's session; the view commits, teardown rolls back the rest."""
    if "db" not in g:
        g.db = current_app.extensions["guichet"]["sessionmaker"]()
    return g.db


def request_now() -> datetime:
    """The app clock's time, read once per request so that a whole request sees one instant."""
    if "now" not in g:
        g.now = current_app.extensions["guichet"]["clock"]()
    return g.now


def discard_session() -> None:
    """Roll back and close the request's session, even when its connection is dead.

    A rollback on a connection the database dropped (restart, network) raises in turn:
    the pool then throws the connection away, and the error page can still be served.
    """
    db = g.pop("db", None)
    if db is None:
        return
    try:
        db.rollback()
    except SQLAlchemyError:
        db.invalidate()
    finally:
        db.close()


def close_session(_exc: BaseException | None = None) -> None:
    discard_session()
