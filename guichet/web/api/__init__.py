"""JSON API (version 1)."""

from guichet.web.api import views  # noqa: F401 (route modules register themselves on bp)
from guichet.web.api.blueprint import bp

__all__ = ["bp"]
