"""Console of the CPTS coordinators: one blueprint, one sub-package per domain.

requests/    dashboard, request queue and page, phone intake, insurer import
assignment/  médecin traitant matching runs, review and arbitration; the waiting list
snp/         the same-day care board and its bookings
doctors/     the territory's GPs: list, registration, invitation
reporting/   indicators
admin/       accounts and settings of the territory (admins)
partners/    partner organisations, their users and API keys (admins)
jobs/        scheduled jobs, messages that failed, letters to print
"""


from guichet.web.staff.admin import views as _admin  # noqa: F401 (route modules register themselves on bp)
from guichet.web.staff.assignment import simulation as _simulation  # noqa: F401 (route modules register themselves on bp)
from guichet.web.staff.assignment import views as _assignment  # noqa: F401 (route modules register themselves on bp)
from guichet.web.staff.blueprint import bp
from guichet.web.staff.doctors import views as _doctors  # noqa: F401 (route modules register themselves on bp)
from guichet.web.staff.jobs import views as _jobs  # noqa: F401 (route modules register themselves on bp)
from guichet.web.staff.partners import views as _partners  # noqa: F401 (route modules register themselves on bp)
from guichet.web.staff.reporting import views as _reporting  # noqa: F401 (route modules register themselves on bp)
from guichet.web.staff.requests import imports as _imports  # noqa: F401 (route modules register themselves on bp)
from guichet.web.staff.requests import intake as _intake  # noqa: F401 (route modules register themselves on bp)
from guichet.web.staff.requests import views as _requests  # noqa: F401 (route modules register themselves on bp)
from guichet.web.staff.snp import views as _snp  # noqa: F401 (route modules register themselves on bp)

__all__ = ["bp"]
