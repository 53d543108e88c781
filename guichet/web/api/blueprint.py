"""The api blueprint object, apart so that its route modules import it without a cycle.

A flask-smorest Blueprint: each route declares its arguments and answers with
marshmallow schemas, which both validate and make the OpenAPI description.
"""

from flask import Response
from flask_smorest import Blueprint
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from guichet.web.api.problems import from_http_exception, problem
from guichet.web.session import discard_session

bp = Blueprint("api", __name__, description="API de la CPTS pour les logiciels de ses partenaires.")
# every error of an API route is a problem+json answer (RFC 9457), in French
bp.register_error_handler(HTTPException, from_http_exception)


def _database_unavailable(_exc: Exception) -> Response:
    discard_session()
    return problem(503, "La base de données est momentanément injoignable : il n'est pas certain que la "
                        "dernière écriture ait été enregistrée. Réessayez dans une minute.",
                   headers={"Retry-After": "60"})


def _conflict(_exc: Exception) -> Response:
    discard_session()  # two calls raced each other: the second is refused, nothing of it is kept
    return problem(409, "La situation a changé pendant la requête : rien n'a été enregistré. Relisez puis réessayez.")


for _error in (OperationalError, InterfaceError):
    bp.register_error_handler(_error, _database_unavailable)
bp.register_error_handler(IntegrityError, _conflict)
