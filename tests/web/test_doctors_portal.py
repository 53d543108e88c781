"""The GP portal, page by page, and what one GP may never see or do to another's data."""

import html
import re
from datetime import date, time, timedelta

import pytest
from sqlalchemy import func, select

from guichet.assignment import proposals
from guichet.doctors import capacity, slot_patterns, slots
from guichet.models import AuditEvent, Notification, PairExclusion, Slot
from tests.conftest import NOW, create_test_app
from tests.factories import login


@pytest.fixture
def client(expiring_client):
    return expiring_client


def text(response):
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def world(db, factory):
    territory = factory.territory()
    staff = factory.user("staff", territory=territory)
    doctor_a = factory.doctor(territory=territory, first_name="Alice")
    doctor_b = factory.doctor(territory=territory, first_name="Bruno")
    user_a = factory.user("doctor", doctor=doctor_a)
    user_b = factory.user("doctor", doctor=doctor_b)
    return territory, staff, doctor_a, doctor_b, user_a, user_b


def sent_proposal(db, factory, territory, doctor, decl, **patient_fields):
    patient = factory.patient(territory=territory, **patient_fields)
    request = factory.request(patient=patient, waited_days=21)
    p = proposals.create_draft(db, request, doctor, now=NOW, declaration_id=decl.id, distance_km=3.4)
    proposals.approve_and_send(db, p, now=NOW)
    return p


# --- inbox and proposal --------------------------------------------------------------


def test_inbox_shows_what_is_needed_to_decide_and_no_identity(client, db, factory, world):
    territory, _, doctor_a, _, user_a, _ = world
    decl = factory.declaration(doctor_a, 4)
    p = sent_proposal(db, factory, territory, doctor_a, decl, birth_name="Zébulon", is_ald=True,
                      phone="+33698765432")
    login(client, user_a)
    html = text(client.get("/medecin/"))
    assert "Affection de longue durée (ALD)" in html and "70 ans ou plus" in html
    assert "70–79 ans" in html and "Oriol-en-Royans" in html and "3,4 km" in html
    assert "21 jours" in html and "1er décembre 2026" in html  # deadline: 7 days
    assert "Zébulon" not in html.upper() and "ZÉBULON" not in html and "06 98 76 54 32" not in html
    assert '<span class="number">3</span> places restantes' in re.sub(r"\s+", " ", html)
    page = text(client.get(f"/medecin/propositions/{p.id}"))
    assert "ZÉBULON" not in page and "06 98 76 54 32" not in page and "Accepter ce patient" in page
    assert db.scalar(select(AuditEvent).where(AuditEvent.action == "request.view_by_doctor")) is None


def test_accepting_shows_the_patient_next_steps_and_tells_the_patient(client, db, factory, world):
    territory, _, doctor_a, _, user_a, _ = world
    decl = factory.declaration(doctor_a, 4)
    p = sent_proposal(db, factory, territory, doctor_a, decl, birth_name="Zébulon", phone="+33698765432")
    login(client, user_a)
    response = client.post(f"/medecin/propositions/{p.id}/accepter")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/medecin/propositions/{p.id}")
    assert p.status == "accepted" and p.request.status == "matched"
    assert db.scalar(select(Notification).where(Notification.dedup_key == f"proposal:{p.id}:accepted"))
    page = text(client.get(f"/medecin/propositions/{p.id}"))
    assert "ZÉBULON Marie" in page and "06 98 76 54 32" in page and "14 mars 1950" in page
    assert "Première consultation" in page and "Assurance Maladie" in page
    audit = db.scalar(select(AuditEvent).where(AuditEvent.action == "request.view_by_doctor"))
    assert audit.user_id == user_a.id and audit.object_id == p.request_id


