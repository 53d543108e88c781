"""JSON API (version 1)."""

from flask import Blueprint

bp = Blueprint("api", __name__)

from guichet.web.api import views  # noqa: E402,F401
