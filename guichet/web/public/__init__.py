"""Public pages for patients and those who help them."""

from flask import Blueprint

bp = Blueprint("public", __name__)

# Route modules register themselves on bp when imported.
from guichet.web.public import views, waiting_views  # noqa: E402,F401
