"""Issue 13: the patient learns who their GP is and how to reach them; GP and staff keep the practice details."""

from __future__ import annotations

from html import unescape

from sqlalchemy import select

from guichet.assignment import proposals
from guichet.messaging import delivery, notifications
from guichet.models import AuditEvent, Notification
from tests.factories import login


def html_of(response):
    return unescape(response.get_data(as_text=True))


def _accepted(db, factory, now, **doctor_fields):
    territory = factory.territory()
    doctor = factory.doctor(territory, phone="+33475480000", **doctor_fields)
    declaration = factory.declaration(doctor, new_patients=2)
    req = factory.request(factory.patient(territory), status="waiting")
    proposal = proposals.create_draft(db, req, doctor, now=now, distance_km=3.0, declaration_id=declaration.id)
    proposals.approve_and_send(db, proposal, now=now)
    proposals.accept(db, proposal, now=now)
    return req, doctor


def test_tracking_page_names_the_accepting_gp_with_phone_booking_link_and_next_steps(client, db, factory, now):
    req, doctor = _accepted(db, factory, now, booking_url="https://rdv.exemple.fr/dr-test")
    html = html_of(client.get(f"/suivi/{req.tracking_token}"))
    assert doctor.display_name in html and "1 place de la Mairie" in html
    assert "04 75 48 00 00" in html and 'href="https://rdv.exemple.fr/dr-test"' in html
    assert "première consultation" in html and "Assurance Maladie" in html


def test_acceptance_email_and_letter_carry_the_practice_and_next_steps(db, factory, now):
    req, doctor = _accepted(db, factory, now, booking_url="https://rdv.exemple.fr/dr-test")
    message = db.scalars(select(Notification).where(Notification.template == "proposal_accepted")).one()
    text, html = notifications.render(message.template, dict(message.context))
    for body in (text, html):
        assert doctor.display_name in body and "04 75 48 00 00" in body
        assert "https://rdv.exemple.fr/dr-test" in body and "Assurance Maladie" in body
    assert delivery.letter_text(message) == text


def test_gp_edits_their_practice_details_and_bad_links_are_refused(client, db, factory, now):
    doctor = factory.doctor()
    login(client, factory.user("doctor", doctor=doctor))
    assert "Mon cabinet" in html_of(client.get("/medecin/cabinet"))
    bad = client.post("/medecin/cabinet", data={"practice_address": "2 rue Neuve", "phone": "12",
                                                "booking_url": "javascript:alert(1)"})
    page = html_of(bad)
    assert bad.status_code == 200 and "2 erreurs" in page
    db.refresh(doctor)
    assert doctor.practice_address == "1 place de la Mairie" and doctor.booking_url is None
    ok = client.post("/medecin/cabinet", data={"practice_address": "2 rue Neuve", "phone": "04 75 48 00 01",
                                               "booking_url": "https://rdv.exemple.fr/x"})
    assert ok.status_code == 302
    db.refresh(doctor)
    assert (doctor.practice_address, doctor.phone, doctor.booking_url) == \
        ("2 rue Neuve", "+33475480001", "https://rdv.exemple.fr/x")
    assert db.scalar(select(AuditEvent).where(AuditEvent.action == "doctor.practice"))


def test_staff_edit_the_practice_of_their_territory_only(client, db, factory):
    territory = factory.territory()
    mine = factory.doctor(territory)
    other = factory.doctor(factory.territory(insee=("38185",)), commune="38185")
    login(client, factory.user("staff", territory=territory))
    data = {"practice_address": "5 rue Haute", "phone": "", "booking_url": ""}
    assert client.post(f"/coordination/medecins/{mine.id}/cabinet", data=data).status_code == 302
    assert client.post(f"/coordination/medecins/{other.id}/cabinet", data=data).status_code == 404
    db.refresh(mine)
    db.refresh(other)
    assert mine.practice_address == "5 rue Haute" and other.practice_address == "1 place de la Mairie"


# --- the CPTS can be reached ---------------------------------------------------------

CONTACT = {"cpts_phone": "04 75 99 00 00", "cpts_hours": "du lundi au vendredi, de 9 h à 17 h",
           "cpts_address": "1 place de la Mairie, 26190 Saint-Jean-en-Royans", "cpts_email": "contact@cpts.example"}


def test_admin_sets_the_cpts_contact_and_a_wrong_phone_or_email_is_explained(client, db, factory):
    from tests.web.test_staff_admin import _admin, _settings_data

    territory, _ = _admin(factory, client)
    bad = client.post("/coordination/admin/reglages",
                      data=_settings_data(cpts_phone="12", cpts_email="pas une adresse"))
    page = html_of(bad)
    assert bad.status_code == 422 and "Téléphone de la CPTS" in page and "Adresse e-mail de la CPTS" in page
    db.refresh(territory)
    assert not territory.settings
    assert client.post("/coordination/admin/reglages", data=_settings_data(**CONTACT)).status_code == 302
    db.refresh(territory)
    assert territory.settings["cpts_phone"] == "+33475990000"
    assert territory.settings["cpts_hours"] == CONTACT["cpts_hours"]


def test_every_patient_page_and_message_says_how_to_reach_the_cpts_and_the_116_117(client, db, factory, now):
    territory = factory.territory()
    territory.settings = {"cpts_phone": "+33475990000", "cpts_hours": "de 9 h à 17 h",
                          "cpts_email": "contact@cpts.example", "cpts_address": ""}
    req = factory.request(factory.patient(territory), status="waiting")
    for path in ("/", "/demande/medecin-traitant", f"/suivi/{req.tracking_token}",
                 f"/suivi/{req.tracking_token}/confirmation"):
        page = html_of(client.get(path))
        assert "04 75 99 00 00" in page and "de 9 h à 17 h" in page and "116 117" in page, path
    message = notifications.notify_patient(db, req, template="request_received", subject="s",
                                           dedup_key="test", now=now,
                                           context={"tracking_url": "http://x", "kind": "mt"})
    text, html = notifications.render(message.template, dict(message.context))
    for body in (text, html):
        assert "04 75 99 00 00" in body and "contact@cpts.example" in body and "116 117" in body


# --- triage never delays an emergency; every error at once ----------------------------


def test_a_single_yes_leads_to_the_15_whatever_is_left_unanswered_and_stores_nothing(client, db):
    from tests.web.test_public_mt import counts

    before = counts(db)
    response = client.post("/demande/soins-non-programmes", data={"chest_pain": "yes"})
    html = html_of(response)
    assert response.status_code == 200 and "Appelez le 15" in html and "erreur" not in html
    assert counts(db) == before
    suicide = html_of(client.post("/demande/soins-non-programmes", data={"suicide": "yes"}))
    assert "3114" in suicide


def test_form_errors_and_rule_errors_show_together_in_one_submission(client, db, factory):
    from tests.web.test_public_mt import counts, mt_form

    factory.territory(insee=("38185",))
    before = counts(db)
    # a missing first name (the form's check) and a relative without their name (the intake rule)
    response = client.post("/demande/medecin-traitant",
                           data=mt_form(first_names="", filled_by="relative", proxy_relation="fille"))
    html = html_of(response)
    assert 'id="first_names-error"' in html and 'id="proxy_name-error"' in html
    assert counts(db) == before
