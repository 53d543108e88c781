"""Portal of the GPs (médecins généralistes)."""

from flask import Blueprint

bp = Blueprint("doctors", __name__)

from guichet.web.doctors import views  # noqa: E402,F401
