"""API v1: keys and scopes, referrals, anonymous figures, FHIR slots, problems in French, OpenAPI 3.1."""

from __future__ import annotations

from datetime import timedelta
from html import unescape

import pytest
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import func, select

from guichet.messaging import publication
from guichet.models import AuditEvent, PatientRequest
from guichet.partners import api_keys
from guichet.workflow import change_request_status

BODY = {
    "birth_name": "Martin", "first_names": "Paul", "birth_date": "1948-05-02", "sex": "M",
    "phone": "06 12 34 56 78", "postal_code": "26190", "commune_insee": "26223",
    "referrer_name": "Infirmière de liaison", "referrer_phone": "04 75 00 00 00",
    "discharge_date": "2026-11-22", "fragility_reason": "stroke", "target_delay_days": 7,
    "patient_consent": True,
}


@pytest.fixture
def territory(factory):
    return factory.territory(insee=("26223", "26059"))


@pytest.fixture
def hospital(factory, territory):
    return factory.partner(territory=territory, name="CH de Valence")


@pytest.fixture
def keys(db, hospital, now):
    def make(scope, partner=None):
        secret = api_keys.create_key(db, partner or hospital, label="Logiciel", scope=scope, now=now,
                                     by_id=None).secret
        return {"Authorization": f"Bearer {secret}"}
    return make


def test_health_keeps_its_answer(client):
    response = client.get("/api/v1/health")  # no scheduler ever ran here: 503 degraded (tests/web/test_health.py)
    assert response.status_code == 503 and response.json["database"] == "ok"
    assert response.json["status"] == "degraded" and response.json["scheduler"] == "late"


def test_the_openapi_description_is_3_1_and_the_docs_page_reads_it(client):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"] == "3.1.0"
    assert {"/api/v1/referrals", "/api/v1/referrals/{referral_id}", "/api/v1/fhir/Slot", "/api/v1/health",
            "/api/v1/waiting-list", "/api/v1/indicators"} <= set(spec["paths"])
    assert spec["components"]["securitySchemes"]["cle_api"]["scheme"] == "bearer"
    docs = unescape(client.get("/api/v1/documentation").get_data(as_text=True))
    assert "POST /api/v1/referrals" in docs and "Clé d'API nécessaire." in docs


def test_a_write_key_creates_a_referral_and_reads_its_status(client, db, keys):
    headers = keys("write")
    response = client.post("/api/v1/referrals", json=BODY, headers=headers)
    assert response.status_code == 201, response.json
    created = response.json
    assert created["status"] == "waiting" and created["is_gp_found"] is False
    assert created["target_delay_days"] == 7 and created["status_label"] == "Recherche d'un médecin en cours"
    status = client.get(response.headers["Location"], headers=headers).json
    assert status["reference"] == created["reference"]
    req = db.scalar(select(PatientRequest))
    change_request_status(db, req, "proposed", now=req.submitted_dt)
    change_request_status(db, req, "matched", now=req.submitted_dt)
    status = client.get(f"/api/v1/referrals/{created['id']}", headers=headers).json
    assert status["is_gp_found"] is True and status["status_label"] == "Médecin trouvé"
    calls = db.scalars(select(AuditEvent.detail).where(AuditEvent.action == "api.call")).all()
    assert [c["endpoint"] for c in calls] == ["api.create_referral", "api.get_referral", "api.get_referral"]


def test_a_same_day_care_referral(client, db, keys):
    body = {**{k: v for k, v in BODY.items() if k not in ("fragility_reason", "target_delay_days")},
            "kind": "snp", "snp_category": "fever", "snp_reason": "Fièvre à 39 depuis la sortie",
            "snp_since": "1-2_days", "availability": [{"day": "today", "period": "afternoon"}]}
    response = client.post("/api/v1/referrals", json=body, headers=keys("write"))
    assert response.status_code == 201, response.json
    assert response.json["kind"] == "snp" and response.json["reference"].startswith("SNP-")
    missing = client.post("/api/v1/referrals", json={**body, "birth_name": "Autre", "availability": []},
                          headers=keys("write"))
    assert missing.status_code == 422 and "availability" in missing.json["errors"]


def test_a_read_key_cannot_create_and_no_key_reads_nothing(client, db, keys):
    response = client.post("/api/v1/referrals", json=BODY, headers=keys("read"))
    assert response.status_code == 403 and response.content_type == "application/problem+json"
    assert response.json["title"] == "Droits insuffisants"
    response = client.get("/api/v1/referrals")
    assert response.status_code == 401 and "Bearer" in response.json["detail"]
    bad = client.get("/api/v1/referrals", headers={"Authorization": "Bearer gck_nope"})
    assert bad.status_code == 401
    assert db.scalar(select(func.count()).select_from(PatientRequest)) == 0


