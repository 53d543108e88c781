"""Errors of the API as application/problem+json (RFC 9457), in French.

The rest of the site keeps its HTML error pages: these handlers answer only under
/api/ (the API blueprint's own handler, and the app's handler for the URLs that match
no route there).
"""

from __future__ import annotations

import re
from typing import Any, NoReturn

import marshmallow as ma
from flask import Response, json, request
from flask_smorest import abort
from werkzeug.exceptions import HTTPException

PROBLEM_TYPE = "application/problem+json"

#: French title and explanation per status
MESSAGES = {
    400: ("Requête incorrecte", "La requête n'a pas pu être comprise."),
    401: ("Clé d'API manquante ou invalide",
          "Envoyez une clé d'API valide dans l'en-tête « Authorization: Bearer <clé> »."),
    403: ("Droits insuffisants", "Cette clé d'API ne permet pas cette opération."),
    404: ("Introuvable", "Cette ressource n'existe pas ou n'est pas accessible avec cette clé."),
    405: ("Méthode non permise", "Cette méthode HTTP n'est pas permise sur cette adresse."),
    409: ("Conflit", "La demande est en conflit avec l'état actuel des données."),
    413: ("Requête trop volumineuse", "Le corps de la requête dépasse la taille permise."),
    415: ("Format non pris en charge", "Envoyez le corps de la requête en JSON (application/json)."),
    422: ("Données invalides", "Certaines valeurs envoyées ne respectent pas les règles : voir « errors »."),
    429: ("Trop de requêtes", "La limite de requêtes de cette clé est atteinte : réessayez dans une minute."),
    500: ("Erreur du service", "Un incident est survenu ; rien n'a été enregistré. Réessayez dans un instant."),
    503: ("Service indisponible", "Le service est momentanément indisponible. Réessayez dans un instant."),
}

#: marshmallow's own messages, in French (ours are written in French already)
_FRENCH = [
    (r"^Missing data for required field\.$", "Champ obligatoire."),
    (r"^Unknown field\.$", "Champ inconnu."),
    (r"^Field may not be null\.$", "Ce champ ne peut pas valoir null."),
    (r"^Not a valid integer\.$", "Un nombre entier est attendu."),
    (r"^Not a valid string\.$", "Un texte est attendu."),
    (r"^Not a valid boolean\.$", "true ou false est attendu."),
    (r"^Not a valid date\.$", "Une date AAAA-MM-JJ est attendue."),
    (r"^Not a valid datetime\.$", "Une date et heure ISO 8601 est attendue."),
    (r"^Not a valid list\.$", "Une liste est attendue."),
    (r"^Invalid input type\.$", "Le type de la valeur est incorrect."),
    (r"^Invalid input\.$", "Le corps de la requête doit être un objet JSON."),
    (r"^Invalid JSON body\.$", "Le corps de la requête n'est pas un JSON valide."),
    (r"^Not a valid email address\.$", "Adresse e-mail invalide."),
    (r"^Must be one of", "Valeur hors de la liste permise."),
    (r"^Must be (greater|less)", "Valeur hors des limites permises."),
    (r"^(Length|Shorter|Longer)", "Longueur hors des limites permises."),
]


def french(message: str) -> str:
    for pattern, text in _FRENCH:
        if re.search(pattern, message):
            return text
    return message


def _translate(errors: Any) -> Any:
    if isinstance(errors, dict):
        return {str(k): _translate(v) for k, v in errors.items()}
    if isinstance(errors, list):
        return [_translate(v) for v in errors]
    return french(str(errors))


def problem(status: int, detail: str | None = None, *, errors: Any = None,
            headers: dict[str, str] | None = None) -> Response:
    """A problem+json response; `detail` and `errors` must already be in French."""
    title, default_detail = MESSAGES.get(status, MESSAGES[500] if status >= 500 else MESSAGES[400])
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status,
                            "detail": detail or default_detail}
    if errors:
        body["errors"] = errors
    response = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def fail(status: int, message: str | None = None, headers: dict[str, str] | None = None) -> NoReturn:
    """Stop the request with a problem answer; `message` (French) becomes its detail."""
    abort(status, message=message, headers=headers or {})
    raise AssertionError("unreachable")  # abort raises


def from_http_exception(exc: HTTPException) -> Response:
    """Turn abort(…) and webargs' validation errors into a problem."""
    code = exc.code or 500
    data = getattr(exc, "data", None) or {}
    errors = data.get("messages") or data.get("errors")
    if isinstance(errors, dict) and len(errors) == 1 and next(iter(errors)) in ("json", "query", "path"):
        errors = next(iter(errors.values()))  # webargs nests the errors under their location
    headers = {k: v for k, v in exc.get_headers() if k.lower() == "allow"}
    headers.update(data.get("headers") or {})
    detail = data.get("message") if isinstance(data.get("message"), str) else None
    if isinstance(errors, list):  # about the whole body, not one field
        detail, errors = " ".join(french(str(e)) for e in errors), None
    return problem(code, detail, errors=_translate(errors) if errors else None, headers=headers)


def is_api_request() -> bool:
    return request.path.startswith("/api/")


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details (documentation of every error answer)."""

    type = ma.fields.String(metadata={"description": "Toujours « about:blank »."})
    title = ma.fields.String(metadata={"description": "Le titre du problème, en français."})
    status = ma.fields.Integer(metadata={"description": "Le code HTTP."})
    detail = ma.fields.String(metadata={"description": "L'explication, en français."})
    errors = ma.fields.Dict(metadata={"description": "Par champ, les messages d'erreur en français."})
