"""Input hygiene in one place: control characters and out-of-range ids never reach the database.

A NUL byte in a form, a query string, a JSON body or a path makes PostgreSQL refuse the
statement (HTTP 500); an id beyond the database's integer makes it overflow. So every
request is checked before any view runs:

- C0 control characters (tab, line feed and carriage return excepted, as text areas send
  them) and DEL anywhere in the input → 400 with a French message;
- ids in URLs → 404 beyond a 32-bit signed integer (the ``int`` converter, and
  :func:`valid_id` for ids read elsewhere, as ``load_owned`` does).
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.routing import IntegerConverter

from guichet.web.api.problems import is_api_request, problem

#: the largest id a column can hold on every backend (PostgreSQL ``integer``)
MAX_ID = 2**31 - 1
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

REFUSED_TITLE = "Caractère non autorisé"
REFUSED_TEXT = ("Le texte envoyé contient un caractère invisible non autorisé (caractère de contrôle). "
                "Revenez en arrière, retapez le texte sans copier-coller et envoyez-le à nouveau.")


class BoundedIntConverter(IntegerConverter):
    """``<int:…>`` that matches only ids a database row can have (else the URL is a 404)."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:  # noqa: A002 - werkzeug's name
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def valid_id(value: object) -> bool:
    """True for an int that can be a row id (1 … MAX_ID)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


def has_control_characters(value: Any) -> bool:
    """True if a string, or any string inside lists and dicts, holds a refused control character."""
    if isinstance(value, str):
        return bool(_CONTROL.search(value))
    if isinstance(value, dict):
        return any(has_control_characters(k) or has_control_characters(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(has_control_characters(v) for v in value)
    return False


def _request_has_control_characters() -> bool:
    if has_control_characters(request.path):
        return True
    for values in (request.args, request.form):
        for key, items in values.lists():
            if has_control_characters(key) or has_control_characters(items):
                return True
    if request.is_json:
        return has_control_characters(request.get_json(silent=True))
    return False


def init_hygiene(app: Flask) -> None:
    """Install the bounded ``int`` converter (before any route is added) and the input check."""
    app.url_map.converters["int"] = BoundedIntConverter

    @app.before_request
    def _refuse_control_characters() -> ResponseReturnValue | None:
        if _request_has_control_characters():
            if is_api_request():
                return problem(400, REFUSED_TEXT.split(" Revenez")[0])
            return render_template("errors/error.html", title=REFUSED_TITLE, text=REFUSED_TEXT, code=400), 400
        return None
