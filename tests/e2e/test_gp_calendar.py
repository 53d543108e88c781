"""The GP's calendar in a real browser (issue 14, item 7): a weekly pattern created, seen in the
week, edited and removed as a whole, with the errors at the top of the form and a confirmation
before deleting; the week is a list by day on a phone.

The booking in the middle is done by the service a coordinator's page calls (its own pages are
tested elsewhere): everything the GP reads or clicks here is the real page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from guichet.accounts import users
from guichet.clock import FrozenClock
from guichet.db import make_engine
from guichet.doctors import slots
from guichet.models import Doctor, Slot
from guichet.requests.records import create_request
from guichet.territories import geo
from tests.conftest import NOW
from tests.e2e.conftest import CHROMIUM, axe_violations, horizontal_overflow, login, serve
from tests.factories import Factory

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed"),
]
PASSWORD = "Agenda-de-test-2026"


@pytest.fixture(scope="module")
def world(clone_database: Callable[[str], str]) -> Iterator[dict[str, Any]]:
    from guichet.web import create_app

    url = clone_database("calendar")
    engine = make_engine(url)
    with Session(engine) as db, db.begin():
        territory = geo.create_territory(db, "CPTS Agenda", ["26223"], now=NOW)
        commune = geo.get_commune(db, "26223")
        doctor = Doctor(rpps="10000000006", first_name="Claire", last_name="Fontaine", email="fontaine@exemple.fr",
                        phone="+33475480000", practice_address="4 rue du Marché", commune=commune,
                        lat=commune.lat, lon=commune.lon, territory=territory, created_dt=NOW)
        db.add(doctor)
        db.flush()
        users.create_user(db, email="gp@exemple.fr", full_name="Claire Fontaine", role="doctor", now=NOW,
                          password=PASSWORD, doctor_id=doctor.id)
        patient = Factory(db, now=NOW).patient(territory=territory, birth_name="Morel", first_names="Odile")
        request = create_request(db, patient, kind="snp", channel="phone", status="waiting", now=NOW,
                                 submitted_dt=NOW, is_consented=True)
        ids = {"doctor": doctor.id, "request": request.id}
    app = create_app(clock=FrozenClock(NOW), overrides={
        "TESTING": False, "DATABASE_URL": url, "SECRET_KEY": "calendar-secret", "WTF_CSRF_ENABLED": True})
    with serve(app) as base:
        yield {"base": base, "engine": engine, **ids}
    engine.dispose()


def assert_clean(page: Any, what: str) -> None:
    assert horizontal_overflow(page) == 0, f"{what}: horizontal scrolling"
    count, report = axe_violations(page)
    assert count == 0, f"{what}: {report}"


def test_a_gp_creates_sees_edits_and_removes_a_weekly_pattern(browser: Any, world: dict[str, Any]) -> None:
    base = world["base"]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    gp = context.new_page()
    login(gp, base, "gp@exemple.fr", PASSWORD)
    gp.get_by_role("link", name="Mes créneaux", exact=True).click()
    expect(gp.get_by_role("heading", name="Semaine du lundi 23 novembre 2026 au dimanche 29 novembre 2026")
           ).to_be_visible()
    gp.get_by_role("link", name="Ajouter des créneaux chaque semaine").first.click()

    # a mistake: no day, a 90-minute slot; the summary is at the top, each message by its field
    gp.get_by_label("Heure du premier créneau").fill("09:00")
    gp.get_by_label("Durée d'un créneau (minutes)").fill("90")
    gp.get_by_label("Nombre de créneaux à la suite").fill("2")
    gp.get_by_label("Jusqu'au (inclus)").fill("2026-12-30")
    gp.get_by_role("button", name="Ajouter chaque semaine").click()
    summary = gp.get_by_role("alert").filter(has_text="Le formulaire contient 2 erreurs")
    expect(summary).to_be_in_viewport()
    expect(gp.locator("#minutes-error")).to_have_text("Erreur : De 10 à 60 minutes.")
    summary.get_by_role("link", name="Jours de la semaine : Cochez au moins un jour de la semaine.").click()
    assert_clean(gp, "formulaire de série avec erreurs")

    gp.get_by_label("Mercredi").check()
    gp.get_by_label("Durée d'un créneau (minutes)").fill("30")
    gp.get_by_role("button", name="Ajouter chaque semaine").click()
    expect(gp.get_by_text("Série ajoutée, tous les mercredis de 9 h à 10 h, 2 créneaux de 30 min, "
                          "jusqu'au 30/12/2026 : 12 créneaux.")).to_be_visible()
    wednesday = gp.get_by_role("region", name="mercredi 25 novembre 2026")
    expect(wednesday.get_by_text("Libre")).to_have_count(2)
    expect(wednesday.get_by_text("9 h 30", exact=True)).to_be_visible()
    expect(gp.get_by_text("12 créneaux libres à venir, 0 réservé")).to_be_visible()
    assert_clean(gp, "semaine avec une série")

    # a coordinator books the slot of Wednesday 2 December at 9:00 for Odile Morel
    with Session(world["engine"]) as db, db.begin():
        from guichet.models import PatientRequest

        slot = db.scalars(select(Slot).where(Slot.doctor_id == world["doctor"]).order_by(Slot.start_dt)).all()[2]
        slots.book(db, slot.id, db.get(PatientRequest, world["request"]), now=NOW)
    gp.get_by_role("link", name="Semaine suivante →").click()
    december = gp.get_by_role("region", name="mercredi 2 décembre 2026")
    expect(december.get_by_text("Réservé")).to_be_visible()
    expect(december.get_by_text("MOREL Odile")).to_be_visible()

    gp.get_by_role("link", name="Modifier la série tous les mercredis de 9 h à 10 h").click()
    expect(gp.get_by_text("Les créneaux réservés (1) restent inchangés")).to_be_visible()
    gp.get_by_label("Heure du premier créneau").fill("14:00")
    gp.get_by_label("Nombre de créneaux à la suite").fill("1")
    gp.get_by_role("button", name="Enregistrer la série").click()
    expect(gp.get_by_text("1 créneau réservé est conservé (mercredi 2 décembre 2026 à 9 h) : annulez-le avec un "
                          "motif si nécessaire.")).to_be_visible()
    expect(gp.get_by_text("6 créneaux libres à venir, 1 réservé")).to_be_visible()
    gp.get_by_role("link", name="Semaine suivante →").click()
    december = gp.get_by_role("region", name="mercredi 2 décembre 2026")
    expect(december.get_by_text("14 h", exact=True)).to_be_visible()
    expect(december.get_by_text("Réservé")).to_be_visible()

    gp.get_by_role("link", name="Supprimer la série tous les mercredis de 14 h à 14 h 30").click()
    expect(gp.get_by_text("6 créneaux libres à venir seront supprimés")).to_be_visible()
    expect(gp.get_by_text("1 créneau réservé est conservé")).to_be_visible()
    assert_clean(gp, "confirmation de la suppression")
    gp.get_by_role("button", name="Supprimer la série").click()
    expect(gp.get_by_text("Série supprimée. Créneaux libres à venir retirés : 6.")).to_be_visible()
    expect(gp.get_by_text("Aucune série hebdomadaire")).to_be_visible()
    with Session(world["engine"]) as db:
        assert db.scalars(select(Slot.status).where(Slot.doctor_id == world["doctor"])).all() == ["booked"]
    context.close()


def test_the_week_is_a_list_by_day_on_a_phone(browser: Any, world: dict[str, Any]) -> None:
    base = world["base"]
    context = browser.new_context(viewport={"width": 390, "height": 844})
    gp = context.new_page()
    login(gp, base, "gp@exemple.fr", PASSWORD)
    gp.goto(f"{base}/medecin/creneaux?semaine=2026-W49")
    days = gp.locator(".week-day")
    expect(days).to_have_count(7)
    lefts = {round(days.nth(i).bounding_box()["x"]) for i in range(7)}
    assert len(lefts) == 1, "the days are stacked, one under the other"
    assert horizontal_overflow(gp) == 0
    context.close()
