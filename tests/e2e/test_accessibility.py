"""Accessibility of the patient pages in a real browser (chromium + axe-core, WCAG 2.1 A/AA).

The real application runs in a thread on 127.0.0.1 against a file database prepared
with the migrations, the communes and one territory; the browser fills in the forms
like a patient would, with the keyboard-reachable labels.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from guichet.clock import FrozenClock
from guichet.db import make_engine
from guichet.territories import geo
from tests.conftest import NOW
from tests.e2e.conftest import CHROMIUM, WCAG, Mailbox, axe_violations, horizontal_overflow, serve

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed"),
]


@pytest.fixture(scope="module")
def a11y_database(clone_database: Callable[[str], str]) -> Iterator[tuple[str, Any]]:
    url = clone_database("a11y")
    engine = make_engine(url)
    with Session(engine) as db, db.begin():
        geo.create_territory(db, "CPTS Accessibilité", ["26223", "26059", "38185"], now=NOW)
    yield url, engine
    engine.dispose()


@pytest.fixture(scope="module")
def live_server(a11y_database: tuple[str, Any]) -> Iterator[str]:
    from guichet.web import create_app

    url, _engine = a11y_database
    app = create_app(clock=FrozenClock(NOW), overrides={"TESTING": False, "DATABASE_URL": url, "SECRET_KEY": "a11y-secret",
                      "WTF_CSRF_ENABLED": True, "RATE_LIMIT_SUBMISSIONS_PER_HOUR": 1000,
                      "RATE_LIMIT_TRACKING_PER_HOUR": 1000})
    with serve(app) as base:
        yield base


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    # a phone-sized window: the pages must work there first
    context = browser.new_context(viewport={"width": 390, "height": 844}, bypass_csp=True,
                                  java_script_enabled=True)
    page = context.new_page()
    yield page
    context.close()


def assert_accessible(page: Any, what: str) -> None:
    count, report = axe_violations(page)
    assert count == 0, f"{what}:\n{report}"


def expect(locator: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def fill_mt_request(page: Any, base: str, first_names: str) -> None:
    page.goto(f"{base}/demande/medecin-traitant")
    page.get_by_label("La personne elle-même").check()
    page.get_by_label("Nom de naissance").fill("Lefebvre")
    page.get_by_label("Prénoms").fill(first_names)
    page.get_by_label("Date de naissance").fill("1948-02-03")
    page.get_by_label("Femme").check()
    page.get_by_label("Adresse postale").fill("2 place de l'Église")
    page.get_by_label("Code postal").fill("26190")
    page.get_by_role("button", name="Rechercher la commune").click()
    page.get_by_label("Oriol-en-Royans").check()
    page.get_by_label("Numéro de téléphone", exact=True).fill("06 12 34 56 78")
    page.get_by_label("Adresse e-mail", exact=True).fill("lefebvre@exemple.fr")
    page.get_by_label("Affection de longue durée (ALD)").check()
    page.get_by_label("20 km").check()
    page.get_by_label("J'ai lu ces informations").check()
    page.get_by_role("button", name="Envoyer la demande").click()


def test_mt_request_pages_have_no_wcag_violation(page: Any, live_server: str, a11y_database: tuple[str, Any],
                                                 mailbox: Mailbox) -> None:
    page.goto(f"{live_server}/demande/medecin-traitant")
    assert_accessible(page, "formulaire médecin traitant")

    page.get_by_role("button", name="Envoyer la demande").click()
    expect(page.get_by_role("alert").first).to_be_visible()
    assert_accessible(page, "formulaire médecin traitant avec erreurs")

    fill_mt_request(page, live_server, "Odette")
    expect(page.get_by_role("heading", name="Votre demande est bien reçue")).to_be_visible()
    assert_accessible(page, "demande reçue")
    assert horizontal_overflow(page) == 0, "the page after the request scrolls sideways on a phone"

    # the tracking link comes by e-mail, never on the shared page
    tracking = mailbox.tracking_link(a11y_database[1], "lefebvre@exemple.fr")
    page.goto(tracking)
    assert_accessible(page, "suivi")

    page.get_by_role("link", name="Mettre à jour vos coordonnées").click()
    assert_accessible(page, "mise à jour des coordonnées")
    page.get_by_label("Nouveau numéro de téléphone").fill("12")
    page.get_by_role("button", name="Enregistrer").click()
    assert_accessible(page, "mise à jour des coordonnées avec erreur")

    page.goto(tracking)
    page.get_by_role("link", name="Retirer la demande").click()
    assert_accessible(page, "confirmation du retrait")
    page.get_by_role("button", name="Oui, retirer ma demande").click()
    expect(page.get_by_text("Vous avez retiré votre demande")).to_be_visible()
    assert_accessible(page, "suivi après retrait")


def test_snp_pages_have_no_wcag_violation(page: Any, live_server: str) -> None:
    page.goto(f"{live_server}/demande/soins-non-programmes")
    assert_accessible(page, "triage")

    page.get_by_role("button", name="Continuer").click()
    assert_accessible(page, "triage avec erreurs")

    for group in page.get_by_role("group").all():
        group.get_by_label("Non").check()
    page.get_by_role("button", name="Continuer").click()
    page.wait_for_url("**/demande/soins-non-programmes/demande")
    assert_accessible(page, "formulaire soins non programmés")

    page.get_by_role("button", name="Envoyer la demande").click()
    assert_accessible(page, "formulaire soins non programmés avec erreurs")

    page.goto(f"{live_server}/demande/soins-non-programmes")
    groups = page.get_by_role("group").all()
    groups[0].get_by_label("Oui").check()
    for group in groups[1:]:
        group.get_by_label("Non").check()
    page.get_by_role("button", name="Continuer").click()
    expect(page.get_by_role("heading", name="Appelez le 15 maintenant")).to_be_visible()
    assert_accessible(page, "appelez le 15")


def test_other_public_pages_have_no_wcag_violation(page: Any, live_server: str) -> None:
    for path, what in [("/", "accueil"), ("/donnees-personnelles", "données personnelles"),
                       ("/suivi/" + "x" * 32, "lien non valide")]:
        page.goto(live_server + path)
        assert_accessible(page, what)
    page.goto(f"{live_server}/demande/medecin-traitant")
    page.get_by_label("Code postal").fill("75001")
    page.get_by_role("button", name="Rechercher la commune").click()
    expect(page.get_by_role("heading", name="Votre commune n'est pas couverte par ce guichet")).to_be_visible()
    assert_accessible(page, "hors territoire")


def test_the_forms_work_without_javascript(browser: Any, live_server: str) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        fill_mt_request(page, live_server, "Simone")
        expect(page.get_by_role("heading", name="Votre demande est bien reçue")).to_be_visible()
    finally:
        context.close()


def test_the_checker_does_report_a_violation(page: Any) -> None:
    """Guard against a silent checker: an unlabelled field and an image without text must fail."""
    from axe_playwright_python.sync_playwright import Axe

    page.set_content('<html lang="fr"><head><title>t</title></head><body><main>'
                     '<img src="x.png"><input type="text"></main></body></html>')
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG}})
    assert results.violations_count >= 2
