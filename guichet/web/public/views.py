"""Public views."""

from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue

from guichet.web.public import bp


@bp.get("/")
def home() -> ResponseReturnValue:
    return render_template("public/home.html")


@bp.get("/donnees-personnelles")
def privacy() -> ResponseReturnValue:
    return render_template("public/privacy.html")