def test_declining_with_a_reason_requeues_the_request_and_forbids_the_pair(client, db, factory, world):
    territory, _, doctor_a, _, user_a, _ = world
    decl = factory.declaration(doctor_a, 4)
    p = sent_proposal(db, factory, territory, doctor_a, decl)
    login(client, user_a)
    response = client.post(f"/medecin/propositions/{p.id}/refuser",
                           data={"code": "too_far", "reason": "Trop loin pour les visites"})
    assert response.status_code == 302
    assert p.status == "declined" and p.decline_code == "too_far"
    assert p.decline_reason == "Trop loin pour les visites"
    assert p.request.status == "waiting" and decl.committed == 0
    assert db.scalar(select(PairExclusion).where(PairExclusion.doctor_id == doctor_a.id))
    assert "motif : Trop loin du cabinet : Trop loin pour les visites" in text(client.get(f"/medecin/propositions/{p.id}"))
    # the words are optional for a preset reason
    q = sent_proposal(db, factory, territory, doctor_a, decl)
    client.post(f"/medecin/propositions/{q.id}/refuser", data={"code": "no_place"})
    assert q.status == "declined" and q.decline_code == "no_place" and q.decline_reason is None


def test_a_refusal_needs_a_preset_reason_and_words_for_other(client, db, factory, world):
    territory, _, doctor_a, _, user_a, _ = world
    decl = factory.declaration(doctor_a, 4)
    p = sent_proposal(db, factory, territory, doctor_a, decl)
    login(client, user_a)
    page = text(client.post(f"/medecin/propositions/{p.id}/refuser", data={}))
    assert "Choisissez le motif du refus." in page and "1 erreur" in page
    page = text(client.post(f"/medecin/propositions/{p.id}/refuser", data={"code": "other", "reason": " "}))
    assert "Précisez le motif du refus." in page
    page = text(client.post(f"/medecin/propositions/{p.id}/refuser", data={"code": "bribe"}))
    assert "Choisissez" in page
    assert p.status == "sent" and p.decline_code is None


def test_the_refusal_reason_reaches_the_coordinator_in_french(client, db, factory, world):
    territory, _, doctor_a, _, user_a, _ = world
    decl = factory.declaration(doctor_a, 4)
    p = sent_proposal(db, factory, territory, doctor_a, decl)
    login(client, user_a)
    client.post(f"/medecin/propositions/{p.id}/refuser", data={"code": "already_known"})
    client.post("/deconnexion")
    login(client, factory.user("staff", territory))
    page = text(client.get(f"/coordination/demandes/{p.request_id}"))
    assert "Motif du refus :</strong> Patient déjà connu du cabinet" in page
    assert f"{doctor_a.display_name} : Patient déjà connu du cabinet" in page
    assert "(refusée par le médecin)" in page and "(declined)" not in page


def test_answering_twice_changes_nothing(client, db, factory, world):
    territory, _, doctor_a, _, user_a, _ = world
    decl = factory.declaration(doctor_a, 4)
    p = sent_proposal(db, factory, territory, doctor_a, decl)
    login(client, user_a)
    client.post(f"/medecin/propositions/{p.id}/accepter")
    response = client.post(f"/medecin/propositions/{p.id}/refuser", follow_redirects=True)
    assert "n'attend plus de réponse" in text(response)
    assert p.status == "accepted"


def test_both_follow_ups_complete_the_request(client, db, factory, world):
    territory, _, doctor_a, _, user_a, _ = world
    decl = factory.declaration(doctor_a, 4)
    p = sent_proposal(db, factory, territory, doctor_a, decl)
    login(client, user_a)
    client.post(f"/medecin/propositions/{p.id}/accepter")
    home = text(client.get("/medecin/"))
    assert "suivi à faire (1)" in home
    client.post(f"/medecin/propositions/{p.id}/suivi", data={"step": "first_consultation"})
    assert p.first_consultation_dt == NOW and p.request.status == "matched"
    response = client.post(f"/medecin/propositions/{p.id}/suivi", data={"step": "mt_declared"}, follow_redirects=True)
    assert "terminé" in text(response)
    assert p.request.status == "completed"
    assert "suivi à faire (0)" in text(client.get("/medecin/"))


