"""Portal of the partner organisations (hospital discharge teams, pharmacies, social services, SAS)."""

from guichet.web.partners import views  # noqa: F401 (route modules register themselves on bp)
from guichet.web.partners.blueprint import bp

__all__ = ["bp"]
