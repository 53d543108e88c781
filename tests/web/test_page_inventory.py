"""Every GET page of the console and the GP portal is known to the every-page browser test."""

from __future__ import annotations

from tests.e2e.console_pages import NOT_PAGES, PAGES, get_endpoints, uncovered


def test_every_get_route_is_visited_by_the_browser_test(app):
    missing = uncovered(app)
    assert not missing, (
        "These GET routes are not in tests/e2e/console_pages.py (PAGES, or NOT_PAGES with why): "
        + ", ".join(missing))


def test_the_inventory_lists_no_route_that_does_not_exist(app):
    endpoints = get_endpoints(app)
    assert set(PAGES) | set(NOT_PAGES) <= endpoints
