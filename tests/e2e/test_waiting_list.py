"""The waiting list and "approve all" in a real browser, on the demo territory.

A coordinator filters the waiting list and pages through it. Then they approve every
proposal of a run: batches of ten with their progress, then each outcome. Without
JavaScript the coordinator presses "continue" between batches; with it, the page's script
(static/approve-all.js, allowed by the real Content-Security-Policy, not bypassed here)
sends the batches itself and moves the progress bar.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guichet.db import make_engine
from guichet.demo import ADMIN_EMAIL, DEMO_PASSWORD
from guichet.models import Patient, PatientRequest
from guichet.requests.identity import fold_name
from tests.e2e.conftest import (
    CHROMIUM,
    axe_violations,
    demo_server,
    horizontal_overflow,
    login,
    overflowing_elements,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed"),
]


@pytest.fixture(scope="module")
def demo(clone_database: Callable[[str], str]) -> Iterator[tuple[str, str]]:
    with demo_server(clone_database, "waiting_list") as served:
        yield served


def _references(page: Any) -> list[str]:
    return re.findall(r"MT-\d{4}-\d+", page.locator("table tbody").inner_text())


def _fits_and_passes_axe(page: Any) -> None:
    assert horizontal_overflow(page) == 0, overflowing_elements(page)
    count, report = axe_violations(page)
    assert count == 0, report


def test_a_coordinator_filters_the_waiting_list_and_pages_through_it(browser: Any, demo: tuple[str, str]) -> None:
    base, url = demo
    engine = make_engine(url)
    with Session(engine) as db:
        waiting = select(PatientRequest).join(Patient).where(PatientRequest.status == "waiting",
                                                             PatientRequest.kind == "mt")
        total = db.scalar(select(func.count()).select_from(waiting.subquery()))
        ines = [r.reference for r in db.scalars(waiting) if "ines" in fold_name(r.patient.first_names)]
    engine.dispose()
    assert total > 100 and ines
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        login(page, base, ADMIN_EMAIL, DEMO_PASSWORD)
        page.goto(f"{base}/coordination/liste-attente")
        assert f"{total} patients en attente" in page.inner_text("[role=status]")
        first_page = _references(page)
        assert len(first_page) == 50

        # waiting more than 30 days: several pages, and the filter stays on every page
        page.get_by_label("En attente depuis").select_option(label="plus de 30 jours")
        page.get_by_role("button", name="Afficher").click()
        page.wait_for_load_state()
        found = int(re.search(r"(\d+) patients en attente correspondent", page.inner_text("[role=status]")).group(1))
        assert 50 < found < total
        page.get_by_role("navigation", name="Pages").get_by_role("link", name="Page 2", exact=True).click()
        page.wait_for_load_state()
        assert "waited=30" in page.url and "page=2" in page.url
        assert page.get_by_label("En attente depuis").input_value() == "30"
        assert page.get_by_role("navigation", name="Pages").get_by_text("Page 2 sur").is_visible()
        second = _references(page)
        assert second and not set(second) & set(_references_of(page, f"{base}/coordination/liste-attente?waited=30"))
        _fits_and_passes_axe(page)

        # a name typed without its accent finds it; the CSV link keeps the search
        page.goto(f"{base}/coordination/liste-attente")
        page.get_by_label("Nom, prénom, commune ou référence").fill("INES")
        page.get_by_role("button", name="Afficher").click()
        page.wait_for_load_state()
        assert sorted(_references(page)) == sorted(ines)
        export = page.get_by_role("link", name=re.compile("Télécharger ces patients"))
        assert "q=INES" in (export.get_attribute("href") or "")
        _fits_and_passes_axe(page)

        # nothing found: said in a sentence
        page.get_by_label("Nom, prénom, commune ou référence").fill("zzz")
        page.get_by_role("button", name="Afficher").click()
        page.wait_for_load_state()
        assert page.get_by_text("Aucun patient en attente ne correspond à ces critères.").is_visible()
    finally:
        context.close()


def _references_of(page: Any, address: str) -> list[str]:
    """The references of another page of the list, read without leaving the current one."""
    html = page.request.get(address).text()
    return re.findall(r">(MT-\d{4}-\d+)</a>", html)


def expect(locator: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def _confirm_all(page: Any, run_url: str) -> int:
    page.goto(run_url)
    page.get_by_role("button", name=re.compile(r"^Valider toutes les propositions \(\d+\)")).click()
    count = int(re.search(r"Vous allez envoyer (\d+) proposition", page.inner_text("main")).group(1))
    page.get_by_role("button", name=re.compile("^Oui, envoyer")).click()
    page.wait_for_load_state()
    return count


def test_approve_all_shows_its_progress_then_the_outcome_with_and_without_javascript(
        browser: Any, demo: tuple[str, str]) -> None:
    base, _ = demo
    # without JavaScript: a "continue" button between batches
    plain = browser.new_context(viewport={"width": 1280, "height": 900}, java_script_enabled=False)
    page = plain.new_page()
    try:
        login(page, base, ADMIN_EMAIL, DEMO_PASSWORD)
        page.goto(f"{base}/coordination/attribution")
        page.get_by_role("button", name="Lancer l'attribution").click()
        page.wait_for_url("**/coordination/attribution/*")
        run_url = page.url
        total = _confirm_all(page, run_url)
        assert total > 30
        html = page.content()
        assert f'max="{total}" value="10"' in html
        assert f"10 propositions traitées sur {total} : 10 envoyées au médecin…" in html
        page.get_by_role("button", name=re.compile("^Continuer l'envoi")).click()
        page.wait_for_load_state()
        assert f"20 propositions traitées sur {total}" in page.content()
    finally:
        plain.close()

    scripted = browser.new_context(viewport={"width": 1280, "height": 900})
    page = scripted.new_page()
    blocked: list[str] = []
    page.on("console", lambda message: blocked.append(message.text)
            if "Content Security Policy" in message.text else None)
    try:
        login(page, base, ADMIN_EMAIL, DEMO_PASSWORD)
        # the progress page as it is served (its script held back): it fits and passes axe
        page.route("**/approve-all.js", lambda route: route.abort())
        left = _confirm_all(page, run_url)
        assert left == total - 20
        expect(page.get_by_role("status")).to_have_text(
            f"10 propositions traitées sur {left} : 10 envoyées au médecin…")
        _fits_and_passes_axe(page)
        page.unroute("**/approve-all.js")

        # with JavaScript (under the real CSP): the page sends the remaining batches by itself
        batches: list[str] = []

        def slow_batch(route: Any) -> None:
            # a little slower than the real thing, so that the bar is seen moving
            response = route.fetch()
            batches.append(route.request.headers.get("accept", ""))
            # not time.sleep: under CI's libfaketime it fails (EINVAL); a timed wait does not
            threading.Event().wait(0.3)
            route.fulfill(response=response)

        page.route("**/valider-tout/suite", slow_batch)
        left = _confirm_all(page, run_url)
        assert left == total - 30
        page.wait_for_function("() => { const bar = document.getElementById('approve-all-progress');"
                               " return bar && bar.value >= 20; }")
        expect(page.get_by_role("heading", name=re.compile("^Résultat de l'envoi"))).to_be_visible(timeout=30_000)
        expect(page.get_by_text(f"{left} propositions envoyées aux médecins")).to_be_visible()
        assert page.get_by_text("Envoyée au médecin").count() == left
        assert page.get_by_text("Non envoyée").count() == 0
        assert sum("application/json" in accept for accept in batches) == -(-left // 10) - 1
        assert blocked == []
        _fits_and_passes_axe(page)
    finally:
        scripted.close()
