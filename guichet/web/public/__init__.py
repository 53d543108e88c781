"""Public pages for patients and those who help them."""

from guichet.web.public import views, waiting_views  # noqa: F401 (route modules register themselves on bp)
from guichet.web.public.blueprint import bp

__all__ = ["bp"]
