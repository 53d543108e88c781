"""Sign-in, sign-out, password reset and invitations (staff, admins and GPs)."""

from guichet.web.auth import two_factor as _two_factor  # noqa: F401 (route modules register themselves on bp)
from guichet.web.auth import views  # noqa: F401 (route modules register themselves on bp)
from guichet.web.auth.blueprint import bp

__all__ = ["bp"]