def test_follow_up_before_acceptance_is_refused(client, db, factory, world):
    territory, _, doctor_a, _, user_a, _ = world
    decl = factory.declaration(doctor_a, 4)
    p = sent_proposal(db, factory, territory, doctor_a, decl)
    login(client, user_a)
    response = client.post(f"/medecin/propositions/{p.id}/suivi", data={"step": "mt_declared"},
                           follow_redirects=True)
    assert "patient que vous avez accepté" in text(response)
    assert p.mt_declared_dt is None


# --- ownership ---------------------------------------------------------------------------


def test_a_gp_sees_a_proposal_only_once_it_is_sent_to_them(client, db, factory, world):
    territory, _, doctor_a, _, user_a, _ = world
    decl = factory.declaration(doctor_a, 4)
    sent = sent_proposal(db, factory, territory, doctor_a, decl)
    draft = proposals.create_draft(db, factory.request(patient=factory.patient(territory=territory)), doctor_a,
                                   now=NOW, declaration_id=decl.id)
    db.commit()
    login(client, user_a)
    assert client.get(f"/medecin/propositions/{sent.id}").status_code == 200
    # a draft is the coordinators' business until they send it
    assert client.get(f"/medecin/propositions/{draft.id}").status_code == 404
    assert client.post(f"/medecin/propositions/{draft.id}/accepter").status_code == 404
    assert draft.status == "proposed"


def test_a_gp_can_neither_see_nor_answer_another_gps_proposal(client, db, factory, world):
    territory, _, doctor_a, _, user_a, user_b = world
    decl = factory.declaration(doctor_a, 4)
    p = sent_proposal(db, factory, territory, doctor_a, decl)
    accepted = sent_proposal(db, factory, territory, doctor_a, decl, birth_name="Confidentiel")
    proposals.accept(db, accepted, now=NOW)
    login(client, user_b)
    assert client.get(f"/medecin/propositions/{p.id}").status_code == 404
    assert client.get(f"/medecin/propositions/{accepted.id}").status_code == 404
    assert client.post(f"/medecin/propositions/{p.id}/accepter").status_code == 404
    assert client.post(f"/medecin/propositions/{p.id}/refuser", data={"reason": "x"}).status_code == 404
    assert client.post(f"/medecin/propositions/{accepted.id}/suivi",
                       data={"step": "first_consultation"}).status_code == 404
    assert p.status == "sent" and p.request.status == "proposed"
    assert accepted.first_consultation_dt is None
    assert db.scalar(select(PairExclusion)) is None
    denied = db.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "access_denied", AuditEvent.user_id == user_b.id))
    assert denied == 5
    home = text(client.get("/medecin/"))
    assert "À décider (0)" in home and "CONFIDENTIEL" not in home


def test_a_gp_cannot_open_a_proposal_that_staff_have_not_sent(client, db, factory, world):
    territory, _, doctor_a, _, user_a, _ = world
    decl = factory.declaration(doctor_a, 4)
    request = factory.request(patient=factory.patient(territory=territory))
    draft = proposals.create_draft(db, request, doctor_a, now=NOW, declaration_id=decl.id)
    login(client, user_a)
    assert client.get(f"/medecin/propositions/{draft.id}").status_code == 404
    assert client.post(f"/medecin/propositions/{draft.id}/accepter").status_code == 404
    assert draft.status == "proposed"


def test_a_gp_never_sees_another_gps_declarations(client, db, factory, world):
    _, _, doctor_a, _, _, user_b = world
    factory.declaration(doctor_a, 37, max_km=30, languages=["tr"])
    login(client, user_b)
    html = text(client.get("/medecin/disponibilite"))
    main = html.split('<main', 1)[1].split("</main>", 1)[0]
    assert "Déclaration en cours" not in main and "Historique" not in main
    assert ">37<" not in main and 'value="37"' not in main
    assert not re.search(r'<option[^>]*selected[^>]*value="30"', main)
    assert not re.search(r'checked[^>]*value="tr"|value="tr"[^>]*checked', main)


