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
    for path in ("/", "/demande/medecin-traitant", f"/suivi/{req.tracking_token}", "/demande/recue/mt"):
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


# --- same-day care, end to end ---------------------------------------------------------


def _snp_booked(db, factory, now, *, days=2, hours=0, **patient_fields):
    from datetime import timedelta

    from guichet.doctors import slots

    territory = factory.territory()
    doctor = factory.doctor(territory, phone="+33475480000")
    slot = factory.slot(doctor, start=now + timedelta(days=days, hours=hours))
    req = factory.request(factory.patient(territory, **patient_fields), kind="snp")
    slots.book(db, slot.id, req, now=now, base_url="http://guichet.test")
    return territory, doctor, slot, req


def test_booked_appointment_shows_on_the_tracking_page_and_in_the_email_in_paris_time(client, db, factory, now):
    _, doctor, slot, req = _snp_booked(db, factory, now)
    html = html_of(client.get(f"/suivi/{req.tracking_token}"))
    # 2 days after 24/11 09:00 UTC: Thursday 26 at 10 h in Paris
    assert "jeudi 26 novembre 2026 à 10 h" in html and doctor.display_name in html
    assert "04 75 48 00 00" in html and "Annuler le rendez-vous" in html
    message = db.scalars(select(Notification).where(Notification.template == "snp_booked")).one()
    text, _ = notifications.render(message.template, dict(message.context))
    assert "jeudi 26 novembre 2026 à 10 h" in text and f"/suivi/{req.tracking_token}" in text
    assert "2026-11-26" not in text


def test_patient_without_email_and_a_close_appointment_is_called_not_sent_a_letter(client, db, factory, now):
    territory, _, _, req = _snp_booked(db, factory, now, days=1, email=None, contact_preference="phone")
    assert db.scalar(select(Notification).where(Notification.template == "snp_booked")) is None
    login(client, factory.user("staff", territory=territory))
    page = html_of(client.get("/coordination/rendez-vous"))
    assert "Patients à appeler (1)" in page and req.patient.display_name in page and "06 12 34 56 78" in page
    assert db.scalar(select(AuditEvent).where(AuditEvent.action == "snp.appointments"))
    assert client.post(f"/coordination/rendez-vous/{req.id}/appele").status_code == 302
    assert "appel noté" in html_of(client.get("/coordination/rendez-vous"))


def test_appointments_view_groups_by_day_and_filters_by_gp(client, db, factory, now):
    territory, doctor, _, req = _snp_booked(db, factory, now, days=0, hours=3)
    login(client, factory.user("staff", territory=territory))
    page = html_of(client.get("/coordination/rendez-vous"))
    assert "Aujourd'hui (1)" in page and "Demain (0)" in page and req.reference in page
    other = factory.doctor(territory)
    filtered = html_of(client.get(f"/coordination/rendez-vous?medecin={other.id}"))
    assert "Aujourd'hui (0)" in filtered and req.reference not in filtered


def test_gp_portal_lists_booked_patients_with_identity_and_the_read_is_audited(client, db, factory, now):
    _, doctor, _, req = _snp_booked(db, factory, now)
    login(client, factory.user("doctor", doctor=doctor))
    page = html_of(client.get("/medecin/creneaux"))
    assert req.patient.display_name in page and "14 mars 1950" in page
    assert db.scalar(select(AuditEvent).where(AuditEvent.action == "snp.view_by_doctor"))


def test_patient_cancelling_frees_the_slot_and_tells_the_gp_and_the_cpts(client, db, factory, now):
    territory, doctor, slot, req = _snp_booked(db, factory, now)
    staff = factory.user("staff", territory=territory)
    db.commit()
    response = client.post(f"/suivi/{req.tracking_token}/retirer")
    assert response.status_code == 302
    db.expire_all()
    assert slot.status == "free" and req.status == "withdrawn"
    recipients = set(db.scalars(select(Notification.recipient_email).where(
        Notification.template.in_(("snp_cancelled_by_patient", "snp_released_alert")))))
    assert recipients == {doctor.email, staff.email}


def test_gp_cancelling_puts_the_request_first_on_the_board(db, factory, now):
    from guichet.assignment import snp_board
    from guichet.doctors import slots

    territory, _, slot, req = _snp_booked(db, factory, now)
    urgent = factory.request(factory.patient(territory, is_ald=True), kind="snp", waited_days=30)
    slots.cancel(db, slot, now=now, reason="absent")
    requests = snp_board.board(db, territory, now=now)["requests"]
    assert [r.id for r in requests][:2] == [req.id, urgent.id]


