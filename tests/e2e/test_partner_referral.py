"""A hospital's discharge referral, end to end in a real browser.

The discharge team refers a fragile patient; the coordinator finds them in the queue with
their priority and target delay, and places them with a GP; the GP accepts; the team then
reads "Médecin trouvé", and never anything about another organisation's patients.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from guichet.assignment import arbitration
from guichet.clock import FrozenClock
from guichet.db import make_engine
from guichet.demo import ADMIN_EMAIL, DEMO_PASSWORD, PARTNER_EMAIL, load_demo
from guichet.models import PatientRequest, Proposal, Territory, User
from guichet.partners import organisations, referrals
from guichet.requests import intake
from tests.conftest import NOW
from tests.e2e.conftest import CHROMIUM, axe_violations, login, serve

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed"),
]


@pytest.fixture(scope="module")
def server(clone_database: Callable[[str], str]) -> Iterator[tuple[str, Any]]:
    from guichet.web import create_app

    url = clone_database("partner_referral")
    engine = make_engine(url)
    with Session(engine) as db, db.begin():
        load_demo(db, now=NOW)
        territory = db.scalar(select(Territory))
        assert territory is not None
        pharmacy = organisations.create_partner(db, territory, name="Pharmacie du Vercors", kind="pharmacy",
                                                now=NOW, by_id=None)
        referrals.submit_referral(db, pharmacy, intake.MtRequestData(
            birth_name="Confidentiel", first_names="Rose", birth_date=NOW.date().replace(year=1944), sex="F",
            phone="+33612345679", postal_code="26190", commune_insee="26223", proxy_name="Pharmacienne",
            proxy_phone="+33475990002", is_consented=True), referrals.Urgency(), now=NOW, base_url="http://x")
    app = create_app(clock=FrozenClock(NOW), overrides={
        "TESTING": False, "DATABASE_URL": url, "SECRET_KEY": "partner-secret", "WTF_CSRF_ENABLED": True})
    with serve(app) as base:
        yield base, engine
    engine.dispose()


def test_a_discharge_referral_is_placed_and_the_hospital_sees_a_gp_found(browser: Any,
                                                                        server: tuple[str, Any]) -> None:
    base, engine = server
    hospital = browser.new_context(viewport={"width": 1280, "height": 900})
    page = hospital.new_page()
    login(page, base, PARTNER_EMAIL, DEMO_PASSWORD)
    page.get_by_role("link", name="Adresser un patient").click()
    page.fill("#proxy_phone", "04 75 99 00 01")
    page.fill("#birth_name", "Lambert")
    page.fill("#first_names", "Marcel")
    page.fill("#birth_date", "1946-04-12")
    page.check("input[name=sex][value=M]")
    page.fill("#phone", "06 11 22 33 44")
    page.fill("#postal_code", "26190")
    page.get_by_role("button", name="Rechercher la commune").click()
    page.check("input[name=commune_insee][value='26223']")
    page.check("input[name=contact_preference][value=phone]")
    page.fill("#hospital_discharge_date", "2026-11-23")
    page.select_option("#fragility_reason", "stroke")
    page.fill("#target_delay_days", "2")
    page.check("#is_consented")
    page.get_by_role("button", name="Envoyer la demande").click()
    assert "est transmise à la coordination" in page.content()
    reference = re.search(r"Demande (MT-\d{4}-\d{6})", page.content()).group(1)  # type: ignore[union-attr]
    assert "Recherche d'un médecin en cours" in page.content()
    count, report = axe_violations(page)
    assert count == 0, report

    staff = browser.new_context(viewport={"width": 1280, "height": 900})
    console = staff.new_page()
    login(console, base, ADMIN_EMAIL, DEMO_PASSWORD)
    assert "délai cible proche ou dépassé" in console.content() and reference in console.content()
    console.goto(f"{base}/coordination/demandes?q={reference}")
    row = console.get_by_role("row").filter(has_text=reference)
    assert "Délai cible : avant le 26 novembre 2026" in row.inner_text()
    assert "Sortie d'hospitalisation récente" in row.inner_text()
    with Session(engine) as db:
        request_id = db.scalar(select(PatientRequest.id).where(PatientRequest.reference == reference))
    console.goto(f"{base}/coordination/attribution/demandes/{request_id}/attribuer")
    console.locator("input[name=doctor_id]").first.check()  # the nearest GP with a place
    console.get_by_role("button", name="Attribuer à ce médecin").click()
    assert "est attribuée à" in console.content(), console.inner_text("main")[:1500]
    with Session(engine) as db, db.begin():  # the coordinator's approval sends it to the GP
        proposal = db.scalar(select(Proposal).where(Proposal.request_id == request_id))
        assert proposal is not None
        admin = db.scalar(select(User).where(User.email == ADMIN_EMAIL))
        report_ = arbitration.approve(db, proposal.request.territory, [proposal.id], user=admin, now=NOW)
        assert report_.approved, report_
        gp_email, proposal_id = proposal.doctor.email, proposal.id

    gp = browser.new_context(viewport={"width": 1280, "height": 900})
    portal = gp.new_page()
    login(portal, base, gp_email, DEMO_PASSWORD)
    portal.goto(f"{base}/medecin/propositions/{proposal_id}")
    portal.get_by_role("button", name="Accepter ce patient").click()
    assert "Vous avez accepté ce patient" in portal.content()

    page.reload()
    assert "Médecin trouvé" in page.content()
    page.goto(f"{base}/partenaire/")
    listing = page.content()
    assert reference in listing and "Médecin trouvé" in listing
    assert "Confidentiel" not in listing and "Pharmacie du Vercors" not in listing
    for context in (hospital, staff, gp):
        context.close()