def test_a_gp_can_neither_cancel_nor_see_another_gps_slot(client, db, factory, world):
    territory, _, doctor_a, _, _, user_b = world
    slot = factory.slot(doctor_a, start=NOW + timedelta(days=1))
    booked = factory.slot(doctor_a, start=NOW + timedelta(days=2))
    slots.book(db, booked.id, factory.request(kind="snp", patient=factory.patient(territory=territory)), now=NOW)
    login(client, user_b)
    assert client.get(f"/medecin/creneaux/{slot.id}/annuler").status_code == 404
    assert client.post(f"/medecin/creneaux/{slot.id}/annuler").status_code == 404
    assert client.post(f"/medecin/creneaux/{booked.id}/annuler", data={"reason": "forgé"}).status_code == 404
    assert slot.status == "free" and booked.status == "booked"
    html = text(client.get("/medecin/creneaux"))
    assert html.count("Aucun créneau") == 7 and "Réservé" not in html


def test_staff_cannot_use_the_gp_portal_and_gps_cannot_use_the_gp_registration(client, world):
    _, staff, _, _, user_a, _ = world
    login(client, staff)
    assert client.get("/medecin/").status_code == 403
    assert client.get("/medecin/disponibilite").status_code == 403
    client.post("/deconnexion")
    login(client, user_a)
    assert client.get("/coordination/medecins").status_code == 403
    assert client.post("/coordination/medecins/nouveau", data={"rpps": "x"}).status_code == 403


def test_anonymous_visitors_are_sent_to_the_login_page(client, world):
    for url in ("/medecin/", "/medecin/disponibilite", "/medecin/creneaux", "/medecin/propositions/1"):
        response = client.get(url)
        assert response.status_code == 302 and "/connexion" in response.headers["Location"]