def test_online_snp_request_is_on_the_board_at_once_with_what_is_urgent(db, factory, now):
    from guichet.assignment import snp_board
    from guichet.requests import intake

    territory = factory.territory()
    assert intake.initial_status("snp", "web", territory) == "waiting"
    assert intake.initial_status("mt", "web", territory) == "waiting"  # issue 14: unless mt_web_review
    # available this morning only (09:00 UTC is 10 h in Paris): ends at 12 h, no slot at all
    req = factory.request(factory.patient(territory), kind="snp",
                          snp_availability=[{"day": "2026-11-24", "period": "morning"}])
    data = snp_board.board(db, territory, now=now)
    assert data["urgency"][req.id] == ["Disponible jusqu'à 12 h seulement", "Aucun créneau libre ne convient"]


def test_reminder_goes_the_day_before_once(db, factory, now):
    from datetime import timedelta

    from guichet.doctors import appointments

    _, _, slot, req = _snp_booked(db, factory, now, days=2)
    assert appointments.send_reminders(db, now=now + timedelta(hours=8))["reminders"] == 0  # not tomorrow yet
    day_before = now + timedelta(days=1, hours=8)
    assert appointments.send_reminders(db, now=day_before)["reminders"] == 1
    appointments.send_reminders(db, now=day_before)
    assert len(db.scalars(select(Notification).where(Notification.template == "snp_reminder")).all()) == 1


# --- a code a person can read on the phone ------------------------------------------------


def test_short_codes_use_crockford_base32_and_forgive_misread_letters():
    from guichet.identifiers import CROCKFORD, format_short_code, new_short_code, normalise_short_code

    code = new_short_code()
    assert len(code) == 8 and set(code.encode()) <= set(CROCKFORD) and not set(code) & set("ILOU")
    assert normalise_short_code(format_short_code(code).lower()) == code
    assert normalise_short_code("ab1o-il0z") == "AB10110Z"


def test_find_my_request_with_reference_code_and_birth_date(client, db, factory):
    req = factory.request(status="waiting")
    good = {"reference": req.reference.lower(), "code": f" {req.short_code[:4]}-{req.short_code[4:]} ".lower(),
            "birth_date": "14/03/1950"}
    response = client.post("/suivre", data=good)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/suivi/{req.tracking_token}")
    wrong_code = client.post("/suivre", data={**good, "code": "ZZZZZZZZ"})
    wrong_birth = client.post("/suivre", data={**good, "birth_date": "15/03/1950"})
    wrong_reference = client.post("/suivre", data={**good, "reference": "MT-1999-000001"})
    for response in (wrong_code, wrong_birth, wrong_reference):
        # the same message whichever is wrong, never next to one field
        page = html_of(response)
        assert "Nous ne trouvons pas de demande" in page and "field-error" not in page
    assert wrong_code.status_code == wrong_birth.status_code == wrong_reference.status_code == 422


def test_find_my_request_is_rate_limited_and_says_what_is_missing(client, app, factory):
    app.config["RATE_LIMIT_TRACKING_PER_HOUR"] = 2
    empty = html_of(client.post("/suivre", data={}))
    assert "Indiquez le numéro de la demande" in empty and "Indiquez le code de suivi" in empty
    for _ in range(2):
        client.post("/suivre", data={"reference": "MT-2026-000001", "code": "ABCDEFGH", "birth_date": "01/01/1950"})
    blocked = client.post("/suivre", data={"reference": "MT-2026-000001", "code": "ABCDEFGH",
                                           "birth_date": "01/01/1950"})
    assert blocked.status_code == 429


def test_the_code_is_on_the_tracking_page_and_every_patient_message(client, db, factory, now):
    from guichet.identifiers import format_short_code

    req = factory.request(status="waiting")
    shown = format_short_code(req.short_code)
    assert shown in html_of(client.get(f"/suivi/{req.tracking_token}"))
    message = notifications.notify_patient(db, req, template="request_received", subject="s", dedup_key="code",
                                           now=now, context={"tracking_url": "http://x", "kind": "mt"})
    assert all(shown in body for body in notifications.render(message.template, dict(message.context)))


# --- letters in one go ------------------------------------------------------------------


