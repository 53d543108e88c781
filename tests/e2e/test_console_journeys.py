"""A coordinator's and a GP's day in a real browser, on the demo territory.

A request submitted online is in the next run without any click; reassignment offers only
GPs with a place left now; "approve all" asks with the count and reports each proposal;
a GP refuses with a preset reason, which the coordinator reads on the request and the run.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from guichet.db import make_engine
from guichet.demo import ADMIN_EMAIL, DEMO_PASSWORD
from guichet.doctors import capacity
from guichet.models import Doctor, PatientRequest, Proposal
from tests.conftest import NOW
from tests.e2e.conftest import CHROMIUM, Mailbox, demo_server, login
from tests.e2e.test_accessibility import fill_mt_request

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed"),
]


@pytest.fixture(scope="module")
def demo(clone_database: Callable[[str], str]) -> Iterator[tuple[str, str]]:
    with demo_server(clone_database, "journeys", RATE_LIMIT_SUBMISSIONS_PER_HOUR=1000,
                     RATE_LIMIT_TRACKING_PER_HOUR=1000) as served:
        yield served


def expect(locator: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def test_a_coordinators_and_a_gps_day(browser: Any, demo: tuple[str, str], mailbox: Mailbox) -> None:
    base, url = demo
    engine = make_engine(url)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        # a patient asks online: nobody clicks anything before the next run
        fill_mt_request(page, base, "Odette")
        expect(page.get_by_role("heading", name="Votre demande est bien reçue")).to_be_visible()
        assert re.search(r"MT-\d{4}-\d+", page.content()) is None  # the number comes by e-mail
        reference = re.search(r"MT-\d{4}-\d+", mailbox.last_text(engine, "lefebvre@exemple.fr"))
        assert reference is not None
        reference = reference.group(0)
        context.clear_cookies()

        login(page, base, ADMIN_EMAIL, DEMO_PASSWORD)
        page.goto(f"{base}/coordination/attribution")
        page.get_by_role("button", name="Lancer l'attribution").click()
        page.wait_for_url("**/coordination/attribution/*")
        run_url = page.url
        with Session(engine) as db:
            request = db.scalar(select(PatientRequest).where(PatientRequest.reference == reference))
            assert request is not None and request.status in ("waiting", "proposed")
            in_run = db.scalar(select(Proposal).where(Proposal.request_id == request.id)) is not None
        if in_run:
            page.goto(f"{base}/coordination/attribution/demandes/{request.id}/attribuer")
            expect(page.get_by_text("Le patient accepte un médecin jusqu'à 20 km")).to_be_visible()
        else:
            assert reference in page.content()  # listed among the patients without proposal, with why

        # reassignment: only GPs with a place left now, with their places, radius and conditions
        page.goto(run_url)
        page.get_by_role("link", name=re.compile("^Réattribuer")).first.click()
        expect(page.get_by_role("columnheader", name="Places restantes")).to_be_visible()
        reassigned = int(re.search(r"/demandes/(\d+)/attribuer", page.url).group(1))
        offered = {int(v) for v in page.locator("input[name=doctor_id]").evaluate_all("els => els.map(e => e.value)")}
        with Session(engine) as db:
            doctors = list(db.scalars(select(Doctor)))
            now_left = capacity.remaining_by_doctor(db, [d.id for d in doctors], now=NOW, count_drafts=True,
                                                  except_request_id=reassigned)
        full = {d for d, (_, left) in now_left.items() if left == 0}
        assert offered and not offered & full
        page.locator("input[name=doctor_id]").first.check()
        page.get_by_role("button", name="Attribuer à ce médecin").click()
        expect(page.get_by_text("Cette attribution sera conservée")).to_be_visible()

        # approve all: a confirmation with the count, then the outcome of each proposal
        page.goto(run_url)
        page.get_by_role("button", name=re.compile(r"^Valider toutes les propositions \(\d+\)")).click()
        expect(page.get_by_role("heading", name=re.compile("Valider toutes les propositions"))).to_be_visible()
        count = int(re.search(r"Vous allez envoyer (\d+) proposition", page.inner_text("main")).group(1))
        page.get_by_role("button", name=re.compile("^Oui, envoyer")).click()
        # sent by batches of ten, the page's script going on by itself, then the outcome of each
        expect(page.get_by_text(f"{count} proposition{'s' if count > 1 else ''} envoyée")).to_be_visible(
            timeout=30_000)
        assert page.get_by_text("Envoyée au médecin").count() == count
        assert page.get_by_text("Non envoyée").count() == 0
        context.clear_cookies()

        # a GP refuses with a preset reason
        with Session(engine) as db:
            sent = db.scalars(select(Proposal).where(Proposal.status == "sent").order_by(Proposal.id)).first()
            assert sent is not None
            gp_email, proposal_id, request_id = sent.doctor.email, sent.id, sent.request_id
            refused_reference = sent.request.reference
        login(page, base, gp_email, DEMO_PASSWORD)
        page.goto(f"{base}/medecin/propositions/{proposal_id}")
        expect(page.get_by_text("Besoins :")).to_be_visible()
        page.get_by_role("button", name="Refuser ce patient").click()
        expect(page.get_by_text("Choisissez le motif du refus.").first).to_be_visible()
        page.get_by_label("Trop loin du cabinet").check()
        page.get_by_label("Précisions").fill("Route fermée l'hiver")
        page.get_by_role("button", name="Refuser ce patient").click()
        expect(page.get_by_text("Proposition refusée")).to_be_visible()
        context.clear_cookies()

        # the coordinator reads why, on the request and on the run
        login(page, base, ADMIN_EMAIL, DEMO_PASSWORD)
        page.goto(f"{base}/coordination/demandes/{request_id}")
        expect(page.get_by_text("Trop loin du cabinet : Route fermée l'hiver").first).to_be_visible()
        assert "(declined)" not in page.content() and "(refusée par le médecin)" in page.content()
        page.goto(run_url)
        pages = page.locator(".pagination a[href*='page=']").evaluate_all("els => els.map(e => e.href)")
        found = "Trop loin du cabinet" in page.content()
        for link in pages:
            if found:
                break
            page.goto(link)
            found = refused_reference in page.content() and "Trop loin du cabinet" in page.content()
        assert found
    finally:
        context.close()
        engine.dispose()
