"""Console of the CPTS coordinators: one blueprint, one sub-package per domain.

requests/    dashboard, request queue and page, phone intake, insurer import
assignment/  médecin traitant matching runs, review and arbitration; the waiting list
snp/         the same-day care board and its bookings
doctors/     the territory's GPs: list, registration, invitation
reporting/   indicators
admin/       accounts and settings of the territory (admins)
jobs/        scheduled jobs, messages that failed, letters to print
"""


from flask import Blueprint

bp = Blueprint("staff", __name__)

from guichet.web.staff.admin import views as _admin  # noqa: E402,F401
from guichet.web.staff.assignment import views as _assignment  # noqa: E402,F401
from guichet.web.staff.doctors import views as _doctors  # noqa: E402,F401
from guichet.web.staff.jobs import views as _jobs  # noqa: E402,F401
from guichet.web.staff.reporting import views as _reporting  # noqa: E402,F401
from guichet.web.staff.requests import imports as _imports  # noqa: E402,F401
from guichet.web.staff.requests import intake as _intake  # noqa: E402,F401
from guichet.web.staff.requests import views as _requests  # noqa: E402,F401
from guichet.web.staff.snp import views as _snp  # noqa: E402,F401

__all__ = ["bp"]
