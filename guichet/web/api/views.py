"""API views."""

from __future__ import annotations

from flask import current_app, jsonify
from flask.typing import ResponseReturnValue

from guichet.jobs import health as service_health
from guichet.web.api.blueprint import bp
from guichet.web.api.schemas import HealthSchema
from guichet.web.session import get_session, request_now


@bp.get("/health")
@bp.doc(summary="État du service : base de données, planificateur et boîte d'envoi, pour la supervision "
                "(sans clé).")
@bp.alt_response(200, schema=HealthSchema, success=True,
                 description="Service en état de marche (status ok), ou messages en retard (degraded).")
@bp.alt_response(503, schema=HealthSchema,
                 description="Base de données injoignable (error) ou planificateur arrêté (degraded).")
def health() -> ResponseReturnValue:
    """Database, scheduler and outbox, for monitoring (guichet.jobs.health.check)."""
    body, status = service_health.check(get_session(), now=request_now(), settings=current_app.config)
    return jsonify(body), status
