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