def test_a_forged_post_without_csrf_token_is_refused(sessions, database_url, db, factory, world):
    territory, _, doctor_a, _, user_a, _ = world
    decl = factory.declaration(doctor_a, 4)
    p = sent_proposal(db, factory, territory, doctor_a, decl)
    app = create_test_app(sessions, database_url, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    page = text(client.get("/connexion"))
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    client.post("/connexion", data={"email": user_a.email, "password": "Correct-Horse-42!", "csrf_token": token})
    assert client.post(f"/medecin/propositions/{p.id}/accepter").status_code == 400
    assert client.post("/medecin/disponibilite/pause").status_code == 400
    assert p.status == "sent" and not decl.is_paused


# --- capacity ---------------------------------------------------------------------------


def declaration_data(**overrides):
    data = {"new_patients": "3", "valid_until": "2027-03-31", "max_km": "15", "accepts_children": "y",
            "languages": ["en", "es"]}
    data.update(overrides)
    return data


def test_a_gp_declares_capacity_and_sees_the_summary_and_history(client, db, world):
    _, _, doctor_a, _, user_a, _ = world
    login(client, user_a)
    assert "Déclarer ma disponibilité" in text(client.get("/medecin/disponibilite"))
    response = client.post("/medecin/disponibilite", data=declaration_data())
    assert response.status_code == 302
    current = capacity.current_declaration(db, doctor_a.id)
    assert (current.new_patients, current.max_km, current.valid_until) == (3, 15, date(2027, 3, 31))
    assert current.languages == ["en", "es"] and current.accepts_children and not current.does_home_visits
    client.post("/medecin/disponibilite", data=declaration_data(new_patients="5", valid_until="31/05/2027",
                                                                is_priority_only="y", priority_flags=["ald"]))
    newest = capacity.current_declaration(db, doctor_a.id)
    assert newest.priority_flags == ["ald"] and newest.valid_until == date(2027, 5, 31)
    html = text(client.get("/medecin/disponibilite"))
    assert "Historique de mes déclarations" in html and "remplacée le 24 novembre 2026" in html
    assert "Seulement : Affection de longue durée (ALD)" in html
    assert 'value="5"' in html  # the form offers the current figure


def test_declaration_errors_are_in_french_next_to_the_fields(client, db, world):
    _, _, doctor_a, _, user_a, _ = world
    login(client, user_a)
    html = text(client.post("/medecin/disponibilite", data=declaration_data(
        new_patients="trois", valid_until="2026-11-01", max_km="12")))
    assert "Indiquez un nombre entier" in html and "Choisissez parmi les valeurs proposées." in html
    assert 'aria-invalid="true"' in html and "erreurs à corriger" in html
    html = text(client.post("/medecin/disponibilite", data=declaration_data(valid_until="2026-11-01")))
    assert "Choisissez une date à venir." in html
    assert capacity.current_declaration(db, doctor_a.id) is None


def test_lowering_below_pending_asks_what_to_do_before_saving(client, db, factory, world):
    territory, _, doctor_a, _, user_a, _ = world
    decl = factory.declaration(doctor_a, 3)
    pending = [sent_proposal(db, factory, territory, doctor_a, decl) for _ in range(2)]
    login(client, user_a)
    html = text(client.post("/medecin/disponibilite", data=declaration_data(new_patients="1")))
    assert "Que faire des propositions en attente" in html and "2 propositions en attente" in html
    assert capacity.current_declaration(db, doctor_a.id) is decl
    response = client.post("/medecin/disponibilite", data=declaration_data(new_patients="1", pending_action="return"))
    assert response.status_code == 302
    assert all(p.status == "cancelled" and p.request.status == "waiting" for p in pending)
    new = capacity.current_declaration(db, doctor_a.id)
    assert new.new_patients == 1 and capacity.summary(db, new).remaining == 1


def test_lowering_and_keeping_leaves_the_proposals_to_answer(client, db, factory, world):
    territory, _, doctor_a, _, user_a, _ = world
    decl = factory.declaration(doctor_a, 3)
    p = sent_proposal(db, factory, territory, doctor_a, decl)
    login(client, user_a)
    client.post("/medecin/disponibilite", data=declaration_data(new_patients="0", pending_action="keep"))
    assert p.status == "sent" and p.declaration_id == capacity.current_declaration(db, doctor_a.id).id


def test_pause_and_resume(client, db, factory, world):
    _, _, doctor_a, _, user_a, _ = world
    decl = factory.declaration(doctor_a, 3)
    login(client, user_a)
    client.post("/medecin/disponibilite/pause")
    assert decl.is_paused and capacity.current_declaration(db, doctor_a.id) is decl
    assert "En pause" in text(client.get("/medecin/"))
    client.post("/medecin/disponibilite/reprise")
    assert not decl.is_paused
    assert "Mettre en pause" in text(client.get("/medecin/disponibilite"))


def test_pause_without_declaration_says_so(client, world):
    _, _, _, _, user_a, _ = world
    login(client, user_a)
    response = client.post("/medecin/disponibilite/pause", follow_redirects=True)
    assert "pas encore déclaré" in text(response)


# --- slots ------------------------------------------------------------------------------


def test_a_gp_adds_one_off_and_weekly_slots(client, db, world):
    _, _, doctor_a, _, user_a, _ = world
    login(client, user_a)
    assert client.get("/medecin/creneaux/ponctuel").status_code == 200
    response = client.post("/medecin/creneaux/ponctuel", data={
        "day": "2026-11-26", "start_time": "14:00", "minutes": "20", "count": "3"})
    assert response.status_code == 302 and response.headers["Location"].endswith("?semaine=2026-W48")
    assert client.get("/medecin/creneaux/hebdomadaire").status_code == 200
    response = client.post("/medecin/creneaux/hebdomadaire", data={
        "weekdays": ["0", "3"], "start_time": "09:00", "minutes": "15", "count": "2", "until": "2026-12-14"})
    # the first new slot is on Thursday 26 November
    assert response.status_code == 302 and response.headers["Location"].endswith("?semaine=2026-W48")
    # Thursday 26 November, Monday 30 November, Thursday 3, Monday 7, Thursday 10, Monday 14 December
    assert db.scalar(select(func.count()).select_from(Slot).where(Slot.doctor_id == doctor_a.id)) == 3 + 6 * 2
    html = text(client.get(response.headers["Location"], follow_redirects=True))
    assert "tous les lundis et jeudis de 9 h à 9 h 30, 2 créneaux de 15 min, jusqu'au 14/12/2026" in html
    week = text(client.get("/medecin/creneaux?semaine=2026-W48"))
    assert "jeudi 26 novembre 2026" in week and "14 h 20" in week and "9 h 15" in week
    assert "Tous les lundis et jeudis de 9 h à 9 h 30" in week and "12 créneaux libres à venir, 0 réservé" in week


def test_slot_errors_are_summed_up_at_the_top_and_shown_next_to_the_field(client, db, world):
    _, _, doctor_a, _, user_a, _ = world
    login(client, user_a)
    html = client.post("/medecin/creneaux/hebdomadaire", data={
        "start_time": "09:00", "minutes": "90", "count": "2", "until": "2026-12-14"}).get_data(as_text=True)
    main = html.split("<main", 1)[1]
    summary = main.index('class="error-summary" role="alert"')
    assert summary < main.index("<form")
    assert '<a href="#weekdays">' in main and '<a href="#minutes">' in main
    assert 'id="weekdays-error"' in main and "Cochez au moins un jour de la semaine." in main
    assert 'id="minutes-error"' in main and "De 10 à 60 minutes." in main
    # an error found by the service (a time that does not exist in Paris) lands on its field too
    html = text(client.post("/medecin/creneaux/ponctuel", data={
        "day": "2027-03-28", "start_time": "02:30", "minutes": "20", "count": "1"}))
    assert "Heure du premier créneau : L'heure 02 h 30 n'existe pas" in html
    assert db.scalar(select(func.count()).select_from(Slot).where(Slot.doctor_id == doctor_a.id)) == 0


def test_overlapping_slots_are_refused_with_a_french_message(client, db, world):
    _, _, doctor_a, _, user_a, _ = world
    login(client, user_a)
    data = {"day": "2026-11-26", "start_time": "14:00", "minutes": "20", "count": "1"}
    client.post("/medecin/creneaux/ponctuel", data=data)
    html = text(client.post("/medecin/creneaux/ponctuel", data=data | {"start_time": "14:10"}))
    assert "chevauche un créneau que vous proposez déjà" in html
    html = text(client.post("/medecin/creneaux/ponctuel", data=data | {"minutes": "90"}))
    assert "De 10 à 60 minutes." in html
    assert db.scalar(select(func.count()).select_from(Slot).where(Slot.doctor_id == doctor_a.id)) == 1


def test_a_gp_deletes_a_free_slot_after_a_confirmation(client, db, factory, world):
    _, _, doctor_a, _, user_a, _ = world
    slot = factory.slot(doctor_a, start=NOW + timedelta(days=1))
    login(client, user_a)
    week = client.get("/medecin/creneaux").get_data(as_text=True)
    # the week offers a link to a confirmation page, not a button that deletes at once
    assert f'href="/medecin/creneaux/{slot.id}/annuler"' in week and f'action="/medecin/creneaux/{slot.id}' not in week
    page = text(client.get(f"/medecin/creneaux/{slot.id}/annuler"))
    assert "Ce créneau est libre : personne n'est prévenu." in page and "Supprimer ce créneau" in page
    assert slot.status == "free"
    assert client.post(f"/medecin/creneaux/{slot.id}/annuler").status_code == 302
    assert slot.status == "cancelled"
    assert "Annulé" in text(client.get("/medecin/creneaux"))


def test_the_week_view_shows_monday_to_sunday_with_states_in_words(client, db, factory, world):
    territory, _, doctor_a, _, user_a, _ = world
    factory.slot(doctor_a, start=NOW + timedelta(days=1))  # Wednesday 25 November, 10:00 UTC
    booked = factory.slot(doctor_a, start=NOW + timedelta(days=2))
    slots.book(db, booked.id, factory.request(kind="snp", patient=factory.patient(territory=territory)), now=NOW)
    factory.slot(doctor_a, start=NOW + timedelta(days=3), status="cancelled")
    factory.slot(doctor_a, start=NOW + timedelta(days=7))  # next week
    login(client, user_a)
    html = text(client.get("/medecin/creneaux"))
    assert "Semaine du lundi 23 novembre 2026 au dimanche 29 novembre 2026" in html
    assert "Libre" in html and "Réservé" in html and "Annulé" in html
    assert "1 créneau libre, 1 réservé, 1 annulé cette semaine" in html
    page = client.get("/medecin/creneaux").get_data(as_text=True)
    assert 'href="/medecin/creneaux?semaine=2026-W47" rel="prev"' in page
    assert 'href="/medecin/creneaux?semaine=2026-W49" rel="next"' in page
    assert 'href="/medecin/creneaux" aria-current="page">Cette semaine' in page
    following = text(client.get("/medecin/creneaux?semaine=2026-W49"))
    assert "Semaine du lundi 30 novembre 2026" in following and "1 créneau libre, 0 réservé" in following
    wrong = text(client.get("/medecin/creneaux?semaine=demain"))
    assert "Semaine inconnue" in wrong and "Semaine du lundi 23 novembre 2026" in wrong


def wednesdays_with_one_booked(db, factory, doctor, count):
    """Every Wednesday at 9:00 until 30 December; the slot of 2 December at 9:00 is booked."""
    created = slot_patterns.add_weekly(db, doctor, weekdays=[2], start=time(9, 0), minutes=30, count=count,
                                       until=date(2026, 12, 30), now=NOW)
    request = factory.request(kind="snp", patient=factory.patient(territory=doctor.territory))
    slots.book(db, created[count].id, request, now=NOW)
    return created, created[0].pattern


def test_a_gp_edits_a_weekly_pattern_as_a_whole_and_keeps_booked_slots(client, db, factory, world):
    _, _, doctor_a, _, user_a, _ = world
    created, pattern = wednesdays_with_one_booked(db, factory, doctor_a, count=2)
    login(client, user_a)
    url = f"/medecin/creneaux/series/{pattern.id}/modifier"
    form = client.get(url).get_data(as_text=True)
    assert re.search(r'checked[^>]*value="2"|value="2"[^>]*checked', form)
    assert "Les créneaux réservés (1) restent inchangés" in text(client.get(url))
    html = text(client.post(url, data={"weekdays": ["4"], "start_time": "14:00", "minutes": "20", "count": "1",
                                       "until": "2027-07-01"}))
    assert "Jusqu'au (inclus) : Une série hebdomadaire dure au plus six mois" in html
    response = client.post(url, data={"weekdays": ["4"], "start_time": "14:00", "minutes": "20", "count": "1",
                                      "until": "2026-12-18"}, follow_redirects=True)
    html = text(response)
    assert "Série modifiée, tous les vendredis de 14 h à 14 h 20" in html
    assert "Créneaux libres à venir retirés : 11, ajoutés : 4." in html
    assert "1 créneau réservé est conservé (mercredi 2 décembre 2026 à 9 h)" in html
    assert created[2].status == "booked" and created[2].pattern_id == pattern.id


def test_a_gp_removes_a_weekly_pattern_after_seeing_what_will_happen(client, db, factory, world):
    _, _, doctor_a, _, user_a, _ = world
    created, pattern = wednesdays_with_one_booked(db, factory, doctor_a, count=1)
    login(client, user_a)
    url = f"/medecin/creneaux/series/{pattern.id}/supprimer"
    page = text(client.get(url))
    assert "5 créneaux libres à venir seront supprimés" in page
    assert "1 créneau réservé est conservé" in page and "mercredi 2 décembre 2026 à 9 h" in page
    assert pattern.removed_dt is None  # the GET only asks
    html = text(client.post(url, follow_redirects=True))
    assert "Série supprimée. Créneaux libres à venir retirés : 5." in html
    assert "Aucune série hebdomadaire" in html
    assert pattern.removed_dt is not None and created[1].status == "booked"
    assert db.scalar(select(func.count()).select_from(Slot).where(Slot.pattern_id == pattern.id)) == 1
    again = text(client.get(url, follow_redirects=True))
    assert "Cette série a déjà été supprimée." in again


def test_cancelling_a_booked_slot_needs_a_reason_and_alerts_coordinators(client, db, factory, world):
    territory, staff, doctor_a, _, user_a, _ = world
    slot = factory.slot(doctor_a, start=NOW + timedelta(days=1))
    request = factory.request(kind="snp", patient=factory.patient(territory=territory, birth_name="Secret"),
                              snp_category="fever")
    slots.book(db, slot.id, request, now=NOW)
    login(client, user_a)
    html = text(client.get("/medecin/creneaux"))
    # the GP sees who is coming to their consultation (issue 13), and only for their own slots
    assert request.reference in html and "70–79 ans" in html and "SECRET Marie" in html
    page = text(client.get(f"/medecin/creneaux/{slot.id}/annuler"))
    assert "Motif de l'annulation" in page
    html = text(client.post(f"/medecin/creneaux/{slot.id}/annuler", data={"reason": "  "}))
    assert "Indiquez pourquoi" in html and slot.status == "booked"
    response = client.post(f"/medecin/creneaux/{slot.id}/annuler", data={"reason": "Urgence au cabinet"})
    assert response.status_code == 302
    assert slot.status == "cancelled" and request.status == "waiting"
    alert = db.scalar(select(Notification).where(Notification.template == "slot_cancelled_alert"))
    assert alert.recipient_user_id == staff.id and alert.context["reason"] == "Urgence au cabinet"


def test_the_gp_sees_the_needs_and_the_patients_limit_before_answering(client, db, factory, world):
    territory, _, doctor_a, _, user_a, _ = world
    decl = factory.declaration(doctor_a, 4, does_home_visits=True)
    p = sent_proposal(db, factory, territory, doctor_a, decl, birth_name="Zébulon", needs_home_visit=True,
                      needs_step_free=True, languages=["en"], max_km=20, is_ald=True)
    p.request.children_birth_dates = ["2018-05-01", "2025-01-10"]
    db.flush()
    login(client, user_a)
    for page in (text(client.get("/medecin/")), text(client.get(f"/medecin/propositions/{p.id}"))):
        assert "2 enfants à suivre aussi (6–11 ans, moins de 3 ans)" in page
        assert "visites à domicile" in page and "accès de plain-pied" in page and "parle anglais" in page
        assert "jusqu'à 20 km" in page and "Affection de longue durée" in page
        assert "Zébulon" not in page and "ZÉBULON" not in page


def test_editing_a_declaration_keeps_a_radius_the_list_does_not_offer(client, db, factory, world):
    _, _, doctor_a, _, user_a, _ = world
    factory.declaration(doctor_a, 4, max_km=25)
    login(client, user_a)
    html = text(client.get("/medecin/disponibilite"))
    assert '<option selected value="25">25 km</option>' in html or '<option value="25" selected>25 km</option>' in html
    client.post("/medecin/disponibilite", data=declaration_data(max_km="25", new_patients="6"))
    current = capacity.current_declaration(db, doctor_a.id)
    assert (current.new_patients, current.max_km) == (6, 25)
