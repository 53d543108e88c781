"""The private tracking link: status in plain French, position, contact update, withdrawal."""

from __future__ import annotations

from datetime import timedelta
from html import unescape

from sqlalchemy import select

from guichet.assignment import proposals
from guichet.doctors import capacity
from guichet.models import RequestEvent


def html_of(response):
    return unescape(response.get_data(as_text=True))


def test_tracking_page_shows_status_next_steps_and_no_identity(client, factory):
    req = factory.request(status="submitted", waited_days=0)
    response = client.get(f"/suivi/{req.tracking_token}")
    html = html_of(response)
    assert response.status_code == 200
    assert req.reference in html and "Votre demande est reçue" in html and "Délai habituel" in html
    assert req.patient.birth_name not in html and "Marie" not in html
    assert req.patient.email not in html
    assert response.headers["Cache-Control"] == "no-store"


def test_position_counts_waiting_requests_of_the_same_territory_and_kind_ahead(client, factory):
    territory = factory.territory()
    other = factory.territory(insee=("38185",))
    mine = factory.request(factory.patient(territory), waited_days=10)
    for _ in range(3):  # more urgent: waiting longer
        factory.request(factory.patient(territory), waited_days=40)
    factory.request(factory.patient(territory), waited_days=1)  # behind
    factory.request(factory.patient(territory), kind="snp", waited_days=50)  # other kind
    factory.request(factory.patient(other, commune="38185"), waited_days=90)  # other territory
    html = html_of(client.get(f"/suivi/{mine.tracking_token}"))
    assert "environ 3 demandes avant la vôtre" in html


def test_wrong_and_expired_links_get_the_same_neutral_404(client, db, factory, now):
    req = factory.request(status="withdrawn")
    req.closed_dt = now - timedelta(days=400)
    db.flush()
    wrong = client.get("/suivi/" + "A" * 32)
    expired = client.get(f"/suivi/{req.tracking_token}")
    garbage = client.get("/suivi/%3Cscript%3E")
    assert wrong.status_code == expired.status_code == garbage.status_code == 404
    assert wrong.get_data() == expired.get_data() == garbage.get_data()
    assert "Ce lien de suivi n'est pas valide" in html_of(wrong)


def test_tracking_lookups_are_rate_limited(client, app, factory):
    app.config["RATE_LIMIT_TRACKING_PER_HOUR"] = 3
    req = factory.request()
    for _ in range(3):
        client.get("/suivi/" + "B" * 32)
    assert client.get(f"/suivi/{req.tracking_token}").status_code == 429


def test_withdraw_asks_for_confirmation_then_closes_the_request(client, db, factory):
    req = factory.request(status="waiting")
    page = client.get(f"/suivi/{req.tracking_token}/retirer")
    assert page.status_code == 200 and "Oui, retirer ma demande" in html_of(page)
    assert req.status == "waiting"  # a GET changes nothing
    response = client.post(f"/suivi/{req.tracking_token}/retirer")
    assert response.status_code == 302
    db.refresh(req)
    assert req.status == "withdrawn" and req.closed_dt is not None
    event = db.scalars(select(RequestEvent).where(RequestEvent.request_id == req.id)
                       .order_by(RequestEvent.id.desc())).first()
    assert event.actor == "patient" and event.to_status == "withdrawn"
    html = html_of(client.get(response.headers["Location"]))
    assert "Vous avez retiré votre demande" in html and "Retirer la demande" not in html


def test_withdrawing_a_proposed_request_gives_the_gp_place_back(client, db, factory, now):
    territory = factory.territory()
    doctor = factory.doctor(territory)
    declaration = factory.declaration(doctor, new_patients=1)
    req = factory.request(factory.patient(territory), status="waiting")
    proposal = proposals.create_draft(db, req, doctor, now=now, distance_km=3.0, declaration_id=declaration.id)
    proposals.approve_and_send(db, proposal, now=now)
    assert capacity.remaining_by_doctor(db, [doctor.id], now=now)[doctor.id][1] == 0
    client.post(f"/suivi/{req.tracking_token}/retirer")
    db.expire_all()
    assert req.status == "withdrawn" and proposal.status == "cancelled"
    assert capacity.remaining_by_doctor(db, [doctor.id], now=now)[doctor.id][1] == 1


