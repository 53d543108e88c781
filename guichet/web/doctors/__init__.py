"""Portal of the GPs (médecins généralistes)."""

from guichet.web.doctors import views  # noqa: F401 (route modules register themselves on bp)
from guichet.web.doctors.blueprint import bp

__all__ = ["bp"]