def test_invalid_bodies_get_french_problems_and_store_nothing(client, db, keys):
    headers = keys("write")
    response = client.post("/api/v1/referrals", json={**BODY, "patient_consent": False, "sex": "Q"}, headers=headers)
    assert response.status_code == 422 and response.content_type == "application/problem+json"
    assert "sex" in response.json["errors"]
    response = client.post("/api/v1/referrals", json={**BODY, "patient_consent": False}, headers=headers)
    assert response.status_code == 422
    assert response.json["errors"]["patient_consent"] == ["Votre accord est nécessaire pour enregistrer la demande."]
    response = client.post("/api/v1/referrals", json={"birth_name": "X"}, headers=headers)
    assert response.json["errors"]["first_names"] == ["Champ obligatoire."]
    assert db.scalar(select(func.count()).select_from(PatientRequest)) == 0


def test_a_key_reads_only_its_own_organisations_referrals_with_cursor_paging(client, db, factory, hospital, keys):
    other = factory.partner(territory=hospital.territory, kind="pharmacy")
    theirs = client.post("/api/v1/referrals", json={**BODY, "birth_name": "Autre"}, headers=keys("write", other)).json
    headers = keys("write")
    ids = [client.post("/api/v1/referrals", json={**BODY, "birth_name": f"Patient{n}"}, headers=headers).json["id"]
           for n in range(3)]
    assert client.get(f"/api/v1/referrals/{theirs['id']}", headers=headers).status_code == 404
    page = client.get("/api/v1/referrals?limit=2", headers=headers).json
    assert [r["id"] for r in page["items"]] == ids[::-1][:2] and page["next_cursor"]
    rest = client.get(f"/api/v1/referrals?limit=2&cursor={page['next_cursor']}", headers=headers).json
    assert [r["id"] for r in rest["items"]] == [ids[0]] and rest["next_cursor"] is None


def test_fhir_slots_validate_and_name_gps_by_rpps(client, db, factory, territory, keys, now):
    doctor = factory.doctor(territory=territory)
    factory.slot(doctor, start=now + timedelta(hours=2))
    factory.slot(doctor, start=now + timedelta(hours=3), status="cancelled")
    elsewhere = factory.doctor(territory=factory.territory())
    factory.slot(elsewhere, start=now + timedelta(hours=2))
    response = client.get("/api/v1/fhir/Slot", headers=keys("read"))
    assert response.status_code == 200 and response.content_type == "application/fhir+json"
    bundle = Bundle.model_validate(response.json)
    assert bundle.type == "searchset" and bundle.total == 1
    kinds = sorted(e.resource.get_resource_type() for e in bundle.entry)
    assert kinds == ["Practitioner", "Schedule", "Slot"]
    practitioner = next(e.resource for e in bundle.entry if e.resource.get_resource_type() == "Practitioner")
    assert practitioner.identifier[0].value == f"8{doctor.rpps}"


def test_waiting_list_figures_keep_small_counts_hidden(client, db, factory, territory, keys, now):
    for _ in range(2):
        factory.request(factory.patient(territory))
    assert client.get("/api/v1/waiting-list", headers=keys("read")).status_code == 404
    publication.publish(db, territory, now=now)
    data = client.get("/api/v1/waiting-list", headers=keys("read")).json
    row = next(r for r in data["rows"] if r["insee"] == "26223")
    assert row["total"] == "moins de 5" and "2" not in row.values()


def test_monthly_indicators_and_the_rate_limit(app, client, keys):
    headers = keys("read")
    data = client.get("/api/v1/indicators?year=2026", headers=headers).json
    assert data["year"] == 2026 and data["months"][-1]["month"] == "2026-11"
    app.config["RATE_LIMIT_API_PER_MINUTE"] = 2
    statuses = [client.get("/api/v1/indicators", headers=headers).status_code for _ in range(3)]
    assert statuses[-1] == 429


def test_control_characters_are_refused_as_a_french_problem(client, keys):
    response = client.get("/api/v1/referrals?cursor=1%00", headers=keys("read"))
    assert response.status_code == 400 and response.content_type == "application/problem+json"
    assert "caractère de contrôle" in response.json["detail"]


def test_unknown_addresses_and_methods_under_the_api_are_problems(client):
    response = client.get("/api/v1/nulle-part")
    assert response.status_code == 404 and response.content_type == "application/problem+json"
    response = client.delete("/api/v1/referrals")
    assert response.status_code == 405 and "POST" in response.headers["Allow"]
    assert client.get("/nulle-part").content_type.startswith("text/html")


def test_a_database_outage_is_a_503_problem(client, keys, monkeypatch):
    from sqlalchemy.exc import OperationalError

    headers = keys("read")

    def down(*_args, **_kwargs):
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    monkeypatch.setattr("guichet.partners.referrals.for_partner", down)
    response = client.get("/api/v1/referrals", headers=headers)
    assert response.status_code == 503 and response.content_type == "application/problem+json"
    assert response.headers["Retry-After"] == "60"
