"""Staff views."""

from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue

from guichet.web.security import staff_required
from guichet.web.staff import bp


@bp.get("/")
@staff_required
def dashboard() -> ResponseReturnValue:
    return render_template("staff/dashboard.html")
