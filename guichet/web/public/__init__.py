"""Public pages for patients and those who help them."""

from flask import Blueprint

bp = Blueprint("public", __name__)

from guichet.web.public import views  # noqa: E402,F401
