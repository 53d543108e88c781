"""Partner portal and its administration: refer, follow one's own referrals, keys shown once."""

from __future__ import annotations

from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import func, select

from guichet.models import ApiKey, AuditEvent, PatientRequest, Referral, User
from guichet.partners import referrals
from guichet.requests import intake
from tests.factories import login


@pytest.fixture
def territory(factory):
    return factory.territory(insee=("26223", "26059"))


@pytest.fixture
def hospital(factory, territory):
    return factory.partner(territory=territory, name="CH de Valence")


def referral_form(**overrides):
    data = {
        "filled_by": "professional", "proxy_phone": "04 75 00 00 00", "birth_name": "Martin",
        "first_names": "Paul", "birth_date": "02/05/1948", "sex": "M", "phone": "06 12 34 56 78",
        "postal_code": "26190", "commune_insee": "26223", "contact_preference": "phone", "max_km": "10",
        "hospital_discharge_date": "22/11/2026", "fragility_reason": "stroke", "target_delay_days": "7",
        "is_consented": "y", "submit": "Envoyer la demande",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_a_partner_refers_a_fragile_patient_who_lands_in_the_queue_with_a_target(client, db, factory, hospital):
    login(client, factory.user("partner", territory=hospital.territory, partner=hospital))
    assert "Adresser un patient" in unescape(client.get("/partenaire/").get_data(as_text=True))
    response = client.post("/partenaire/adresser", data=referral_form())
    assert response.status_code == 302, unescape(response.get_data(as_text=True))[:3000]
    referral = db.scalar(select(Referral))
    req = referral.request
    assert req.channel == "partner" and req.status == "waiting" and req.priority_breakdown["hospital_discharge"]
    assert referral.target_delay_days == 7 and referral.fragility_reason == "stroke"
    assert req.patient.proxy_profession == "CH de Valence"
    page = unescape(client.get(response.headers["Location"]).get_data(as_text=True))
    assert req.reference in page and "Recherche d'un médecin en cours" in page and "7 jours" in page

    staff = factory.user("staff", hospital.territory)
    client.post("/deconnexion")
    login(client, staff)
    queue = unescape(client.get("/coordination/demandes?status=open").get_data(as_text=True))
    assert req.reference in queue and "Délai cible : avant le 1er décembre 2026" in queue
    detail = unescape(client.get(f"/coordination/demandes/{req.id}").get_data(as_text=True))
    assert "Adressée par CH de Valence" in detail and "Patient fragile" in detail


def test_invalid_answers_are_shown_in_french_and_store_nothing(client, db, factory, hospital):
    login(client, factory.user("partner", territory=hospital.territory, partner=hospital))
    response = client.post("/partenaire/adresser", data=referral_form(is_consented=None, proxy_phone=None,
                                                                      fragility_reason="", target_delay_days="200"))
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert "L'accord du patient est nécessaire" in html and "Indiquez un numéro où la coordination" in html
    assert "Un nombre de jours entre 1 et 90." in html
    assert db.scalar(select(func.count()).select_from(PatientRequest)) == 0


def test_a_partner_sees_nothing_of_another_organisation(client, db, factory, hospital, now):
    pharmacy = factory.partner(territory=hospital.territory, kind="pharmacy", name="Pharmacie du Royans")
    data = intake.MtRequestData(birth_name="Secret", first_names="Anne", birth_date=now.date().replace(year=1950),
                                sex="F", phone="+33612345678", postal_code="26190", commune_insee="26223",
                                proxy_name="Pharmacienne", proxy_phone="0475000000", is_consented=True)
    theirs = referrals.submit_referral(db, pharmacy, data, referrals.Urgency(), now=now, base_url="http://x")
    login(client, factory.user("partner", territory=hospital.territory, partner=hospital))
    home = client.get("/partenaire/").get_data(as_text=True)
    assert "Secret" not in home and theirs.request.reference not in home
    assert client.get(f"/partenaire/adressages/{theirs.id}").status_code == 404
    assert db.scalar(select(AuditEvent).where(AuditEvent.action == "access_denied"))
    # nor anything of the coordination console
    assert client.get("/coordination/").status_code == 403
    assert client.get(f"/coordination/demandes/{theirs.request_id}").status_code == 403


def test_partner_pages_need_a_partner_account(client, factory, hospital):
    assert "/connexion" in client.get("/partenaire/").headers["Location"]
    login(client, factory.user("staff", hospital.territory))
    assert client.get("/partenaire/").status_code == 403
    assert client.get("/partenaire/adresser").status_code == 403


def test_admin_creates_a_partner_invites_a_user_and_sees_a_key_once(client, db, factory, territory):
    login(client, factory.user("admin", territory))
    response = client.post("/coordination/admin/partenaires", data={"name": "CH de Die", "kind": "hospital"})
    assert response.status_code == 302
    partner_url = response.headers["Location"]
    response = client.post(partner_url + "/utilisateurs", data={"full_name": "Infirmière de liaison",
                                                                 "email": "liaison@ch-die.fr"})
    assert response.status_code == 302
    user = db.scalar(select(User).where(User.email == "liaison@ch-die.fr"))
    assert user.role == "partner" and user.partner.name == "CH de Die" and user.password_hash is None
    page = unescape(client.post(partner_url + "/cles", data={"label": "Logiciel de sortie", "scope": "write"})
                    .get_data(as_text=True))
    key = db.scalar(select(ApiKey))
    secret = page.split('<code class="secret">')[1].split("</code>")[0]
    assert secret.startswith("gck_") and secret[:12] == key.prefix
    again = client.get(partner_url).get_data(as_text=True)
    assert secret not in again and key.prefix in again
    client.post(f"/coordination/admin/partenaires/cles/{key.id}/revoquer")
    db.refresh(key)
    assert key.revoked_dt is not None


def test_admin_forms_explain_mistakes_in_french(client, factory, territory):
    login(client, factory.user("admin", territory))
    response = client.post("/coordination/admin/partenaires", data={"name": "", "kind": "nope"})
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 422 and "Indiquez le nom de l'organisation." in html


def test_dashboard_shows_fragile_referrals_at_risk(app, client, db, factory, hospital, clock, now):
    data = intake.MtRequestData(birth_name="Fragile", first_names="Louis", birth_date=now.date().replace(year=1940),
                                sex="M", phone="+33612345678", postal_code="26190", commune_insee="26223",
                                proxy_name="Liaison", proxy_phone="0475000000", is_consented=True)
    referral = referrals.submit_referral(db, hospital, data, referrals.Urgency(fragility_reason="cardiac",
                                                                               target_delay_days=2),
                                         now=now, base_url="http://x")
    staff = factory.user("staff", hospital.territory)
    login(client, staff)
    html = unescape(client.get("/coordination/").get_data(as_text=True))
    assert "délai cible proche ou dépassé" in html and referral.request.reference in html
    clock.advance(timedelta(days=3))
    client = app.test_client()  # the first session ended with the idle timeout
    login(client, staff)
    html = unescape(client.get("/coordination/").get_data(as_text=True))
    assert "Dépassé" in html





def test_a_partner_refers_a_patient_for_same_day_care_after_the_red_flags(client, db, factory, hospital):
    login(client, factory.user("partner", territory=hospital.territory, partner=hospital))
    page = unescape(client.get("/partenaire/adresser/soins-non-programmes").get_data(as_text=True))
    assert "signes d'urgence vitale" in page and "appelez le 15" in page
    data = {"filled_by": "professional", "proxy_phone": "04 75 00 00 00", "birth_name": "Bernard",
            "first_names": "Luc", "birth_date": "1985-06-01", "sex": "M", "phone": "0612345678",
            "postal_code": "26190", "commune_insee": "26223", "contact_preference": "phone",
            "snp_category": "fever", "snp_reason": "Fièvre à 39 depuis la sortie", "snp_since": "1-2_days",
            "availability": ["today:afternoon"], "is_consented": "y", "submit": "Envoyer la demande"}
    refused = client.post("/partenaire/adresser/soins-non-programmes", data=data)
    assert refused.status_code == 422 and "Vérifiez les signes d'urgence vitale" in unescape(
        refused.get_data(as_text=True))
    response = client.post("/partenaire/adresser/soins-non-programmes", data={**data, "triage_checked": "y"})
    assert response.status_code == 302, unescape(response.get_data(as_text=True))[:2000]
    referral = db.scalar(select(Referral))
    assert referral.request.kind == "snp" and referral.request.channel == "partner"
    assert referral.request.status == "waiting" and referral.target_dt is None
