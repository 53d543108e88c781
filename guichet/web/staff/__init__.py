"""Console of the CPTS coordinators."""

from flask import Blueprint

bp = Blueprint("staff", __name__)

from guichet.web.staff import views  # noqa: E402,F401,I001 (one line per work stream)
from guichet.web.staff import admin_views  # noqa: E402,F401
from guichet.web.staff import import_views  # noqa: E402,F401
from guichet.web.staff import intake_views  # noqa: E402,F401
from guichet.web.staff import doctors_views  # noqa: E402,F401
from guichet.web.staff import matching_views  # noqa: E402,F401
from guichet.web.staff import jobs_views  # noqa: E402,F401
