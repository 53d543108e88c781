"""Issue 13's two journeys in a real browser: the patient learns who their GP is, and a same-day
appointment is seen by the patient, the coordinators and the GP until the patient cancels it.

The real application runs in a thread against a file database; the browser plays the patient,
the coordinator and the GP. Only the matching run is done by the services (its own pages are
tested elsewhere): everything a person reads or clicks here is the real page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from guichet.accounts import users
from guichet.assignment import proposals
from guichet.clock import FrozenClock
from guichet.db import make_engine
from guichet.models import CapacityDeclaration, Doctor, PatientRequest, Slot
from guichet.territories import geo
from tests.conftest import NOW
from tests.e2e.conftest import CHROMIUM, Mailbox, axe_violations, horizontal_overflow, login, serve

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed"),
]
PASSWORD = "Journée-de-test-2026"


@pytest.fixture(scope="module")
def world(clone_database: Callable[[str], str]) -> Iterator[dict[str, Any]]:
    from guichet.web import create_app

    url = clone_database("loop")
    engine = make_engine(url)
    with Session(engine) as db, db.begin():
        territory = geo.create_territory(db, "CPTS Boucle", ["26223", "26059", "38185"], now=NOW)
        territory.settings = {"cpts_phone": "+33475990000", "cpts_hours": "du lundi au vendredi, de 9 h à 17 h"}
        commune = geo.get_commune(db, "26223")
        doctor = Doctor(rpps="10000000006", first_name="Claire", last_name="Fontaine", email="fontaine@exemple.fr",
                        phone="+33475480000", practice_address="4 rue du Marché", commune=commune,
                        lat=commune.lat, lon=commune.lon, territory=territory, created_dt=NOW,
                        booking_url="https://rdv.exemple.fr/dr-fontaine")
        db.add(doctor)
        db.flush()
        db.add(CapacityDeclaration(doctor=doctor, new_patients=3, max_km=30, declared_dt=NOW,
                                   valid_until=NOW.date() + timedelta(days=60)))
        # this afternoon, 14 h in Paris
        db.add(Slot(doctor=doctor, start_dt=NOW + timedelta(hours=4), end_dt=NOW + timedelta(hours=4, minutes=20),
                    created_dt=NOW))
        users.create_user(db, email="gp@exemple.fr", full_name="Claire Fontaine", role="doctor", now=NOW,
                          password=PASSWORD, doctor_id=doctor.id)
        users.create_user(db, email="coord@exemple.fr", full_name="Coordinatrice", role="staff", now=NOW,
                          password=PASSWORD, territory_id=territory.id)
        ids = {"doctor": doctor.id}
    app = create_app(clock=FrozenClock(NOW), overrides={
        "TESTING": False, "DATABASE_URL": url, "SECRET_KEY": "loop-secret", "WTF_CSRF_ENABLED": True,
        "RATE_LIMIT_SUBMISSIONS_PER_HOUR": 1000, "RATE_LIMIT_TRACKING_PER_HOUR": 1000})
    with serve(app) as base:
        yield {"base": base, "engine": engine, **ids}
    engine.dispose()


@pytest.fixture
def new_context(browser: Any) -> Iterator[Callable[[], Any]]:
    """A fresh browser context per person (patient, coordinator, GP), 1280 px wide."""
    contexts = []

    def make() -> Any:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def expect(locator: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def assert_clean(page: Any, what: str) -> None:
    count, report = axe_violations(page)
    assert count == 0, f"{what}:\n{report}"
    assert horizontal_overflow(page) == 0, f"{what}: scrolls sideways at 1280 px"


def fill_person(page: Any, birth_name: str, *, address: bool = True) -> None:
    page.get_by_label("La personne elle-même").check()
    page.get_by_label("Nom de naissance").fill(birth_name)
    page.get_by_label("Prénoms").fill("Odile")
    page.get_by_label("Date de naissance").fill("1952-04-09")
    page.get_by_label("Femme").check()
    if address:  # the SNP form asks only where the patient is now
        page.get_by_label("Adresse postale").fill("2 place de l'Église")
    page.get_by_label("Code postal").fill("26190")
    page.get_by_role("button", name="Rechercher la commune").click()
    page.get_by_label("Oriol-en-Royans").check()
    page.get_by_label("Numéro de téléphone", exact=True).fill("06 12 34 56 78")
    page.get_by_label("Adresse e-mail", exact=True).fill(f"{birth_name.lower()}@exemple.fr")


def test_mt_request_matched_and_accepted_names_the_gp_on_the_tracking_page(world: dict[str, Any],
                                                                          new_context: Callable[[], Any],
                                                                          mailbox: Mailbox) -> None:
    base = world["base"]
    patient = new_context()
    patient.goto(f"{base}/demande/medecin-traitant")
    fill_person(patient, "Garnier")
    patient.get_by_label("J'ai lu ces informations").check()
    patient.get_by_role("button", name="Envoyer la demande").click()
    patient.wait_for_url("**/demande/recue/mt")
    expect(patient.get_by_text("Nous vous les envoyons par e-mail")).to_be_visible()
    assert_clean(patient, "demande reçue")
    # the link is not on the page: the patient opens it from the e-mail they receive
    tracking = mailbox.tracking_link(world["engine"], "garnier@exemple.fr")
    patient.goto(tracking)
    expect(patient.get_by_role("heading", name="Suivi de votre demande")).to_be_visible()

    # the coordinator's review and the matching run (services; their pages are tested elsewhere)
    with Session(world["engine"]) as db, db.begin():
        req = db.scalars(select(PatientRequest).where(PatientRequest.kind == "mt")).one()
        req.status = "waiting"
        doctor = db.get(Doctor, world["doctor"])
        declaration = doctor.declarations[0]
        proposal = proposals.create_draft(db, req, doctor, now=NOW, distance_km=2.5, declaration_id=declaration.id)
        proposals.approve_and_send(db, proposal, now=NOW)

    gp = new_context()
    login(gp, base, "gp@exemple.fr", PASSWORD)
    gp.get_by_role("button", name="Accepter ce patient").first.click()
    expect(gp.get_by_text("Garnier", exact=False).first).to_be_visible()
    gp.goto(f"{base}/medecin/cabinet")
    assert_clean(gp, "cabinet du médecin")

    # the patient lost the link: the reference, the code and the birth date find the request
    with Session(world["engine"]) as db:
        reference, code = db.execute(select(PatientRequest.reference, PatientRequest.short_code)
                                     .where(PatientRequest.kind == "mt")).one()
    patient.goto(f"{base}/suivre")
    assert_clean(patient, "suivre ma demande")
    patient.get_by_label("Numéro de la demande").fill(reference)
    patient.get_by_label("Code de suivi").fill(f"{code[:4]}-{code[4:]}".lower())
    patient.get_by_label("Date de naissance de la personne concernée").fill("1952-04-09")
    patient.get_by_role("button", name="Voir ma demande").click()
    patient.wait_for_url(tracking)
    expect(patient.get_by_role("heading", name="Un médecin accepte de devenir votre médecin traitant")).to_be_visible()
    expect(patient.get_by_text("Dr Claire FONTAINE", exact=True)).to_be_visible()
    expect(patient.get_by_role("link", name="04 75 48 00 00")).to_be_visible()
    expect(patient.get_by_role("link", name="Prendre rendez-vous en ligne")).to_have_attribute(
        "href", "https://rdv.exemple.fr/dr-fontaine")
    expect(patient.get_by_text("04 75 99 00 00").first).to_be_visible()  # the CPTS, in the footer
    assert_clean(patient, "suivi après acceptation")


def test_snp_request_booked_seen_by_all_then_cancelled_frees_the_slot(world: dict[str, Any],
                                                                     new_context: Callable[[], Any],
                                                                     mailbox: Mailbox) -> None:
    base = world["base"]
    patient = new_context()
    patient.goto(f"{base}/demande/soins-non-programmes")
    for group in patient.get_by_role("group").all():
        group.get_by_label("Non").check()
    patient.get_by_role("button", name="Continuer").click()
    patient.wait_for_url("**/demande/soins-non-programmes/demande")
    fill_person(patient, "Morel", address=False)
    patient.get_by_label("Fièvre, état grippal").check()
    patient.get_by_label("Décrivez le problème en quelques mots").fill("Fièvre à 39 depuis hier soir")
    patient.get_by_label("Depuis 1 ou 2 jours").check()
    patient.get_by_label("Aujourd'hui l'après-midi").check()
    patient.get_by_label("J'ai lu ces informations").check()
    patient.get_by_role("button", name="Envoyer la demande").click()
    patient.wait_for_url("**/demande/recue/snp")
    expect(patient.get_by_text("Si votre état s'aggrave, appelez le 15.").first).to_be_visible()
    tracking = mailbox.tracking_link(world["engine"], "morel@exemple.fr")

    # on the board at once: no qualification click
    coordinator = new_context()
    login(coordinator, base, "coord@exemple.fr", PASSWORD)
    coordinator.goto(f"{base}/coordination/snp")
    row = coordinator.get_by_role("row").filter(has_text="SNP-")
    expect(row).to_have_count(1)
    assert_clean(coordinator, "tableau SNP")
    row.get_by_role("button", name="Réserver").click()
    expect(coordinator.get_by_text("Rendez-vous réservé").first).to_be_visible()

    patient.goto(tracking)
    expect(patient.get_by_role("heading", name="Votre rendez-vous est réservé")).to_be_visible()
    expect(patient.get_by_text("mardi 24 novembre 2026 à 14 h")).to_be_visible()
    expect(patient.get_by_text("Dr Claire FONTAINE", exact=True)).to_be_visible()
    assert_clean(patient, "suivi avec rendez-vous")

    coordinator.goto(f"{base}/coordination/rendez-vous")
    expect(coordinator.get_by_role("heading", name="Aujourd'hui (1)")).to_be_visible()
    expect(coordinator.get_by_role("link", name="MOREL Odile")).to_be_visible()
    assert_clean(coordinator, "rendez-vous SNP")

    gp = new_context()
    login(gp, base, "gp@exemple.fr", PASSWORD)
    gp.goto(f"{base}/medecin/creneaux")
    expect(gp.get_by_text("MOREL Odile")).to_be_visible()

    patient.get_by_role("link", name="Annuler le rendez-vous").click()
    assert_clean(patient, "confirmation de l'annulation")
    patient.get_by_role("button", name="Oui, annuler mon rendez-vous").click()
    expect(patient.get_by_text("Votre rendez-vous est annulé")).to_be_visible()

    gp.reload()
    expect(gp.get_by_text("MOREL Odile")).to_have_count(0)
    with Session(world["engine"]) as db:
        assert db.scalars(select(Slot.status)).all() == ["free"]