def test_all_pending_letters_print_as_one_page_and_are_marked_printed_in_one_action(client, db, factory, now):
    territory = factory.territory()
    staff = factory.user("staff", territory=territory)
    letters = []
    for n in range(3):
        req = factory.request(factory.patient(territory, email=None, contact_preference="letter"))
        letters.append(notifications.notify_patient(db, req, template="request_received", subject="Votre demande",
                                                    dedup_key=f"letter{n}", now=now,
                                                    context={"tracking_url": "http://x", "kind": "mt"}))
    other = factory.territory(insee=("38185",))
    foreign = notifications.notify_patient(
        db, factory.request(factory.patient(other, commune="38185", email=None, contact_preference="letter")),
        template="request_received", subject="s", dedup_key="foreign", now=now,
        context={"tracking_url": "http://x", "kind": "mt"})
    login(client, staff)
    page = html_of(client.get("/coordination/courriers/tout-imprimer"))
    assert page.count('class="letter"') == 3 and "3 courriers" in page
    response = client.post("/coordination/courriers/imprimes",
                           data={"letter": [str(n.id) for n in letters] + [str(foreign.id)]})
    assert response.status_code == 302
    db.expire_all()
    assert [n.status for n in letters] == ["printed"] * 3 and foreign.status == "pending"
    assert "3 courriers marqués comme imprimés" in html_of(client.get("/coordination/courriers"))


# --- a demo that tells the truth ------------------------------------------------------------


def test_admin_runs_the_delivery_now_and_staff_cannot(client, db, factory):
    from guichet.models import JobRun

    territory = factory.territory()
    staff = factory.user("staff", territory=territory)
    login(client, staff)
    assert "Lancer maintenant" not in html_of(client.get("/coordination/taches"))
    assert client.post("/coordination/taches/delivery/lancer").status_code == 403
    client.post("/deconnexion")
    login(client, factory.user("admin", territory=territory))
    assert "Lancer maintenant" in html_of(client.get("/coordination/taches"))
    response = client.post("/coordination/taches/publication/lancer")
    assert response.status_code == 302
    assert db.scalar(select(JobRun).where(JobRun.job_id == "publication")) is not None
    assert "Publication des listes" in html_of(client.get("/coordination/taches"))
    assert client.post("/coordination/taches/retention/lancer").status_code == 302  # not offered: nothing runs
    assert db.scalar(select(JobRun).where(JobRun.job_id == "retention")) is None


def test_withdrawn_page_links_to_a_new_request(client, factory):
    req = factory.request(status="waiting")
    client.post(f"/suivi/{req.tracking_token}/retirer")
    page = html_of(client.get(f"/suivi/{req.tracking_token}"))
    assert "Faire une nouvelle demande" in page and 'href="/demande/medecin-traitant"' in page


# --- French everywhere a person reads -----------------------------------------------------


def test_messages_read_dates_decimals_and_plurals_the_french_way():
    text, html = notifications.render("proposal_to_gp", {
        "doctor_name": "Dr A", "age_group": "70–79 ans", "commune": "Oriol-en-Royans", "distance_km": 3.4,
        "answer_due": "2026-12-01", "territory_name": "CPTS Test"})
    for body in (text, html):
        assert "1er décembre 2026" in body and "3,4 km" in body and "2026-12-01" not in body
    digest, _ = notifications.render("digest_gp", {
        "doctor_name": "Dr A", "pending": 1, "nearby": 2, "radius_km": 10, "territory_name": "CPTS Test",
        "portal_url": "http://x"})
    assert "1 proposition de patient attend votre" in digest and "2 patients vivant" in digest and "(s)" not in digest


def test_staff_read_the_sent_messages_in_development_only(app, client, db, factory, now):
    territory = factory.territory()
    req = factory.request(factory.patient(territory))
    message = notifications.notify_patient(db, req, template="request_received", subject="Votre demande",
                                           dedup_key="sent", now=now,
                                           context={"tracking_url": "http://x", "kind": "mt"})
    message.status, message.sent_dt = "sent", now
    login(client, factory.user("staff", territory=territory))
    page = html_of(client.get("/coordination/taches/messages-envoyes"))
    assert "Votre demande" in page and req.reference in page
    app.config["ENV"] = "production"
    assert client.get("/coordination/taches/messages-envoyes").status_code == 404


def test_the_coordinators_request_page_shows_the_booked_appointment(client, db, factory, now):
    territory, doctor, _, req = _snp_booked(db, factory, now)
    login(client, factory.user("staff", territory=territory))
    page = html_of(client.get(f"/coordination/demandes/{req.id}"))
    assert "Rendez-vous le jeudi 26 novembre 2026 à 10 h" in page and doctor.display_name in page
