"""API views."""

from __future__ import annotations

from flask import jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from guichet.web.api.blueprint import bp
from guichet.web.session import get_session


@bp.get("/health")
def health() -> ResponseReturnValue:
    """Liveness and database reachability, for monitoring."""
    try:
        get_session().execute(text("SELECT 1"))
    except SQLAlchemyError:
        return jsonify(status="error", database="unavailable"), 503
    return jsonify(status="ok", database="ok")