def test_cancelling_a_booked_snp_appointment_frees_the_slot_and_tells_the_gp(client, db, factory, now):
    from datetime import timedelta

    from sqlalchemy import select

    from guichet.doctors import slots
    from guichet.models import Notification

    territory = factory.territory()
    doctor = factory.doctor(territory=territory)
    slot = factory.slot(doctor, start=now + timedelta(days=2))
    req = factory.request(kind="snp", patient=factory.patient(territory=territory))
    slots.book(db, slot.id, req, now=now)
    db.commit()
    client.post(f"/suivi/{req.tracking_token}/retirer")
    db.expire_all()
    assert req.status == "withdrawn"
    assert slot.status == "free" and slot.request_id is None
    assert db.scalar(select(Notification).where(Notification.template == "snp_cancelled_by_patient",
                                                Notification.recipient_email == doctor.email))


def test_update_contact_changes_only_what_is_filled_and_keeps_history(client, db, factory):
    req = factory.request(status="waiting")
    old_email = req.patient.email
    page = html_of(client.get(f"/suivi/{req.tracking_token}/coordonnees"))
    assert "•• 78" in page and old_email not in page  # masked, never shown in full
    response = client.post(f"/suivi/{req.tracking_token}/coordonnees",
                           data={"phone": "06 98 76 54 32", "email": "", "address": ""})
    assert response.status_code == 302
    db.refresh(req.patient)
    assert req.patient.phone == "+33698765432" and req.patient.email == old_email
    event = db.scalars(select(RequestEvent).where(RequestEvent.request_id == req.id, RequestEvent.kind == "edit")).one()
    assert event.actor == "patient" and "phone" in event.reason


def test_update_contact_rejects_an_invalid_phone_next_to_the_field(client, db, factory):
    req = factory.request(status="waiting")
    response = client.post(f"/suivi/{req.tracking_token}/coordonnees", data={"phone": "12"})
    html = html_of(response)
    assert response.status_code == 200 and 'id="phone-error"' in html and "chiffres" in html
    db.refresh(req.patient)
    assert req.patient.phone == "+33612345678"


def test_update_contact_of_a_proxy_request_changes_the_helpers_contact(client, db, factory):
    territory = factory.territory()
    patient = factory.patient(territory, filled_by="professional", proxy_name="Paul Durand",
                              proxy_profession="Pharmacien", proxy_phone="+33611111111")
    req = factory.request(patient)
    client.post(f"/suivi/{req.tracking_token}/coordonnees", data={"phone": "0622222222"})
    db.refresh(patient)
    assert patient.proxy_phone == "+33622222222" and patient.phone == "+33612345678"


def test_closed_request_contact_cannot_change(client, db, factory):
    req = factory.request(status="withdrawn")
    response = client.post(f"/suivi/{req.tracking_token}/coordonnees", data={"phone": "0622222222"})
    assert response.status_code == 302
    db.refresh(req.patient)
    assert req.patient.phone == "+33612345678"


def test_changing_the_email_tells_the_previous_address_without_the_new_one(client, db, factory):
    from guichet.models import Notification

    req = factory.request(status="waiting")
    old_email = req.patient.email
    client.post(f"/suivi/{req.tracking_token}/coordonnees",
                data={"phone": "", "email": "nouvelle.adresse@exemple.fr", "address": ""})
    notice = db.scalars(select(Notification).where(Notification.template == "contact_changed")).one()
    assert notice.recipient_email == old_email and notice.request_id == req.id
    assert "nouvelle.adresse" not in str(notice.context)
    client.post(f"/suivi/{req.tracking_token}/coordonnees", data={"phone": "06 98 76 54 32", "email": "", "address": ""})
    assert len(db.scalars(select(Notification).where(Notification.template == "contact_changed")).all()) == 1
