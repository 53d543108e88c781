"""The coordinators' request list in a real browser, on the demo territory: a search on a
commune written the way people write it, then the pages one after the other, filters kept."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guichet.db import make_engine
from guichet.demo import DEMO_PASSWORD, STAFF_EMAIL
from guichet.models import Patient, PatientRequest
from tests.e2e.conftest import CHROMIUM, axe_violations, demo_server, horizontal_overflow, login

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed"),
]

SAINT_JEAN = "26307"  # Saint-Jean-en-Royans


@pytest.fixture(scope="module")
def demo(clone_database: Callable[[str], str]) -> Iterator[tuple[str, str]]:
    with demo_server(clone_database, "queue") as served:
        yield served


def _references(page: Any) -> list[str]:
    return [text.strip() for text in page.locator("table tbody tr td:first-child a").all_inner_texts()]


def test_a_coordinator_finds_a_commune_and_walks_the_pages(browser: Any, demo: tuple[str, str]) -> None:
    base, url = demo
    engine = make_engine(url)
    with Session(engine) as db:
        open_statuses = ("to_contact", "submitted", "waiting", "proposed", "matched", "booked")
        in_saint_jean = set(db.scalars(
            select(PatientRequest.reference).join(Patient, Patient.id == PatientRequest.patient_id)
            .where(Patient.commune_insee == SAINT_JEAN, PatientRequest.status.in_(open_statuses))))
        open_mt = db.scalar(select(func.count()).select_from(PatientRequest).where(
            PatientRequest.kind == "mt", PatientRequest.status.in_(open_statuses)))
    engine.dispose()
    assert in_saint_jean and open_mt > 100  # the demo has enough for three pages

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        login(page, base, STAFF_EMAIL, DEMO_PASSWORD)
        page.goto(f"{base}/coordination/demandes")
        # the commune as people type it: abbreviated, no capital, no hyphen
        page.get_by_label("Nom, prénom, commune ou référence").fill("st jean")
        page.get_by_role("button", name="Afficher").click()
        page.wait_for_load_state()
        shown = set(_references(page))
        assert shown == in_saint_jean or (len(in_saint_jean) > 50 and shown < in_saint_jean)
        assert f"{len(in_saint_jean)}</strong> demande" in page.content()

        # the pages of the MT requests, longest wait first
        page.goto(f"{base}/coordination/demandes")
        page.get_by_label("Type").select_option("mt")
        page.get_by_label("Trier par").select_option("oldest")
        page.get_by_role("button", name="Afficher").click()
        page.wait_for_load_state()
        seen = _references(page)
        assert len(seen) == 50 and page.get_by_role("link", name="Page précédente").count() == 0
        while page.get_by_role("link", name="Page suivante").count():
            page.get_by_role("link", name="Page suivante").click()
            page.wait_for_load_state()
            # the filters stay chosen on every page
            assert page.get_by_label("Type").input_value() == "mt"
            assert page.get_by_label("Trier par").input_value() == "oldest"
            seen += _references(page)
        assert len(seen) == len(set(seen)) == open_mt
        last_page = _references(page)
        count, report = axe_violations(page)
        assert count == 0, report
        assert horizontal_overflow(page) == 0
        page.get_by_role("link", name="Page précédente").click()
        page.wait_for_load_state()
        before_last = _references(page)
        assert len(before_last) == 50 and seen[-len(last_page) - 50:-len(last_page)] == before_last
        page.get_by_role("link", name="Première page").click()
        page.wait_for_load_state()
        assert _references(page) == seen[:50]
    finally:
        context.close()
