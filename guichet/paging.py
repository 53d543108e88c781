"""Numbered pages of a list already in memory, and the page number read from a link.

One rule for every list the console pages (a run's proposals, the waiting list, the GPs):
pages count from 1, and a page past the end shows the last page (a link kept from a longer
list still lands somewhere useful, never on an empty page or an error).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Paged:
    """One page of an in-memory list; `pages` feeds templates/staff/_pagination.html."""

    rows: list[Any]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def page_number(value: str | None) -> int:
    """The page asked for in a query string: a positive whole number, else the first page."""
    text = (value or "").strip()
    return max(1, int(text)) if text.isdigit() and len(text) < 7 else 1


def paginate(rows: list[Any], page: int, per_page: int) -> Paged:
    """The page of `rows` (1-based, clamped to the existing pages: past the end is the last)."""
    pages = max(1, -(-len(rows) // per_page))
    page = min(max(1, page), pages)
    return Paged(rows[(page - 1) * per_page: page * per_page], len(rows), page, per_page)
