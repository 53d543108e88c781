"""GP portal views."""

from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue

from guichet.web.doctors import bp
from guichet.web.security import doctor_required


@bp.get("/")
@doctor_required
def home() -> ResponseReturnValue:
    return render_template("doctors/home.html")
