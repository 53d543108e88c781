"""The api blueprint object, apart so that its route modules import it without a cycle.

A flask-smorest Blueprint: each route declares its arguments and answers with
marshmallow schemas, which both validate and make the OpenAPI description.
"""

from flask_smorest import Blueprint
from werkzeug.exceptions import HTTPException

from guichet.web.api.problems import from_http_exception

bp = Blueprint("api", __name__, description="API de la CPTS pour les logiciels de ses partenaires.")
# every error of an API route is a problem+json answer (RFC 9457), in French
bp.register_error_handler(HTTPException, from_http_exception)
