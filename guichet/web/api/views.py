"""API views."""

from __future__ import annotations

from flask import jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from guichet.web.api.blueprint import bp
from guichet.web.api.schemas import HealthSchema
from guichet.web.session import get_session


@bp.get("/health")
@bp.doc(summary="État du service et de sa base de données, pour la supervision (sans clé).")
@bp.alt_response(200, schema=HealthSchema, success=True, description="Service en état de marche.")
@bp.alt_response(503, schema=HealthSchema, description="Base de données injoignable.")
def health() -> ResponseReturnValue:
    """Liveness and database reachability, for monitoring."""
    try:
        get_session().execute(text("SELECT 1"))
    except SQLAlchemyError:
        return jsonify(status="error", database="unavailable"), 503
    return jsonify(status="ok", database="ok")
