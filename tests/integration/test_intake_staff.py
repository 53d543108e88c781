"""Phone intake by coordinators: same forms, their territory only, audited."""

from __future__ import annotations

from sqlalchemy import func, select

from guichet.models import AuditEvent, Notification, PatientRequest
from tests.factories import login


def mt_form(**overrides):
    data = {
        "filled_by": "self", "birth_name": "Roux", "first_names": "Albert", "birth_date": "14/03/1940",
        "sex": "M", "phone": "04 75 12 34 56", "address": "Le Village", "postal_code": "26190",
        "commune_insee": "26223", "max_km": "5", "contact_preference": "letter", "is_consented": "y",
        "submit": "Envoyer la demande",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_phone_intake_goes_straight_to_waiting_audited_with_letter(client, db, factory):
    territory = factory.territory()
    staff = factory.user("staff", territory)
    login(client, staff)
    assert client.get("/coordination/demandes/nouvelle-mt").status_code == 200
    response = client.post("/coordination/demandes/nouvelle-mt", data=mt_form())
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    req = db.scalars(select(PatientRequest).order_by(PatientRequest.id.desc())).first()
    assert req.channel == "phone" and req.status == "waiting" and req.patient.contact_preference == "letter"
    assert req.events[0].user_id == staff.id
    audit = db.scalar(select(AuditEvent).where(AuditEvent.action == "request.create",
                                               AuditEvent.object_id == req.id))
    assert audit.user_id == staff.id
    letter = db.scalar(select(Notification).where(Notification.request_id == req.id))
    assert letter.channel == "letter"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert req.reference in page and f"/suivi/{req.tracking_token}" in page
    assert f"/coordination/demandes/{req.id}" in page


def test_phone_intake_requires_oral_consent_and_has_no_honeypot(client, db, factory):
    staff = factory.user("staff", factory.territory())
    login(client, staff)
    html = client.get("/coordination/demandes/nouvelle-mt").get_data(as_text=True)
    assert "Ne pas remplir ce champ" not in html and "accord oralement" in html
    response = client.post("/coordination/demandes/nouvelle-mt", data=mt_form(is_consented=None))
    assert "accord oral" in response.get_data(as_text=True)


def test_staff_cannot_enter_a_patient_of_another_territory(client, db, factory):
    factory.territory()  # serves 26223
    mine = factory.territory(insee=("38185",))
    login(client, factory.user("staff", mine))
    before = db.scalar(select(func.count()).select_from(PatientRequest))
    response = client.post("/coordination/demandes/nouvelle-mt", data=mt_form())
    assert response.status_code == 200 and "pas de votre CPTS" in response.get_data(as_text=True)
    assert db.scalar(select(func.count()).select_from(PatientRequest)) == before


def test_phone_duplicate_points_to_the_existing_request(client, db, factory):
    territory = factory.territory()
    login(client, factory.user("staff", territory))
    client.post("/coordination/demandes/nouvelle-mt", data=mt_form())
    first = db.scalars(select(PatientRequest).order_by(PatientRequest.id.desc())).first()
    html = client.post("/coordination/demandes/nouvelle-mt", data=mt_form(birth_name="ROUX")).get_data(as_text=True)
    assert "déjà ouverte" in html and f"/coordination/demandes/{first.id}" in html


def test_phone_snp_intake_requires_the_red_flag_check(client, db, factory):
    territory = factory.territory()
    login(client, factory.user("staff", territory))
    data = mt_form(snp_category="fever", snp_reason="Fièvre", snp_since="today",
                   availability=["today:morning"], contact_preference="phone")
    html = client.post("/coordination/demandes/nouvelle-snp", data=data).get_data(as_text=True)
    assert "orientez vers le 15" in html
    response = client.post("/coordination/demandes/nouvelle-snp", data={**data, "triage_checked": "y"})
    assert response.status_code == 302
    req = db.scalars(select(PatientRequest).order_by(PatientRequest.id.desc())).first()
    assert req.kind == "snp" and req.status == "waiting" and req.channel == "phone"


def test_intake_confirmation_of_another_territory_is_denied(client, db, factory):
    other_req = factory.request(factory.patient(factory.territory()))
    login(client, factory.user("staff", factory.territory(insee=("38185",))))
    assert client.get(f"/coordination/demandes/{other_req.id}/enregistree").status_code == 404


def test_doctors_and_visitors_cannot_open_phone_intake(client, factory):
    assert client.get("/coordination/demandes/nouvelle-mt").status_code == 302
    login(client, factory.user("doctor"))
    assert client.get("/coordination/demandes/nouvelle-snp").status_code == 403
