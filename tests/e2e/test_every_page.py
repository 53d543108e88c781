"""Every page of the console and the GP portal in a real browser: axe 0 violations, no sideways scrolling.

The pages come from tests/e2e/console_pages.py, which a fast test keeps in step with the
application's url_map. The data is the demo territory after one matching run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import url_for
from sqlalchemy.orm import Session

from guichet.clock import FrozenClock
from guichet.db import make_engine
from guichet.demo import DEMO_PASSWORD
from tests.conftest import NOW
from tests.e2e.conftest import (
    CHROMIUM,
    axe_violations,
    horizontal_overflow,
    login,
    overflowing_elements,
    serve,
)
from tests.e2e.console_pages import LOGINS, PAGES, Ids, prepare_demo

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed"),
]


@pytest.fixture(scope="module")
def demo_server(clone_database: Callable[[str], str], tmp_path_factory: pytest.TempPathFactory
                ) -> Iterator[tuple[str, Ids, Any]]:
    from guichet.web import create_app

    url = clone_database("every_page")
    instance = tmp_path_factory.mktemp("instance")
    engine = make_engine(url)
    with Session(engine) as db, db.begin():
        ids = prepare_demo(db, now=NOW, instance_path=str(instance))
    engine.dispose()
    app = create_app(clock=FrozenClock(NOW), overrides={
        "TESTING": False, "DATABASE_URL": url, "SECRET_KEY": "every-page-secret", "WTF_CSRF_ENABLED": True})
    app.instance_path = str(instance)
    with serve(app) as base:
        yield base, ids, app


def _urls(app: Any, ids: Ids, role: str) -> list[tuple[str, str]]:
    with app.test_request_context():
        return [(endpoint, url_for(endpoint, **page.args(ids)) + page.query)
                for endpoint, page in sorted(PAGES.items()) if page.role == role]


@pytest.mark.parametrize("role", ["admin", "doctor", "partner", "anonymous"])
def test_every_page_is_accessible_and_fits_1280_px(browser: Any, demo_server: tuple[str, Ids, Any],
                                                   role: str) -> None:
    base, ids, app = demo_server
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = context.new_page()
    problems: list[str] = []
    try:
        if role in LOGINS:
            login(page, base, *LOGINS[role])
        elif role == "doctor":
            login(page, base, ids.doctor_email, DEMO_PASSWORD)
        for endpoint, path in _urls(app, ids, role):
            response = page.goto(base + path)
            if response is None or response.status != 200:
                problems.append(f"{endpoint} {path}: HTTP {response.status if response else '?'}")
                continue
            if not page.url.startswith(base + path.split("?")[0]):
                problems.append(f"{endpoint} {path}: redirected to {page.url}")
                continue
            overflow = horizontal_overflow(page)
            if overflow > 0:
                problems.append(f"{endpoint} {path}: {overflow} px of horizontal scrolling at 1280 px "
                                f"{overflowing_elements(page)}")
            count, report = axe_violations(page)
            if count:
                problems.append(f"{endpoint} {path}: {count} axe violation(s)\n{report}")
    finally:
        context.close()
    assert not problems, "\n".join(problems)


def test_the_gp_portal_fits_a_phone(browser: Any, demo_server: tuple[str, Ids, Any]) -> None:
    base, ids, app = demo_server
    context = browser.new_context(viewport={"width": 390, "height": 844}, bypass_csp=True)
    page = context.new_page()
    problems = []
    try:
        login(page, base, ids.doctor_email, DEMO_PASSWORD)
        for endpoint, path in _urls(app, ids, "doctor"):
            page.goto(base + path)
            overflow = horizontal_overflow(page)
            if overflow > 0:
                problems.append(f"{endpoint} {path}: {overflow} px of horizontal scrolling at 390 px "
                                f"{overflowing_elements(page)}")
    finally:
        context.close()
    assert not problems, "\n".join(problems)


def test_an_admin_simulates_rules_sees_the_chart_and_applies_them(browser: Any, demo_server: tuple[str, Ids, Any]
                                                                  ) -> None:
    base, _, _ = demo_server
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = context.new_page()
    try:
        login(page, base, *LOGINS["admin"])
        page.goto(base + "/coordination/attribution")
        page.get_by_role("link", name="Simuler des règles").click()
        page.get_by_label("Délai d'attente maximal visé (jours, 0 : aucun)").fill("150")
        page.get_by_label("Durée simulée (jours)").fill("180")
        page.get_by_role("button", name="Simuler").click()
        page.wait_for_load_state()
        assert page.get_by_role("img", name="Compromis entre les règles").is_visible()
        assert page.get_by_role("table").filter(has_text="Premier arrivé, premier servi").is_visible()
        assert horizontal_overflow(page) == 0, overflowing_elements(page)
        count, report = axe_violations(page)
        assert count == 0, report
        page.get_by_role("button", name="Appliquer ces règles au territoire").click()
        page.wait_for_load_state()
        assert page.url.endswith("/coordination/admin/reglages")
        assert "Les règles proposées sont appliquées" in page.content()
        assert page.get_by_label("Délai d'attente maximal visé (jours, 0 : aucun)").input_value() == "150"
    finally:
        context.close()
