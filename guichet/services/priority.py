"""Kept import path: ``from guichet.services.priority import engine_weight`` (issue 15)."""

from guichet.assignment.priority import (
    DEFAULT_WEIGHTS,
    Situation,
    compute_priority,
    engine_weight,
    tie_break,
)

__all__ = ["DEFAULT_WEIGHTS", "Situation", "compute_priority", "engine_weight", "tie_break"]
