"""JSON API (version 1): OpenAPI 3.1 description at /api/v1/openapi.json, docs at /api/v1/documentation."""

from __future__ import annotations

import http
from typing import Any

from flask import Flask
from flask_smorest import Api
from flask_smorest.utils import prepare_response

from guichet.web.api import partner_views, views  # noqa: F401 (route modules register themselves on bp)
from guichet.web.api.blueprint import bp
from guichet.web.api.docs import docs_bp
from guichet.web.api.problems import PROBLEM_TYPE, ProblemSchema

__all__ = ["bp", "docs_bp", "init_api"]

SPEC_OPTIONS: dict[str, Any] = {
    "info": {
        "description": (
            "API de la CPTS pour les logiciels de ses partenaires (équipes de sortie d'hospitalisation, "
            "pharmacies, services sociaux, régulation du SAS). Chaque appel, sauf /health, porte une clé "
            "d'API créée par l'administrateur de la CPTS : « Authorization: Bearer <clé> ». Les erreurs "
            "sont au format application/problem+json (RFC 9457), en français. Les listes sont paginées "
            "par curseur."
        ),
    },
    "components": {"securitySchemes": {"cle_api": {"type": "http", "scheme": "bearer",
                                                    "description": "Clé d'API de l'organisation partenaire."}}},
}


class GuichetApi(Api):
    """flask-smorest's Api whose errors are problems, and only on the API's own routes.

    The library registers one JSON error handler for the whole application; the
    site's pages keep their HTML error pages, so the handler goes on the blueprint.
    """

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self) -> None:
        """The blueprint registers its own handler (guichet/web/api/blueprint.py)."""

    def _register_responses(self) -> None:
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_TYPE if status >= 400 else self.DEFAULT_RESPONSE_CONTENT_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Erreur (problem+json, en français)", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_TYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


def init_api(app: Flask) -> None:
    app.config.update(
        API_TITLE="Guichet CPTS", API_VERSION="1", OPENAPI_VERSION="3.1.0", OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json", API_SPEC_OPTIONS=SPEC_OPTIONS,
    )
    api = GuichetApi(app)
    api.register_blueprint(bp, url_prefix="/api/v1")
    app.register_blueprint(docs_bp, url_prefix="/api/v1")
    app.extensions["guichet"]["api"] = api
