"""The "Simuler des règles" page: the comparison with its chart, the CSV, and applying the rules (admins)."""

from __future__ import annotations

import re

from sqlalchemy import select

from guichet.assignment.priority import DEFAULT_WEIGHTS
from guichet.models import AuditEvent
from tests.factories import login

RULES = {**{f"weight_{k}": int(v) for k, v in DEFAULT_WEIGHTS.items()}, "weight_ald": 250,
         "waiting_guarantee_days": 120, "default_patient_km": 15}


def _territory(factory):
    territory = factory.territory()
    for commune in ("26223", "26117"):
        factory.declaration(factory.doctor(territory=territory, commune=commune), new_patients=4)
    return territory


def test_the_page_starts_from_the_current_rules_and_shows_the_comparison(client, factory):
    territory = _territory(factory)
    territory.settings = {"waiting_guarantee_days": 200, "priority_weights": {"css": 120}}
    login(client, factory.user("staff", territory))
    page = client.get("/coordination/attribution/simulation").get_data(as_text=True)
    assert re.search(r'id="waiting_guarantee_days"[^>]* value="200"', page)
    assert re.search(r'<input id="weight_css"[^>]* value="120"', page)
    assert "<svg" not in page
    response = client.get("/coordination/attribution/simulation", query_string={**RULES, "days": 90, "seed": 4})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    for text in ("Premier arrivé, premier servi", "Chaque médecin choisit les plus proches", "Règles actuelles",
                 "Règles proposées", "<svg", "Compromis entre les règles", "ordres de grandeur nationaux",
                 "Seul un administrateur"):
        assert text in page
    assert "Appliquer ces règles" not in page  # coordinators compare, administrators apply


def test_wrong_inputs_are_refused_in_french(client, factory):
    login(client, factory.user("staff", _territory(factory)))
    response = client.get("/coordination/attribution/simulation",
                          query_string={**RULES, "days": 5, "seed": 1, "weight_ald": 5000})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Indiquez une durée entre 30 et 730 jours." in page and "Indiquez un nombre entre 0 et 1000." in page


def test_csv_has_one_line_per_policy(client, factory):
    login(client, factory.user("staff", _territory(factory)))
    response = client.get("/coordination/attribution/simulation.csv", query_string={**RULES, "days": 60, "seed": 1})
    lines = response.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert response.mimetype == "text/csv" and len(lines) == 5
    assert lines[1].startswith("Premier arrivé, premier servi;")


def test_an_admin_applies_the_proposed_rules_in_one_audited_step(client, factory, db):
    territory = _territory(factory)
    factory.request(patient=factory.patient(territory=territory, is_ald=True))
    admin = factory.user("admin", territory)
    login(client, admin)
    page = client.get("/coordination/attribution/simulation", query_string={**RULES, "days": 60, "seed": 1})
    assert "Appliquer ces règles au territoire" in page.get_data(as_text=True)
    response = client.post("/coordination/attribution/simulation/appliquer", data=RULES)
    assert response.status_code == 302 and response.location.endswith("/coordination/admin/reglages")
    db.refresh(territory)
    assert territory.settings["waiting_guarantee_days"] == 120
    assert territory.settings["priority_weights"]["ald"] == 250
    assert territory.settings["default_patient_km"] == 15
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "territory.settings")).one()
    assert event.user_id == admin.id and event.detail["source"] == "simulation" and event.detail["recomputed"] == 1


def test_coordinators_cannot_apply_rules(client, factory):
    territory = _territory(factory)
    login(client, factory.user("staff", territory))
    response = client.post("/coordination/attribution/simulation/appliquer", data=RULES)
    assert response.status_code in (302, 403, 404)
    assert "waiting_guarantee_days" not in (territory.settings or {})


def test_the_score_breakdown_explains_the_guarantee_points_in_french(client, factory):
    territory = _territory(factory)
    request = factory.request(patient=factory.patient(territory=territory), waited_days=150)
    login(client, factory.user("staff", territory))
    page = client.get(f"/coordination/demandes/{request.id}").get_data(as_text=True)
    assert "Délai d&#39;attente maximal visé par la CPTS bientôt atteint ou dépassé" in page
    assert "La CPTS vise un délai d&#39;attente maximal de 180 jours : à partir de 90 jours" in page


def test_the_settings_page_says_how_the_guarantee_works(client, factory):
    login(client, factory.user("admin", _territory(factory)))
    page = client.get("/coordination/admin/reglages").get_data(as_text=True)
    assert "Délai d&#39;attente maximal visé (jours, 0 : aucun)" in page
    assert "jusqu&#39;à égaler la plus forte raison de priorité au bout du délai" in page
