"""A readable page of the API's documentation, made from its OpenAPI description (no script)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template
from flask.typing import ResponseReturnValue

from guichet.web.api.problems import MESSAGES

docs_bp = Blueprint("apidocs", __name__)

METHODS = ("get", "post", "put", "patch", "delete")


def _schema_name(ref: dict[str, Any]) -> str:
    return str(ref.get("$ref", "")).rsplit("/", 1)[-1]


@docs_bp.get("/documentation")
def docs() -> ResponseReturnValue:
    spec = current_app.extensions["guichet"]["api"].spec.to_dict()
    operations = []
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                op = item[method]
                operations.append({"method": method.upper(), "path": path, "summary": op.get("summary", ""),
                                   "description": op.get("description", ""),
                                   "secured": bool(op.get("security")),
                                   "parameters": op.get("parameters", []),
                                   "body": _body_schema(op),
                                   "responses": {code: _response_text(code, r)
                                                 for code, r in sorted(op.get("responses", {}).items())}})
    schemas = spec.get("components", {}).get("schemas", {})
    return render_template("api/docs.html", spec=spec, operations=operations, schemas=schemas)


def _response_text(code: str, response: dict[str, Any]) -> str:
    if code.isdigit() and int(code) >= 400 or code == "default":
        title = MESSAGES.get(int(code), ("Autre erreur", ""))[0] if code.isdigit() else "Autre erreur"
        return f"{title} (problème au format application/problem+json)"
    return str(response.get("description", ""))


def _body_schema(op: dict[str, Any]) -> str | None:
    content = op.get("requestBody", {}).get("content", {})
    for media in content.values():
        return _schema_name(media.get("schema", {}))
    return None
