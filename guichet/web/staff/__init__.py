"""Console of the CPTS coordinators."""

from flask import Blueprint

bp = Blueprint("staff", __name__)

from guichet.web.staff import views  # noqa: E402,F401
