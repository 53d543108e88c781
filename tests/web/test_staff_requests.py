"""Staff console: the request page and its actions (qualify, edit, cancel, notes, calls, merge)."""

from __future__ import annotations

from datetime import timedelta

from markupsafe import escape
from sqlalchemy import select

from guichet.assignment.priority import FLAG_LABELS
from guichet.models import AuditEvent, Proposal, RequestEvent
from tests.factories import login


def _setup(factory, **request_fields):
    territory = factory.territory()
    staff = factory.user("staff", territory)
    req = factory.request(factory.patient(territory), **request_fields)
    return territory, staff, req


def _audit(db, action, object_id=None):
    query = select(AuditEvent).where(AuditEvent.action == action)
    if object_id is not None:
        query = query.where(AuditEvent.object_id == object_id)
    return db.scalars(query).all()


def test_request_page_shows_identity_priority_history_and_is_audited(client, factory, db):
    _, staff, req = _setup(factory)
    login(client, staff)
    response = client.get(f"/coordination/demandes/{req.id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert req.patient.birth_name in html and "70 ans ou plus" in html
    assert "demande créée" in html
    rows = _audit(db, "request.view", req.id)
    assert len(rows) == 1 and rows[0].user_id == staff.id and rows[0].object_type == "patient_request"
    assert rows[0].detail == {}  # ids only: nothing personal in the audit row
    client.get(f"/coordination/demandes/{req.id}")
    assert len(_audit(db, "request.view", req.id)) == 2  # every opening


def test_the_patient_s_situation_reads_as_the_priority_flags(client, factory):
    territory = factory.territory()
    staff = factory.user("staff", territory)
    req = factory.request(factory.patient(territory, is_ald=True, is_css=True, is_pregnant=True, is_disabled=True))
    login(client, staff)
    html = client.get(f"/coordination/demandes/{req.id}").get_data(as_text=True)
    situation = html.split('id="h-situation"', 1)[1].split("</ul>", 1)[0]
    for flag in ("ald", "css", "pregnancy", "disability"):
        assert f"<li>{escape(FLAG_LABELS[flag])}</li>" in situation


def test_another_territory_request_is_an_audited_404(client, factory, db):
    staff = factory.user("staff")
    other = factory.request(factory.patient(factory.territory()))
    login(client, staff)
    assert client.get(f"/coordination/demandes/{other.id}").status_code == 404
    assert client.post(f"/coordination/demandes/{other.id}/note", data={"text": "x"}).status_code == 404
    assert len(_audit(db, "access_denied")) == 2
    assert not db.scalars(select(RequestEvent).where(RequestEvent.request_id == other.id,
                                                     RequestEvent.kind == "note")).all()


def test_qualify_puts_a_received_request_in_the_waiting_queue(client, factory, db):
    _, staff, req = _setup(factory, status="submitted")
    login(client, staff)
    response = client.post(f"/coordination/demandes/{req.id}/qualifier", data={})
    assert response.status_code == 302
    db.refresh(req)
    assert req.status == "waiting"
    event = db.scalars(select(RequestEvent).where(RequestEvent.request_id == req.id,
                                                  RequestEvent.kind == "status")).one()
    assert (event.from_status, event.to_status, event.user_id) == ("submitted", "waiting", staff.id)
    assert _audit(db, "request.qualify", req.id)


def test_imported_patient_needs_recorded_consent_before_waiting(client, factory, db, now):
    _, staff, req = _setup(factory, status="to_contact", channel="import")
    req.is_consented = False
    db.flush()
    login(client, staff)
    response = client.post(f"/coordination/demandes/{req.id}/qualifier", data={})
    assert response.status_code == 422
    assert "donné son accord" in response.get_data(as_text=True)
    db.refresh(req)
    assert req.status == "to_contact"
    response = client.post(f"/coordination/demandes/{req.id}/qualifier", data={"consent": "y"})
    assert response.status_code == 302
    db.refresh(req)
    assert req.status == "waiting" and req.is_consented and req.consent_dt is not None


def test_cancel_requires_a_reason_and_records_it(client, factory, db):
    _, staff, req = _setup(factory)
    login(client, staff)
    response = client.post(f"/coordination/demandes/{req.id}/annuler", data={"reason": ""})
    assert response.status_code == 422 and "Choisissez le motif" in response.get_data(as_text=True)
    db.refresh(req)
    assert req.status == "waiting"
    response = client.post(f"/coordination/demandes/{req.id}/annuler",
                           data={"reason": "found_elsewhere", "note": "Rappel du fils"})
    assert response.status_code == 302
    db.refresh(req)
    assert req.status == "cancelled" and req.close_reason == "found_elsewhere" and req.closed_dt
    assert _audit(db, "request.cancel", req.id)[0].detail == {"reason": "found_elsewhere"}
    # a closed request offers no more cancel / edit
    html = client.get(f"/coordination/demandes/{req.id}").get_data(as_text=True)
    assert "Annuler la demande</button>" not in html and "/modifier" not in html


def test_cancelling_a_proposed_request_cancels_its_proposal_first(client, factory, db, now):
    territory, staff, req = _setup(factory, status="proposed")
    doctor = factory.doctor(territory)
    proposal = Proposal(request=req, doctor=doctor, status="sent", created_dt=now)
    db.add(proposal)
    db.flush()
    login(client, staff)
    response = client.post(f"/coordination/demandes/{req.id}/annuler", data={"reason": "found_elsewhere"})
    assert response.status_code == 302
    db.refresh(req)
    db.refresh(proposal)
    assert proposal.status == "cancelled" and req.status == "cancelled"


def test_notes_and_contact_log_are_kept_in_the_history(client, factory, db):
    _, staff, req = _setup(factory)
    login(client, staff)
    assert client.post(f"/coordination/demandes/{req.id}/note", data={"text": "  "}).status_code == 422
    assert client.post(f"/coordination/demandes/{req.id}/note",
                       data={"text": "Préfère être appelée le matin"}).status_code == 302
    assert client.post(f"/coordination/demandes/{req.id}/appel", data={}).status_code == 422
    for outcome in ("no_answer", "message_left", "reached"):
        assert client.post(f"/coordination/demandes/{req.id}/appel",
                           data={"outcome": outcome}).status_code == 302
    events = db.scalars(select(RequestEvent).where(RequestEvent.request_id == req.id)
                        .order_by(RequestEvent.id)).all()
    assert [e.kind for e in events] == ["created", "note", "contact", "contact", "contact"]
    assert [e.contact_outcome for e in events[2:]] == ["no_answer", "message_left", "reached"]
    html = client.get(f"/coordination/demandes/{req.id}").get_data(as_text=True)
    assert "Préfère être appelée le matin" in html and "Message laissé" in html
    assert staff.full_name in html
    notes = _audit(db, "request.note", req.id)
    assert len(notes) == 1 and "matin" not in str(notes[0].detail)


def test_edit_corrects_the_patient_and_recomputes_priority(client, factory, db):
    _, staff, req = _setup(factory)
    before = req.priority_score
    login(client, staff)
    assert client.get(f"/coordination/demandes/{req.id}/modifier").status_code == 200
    data = {
        "birth_name": "Dupont", "first_names": "Marie", "birth_date": "1950-03-14", "sex": "F",
        "phone": "06 11 22 33 44", "email": "", "address": "3 rue des Écoles", "postal_code": "26190",
        "commune_insee": "26223", "contact_preference": "phone", "is_ald": "y", "max_km": "15",
    }
    response = client.post(f"/coordination/demandes/{req.id}/modifier", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    db.refresh(req)
    assert req.patient.is_ald and req.patient.phone == "+33611223344" and req.patient.max_km == 15
    assert req.priority_score == before + 300 and "ald" in req.priority_breakdown
    edit = db.scalars(select(RequestEvent).where(RequestEvent.request_id == req.id,
                                                 RequestEvent.kind == "edit")).one()
    assert "ALD" in edit.text and "0611" not in edit.text
    audit = _audit(db, "request.edit", req.id)[0]
    assert "is_ald" in audit.detail["fields"] and "+33611223344" not in str(audit.detail)


def test_edit_with_errors_saves_nothing_and_says_what_is_wrong(client, factory, db):
    _, staff, req = _setup(factory)
    login(client, staff)
    data = {"birth_name": "", "first_names": "Marie", "phone": "12", "postal_code": "99999",
            "contact_preference": "phone", "max_km": "500", "is_ald": "y"}
    response = client.post(f"/coordination/demandes/{req.id}/modifier", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Indiquez le nom." in html and "entre 1 et 200" in html
    db.refresh(req)
    assert not req.patient.is_ald


def test_edit_rejects_a_commune_outside_the_postal_code(client, factory, db):
    _, staff, req = _setup(factory)
    login(client, staff)
    data = {"birth_name": "Dupont", "first_names": "Marie", "postal_code": "26190",
            "commune_insee": "75056", "contact_preference": "phone", "max_km": "10"}
    response = client.post(f"/coordination/demandes/{req.id}/modifier", data=data)
    assert response.status_code == 422
    assert "desservie par ce code postal" in response.get_data(as_text=True)


def test_merge_duplicate_keeps_the_longest_wait_and_the_history(client, factory, db, now):
    territory, staff, target = _setup(factory, waited_days=10)
    duplicate = factory.request(factory.patient(territory), waited_days=40)
    client_note = "Note sur le doublon"
    login(client, staff)
    client.post(f"/coordination/demandes/{duplicate.id}/note", data={"text": client_note})
    response = client.post(f"/coordination/demandes/{duplicate.id}/doublon",
                           data={"target": target.reference.lower()})
    assert response.status_code == 302
    db.refresh(duplicate)
    db.refresh(target)
    assert duplicate.status == "cancelled" and duplicate.close_reason == "duplicate"
    assert duplicate.merged_into_id == target.id
    assert abs((target.submitted_dt.replace(tzinfo=None) - (now - timedelta(days=40)).replace(tzinfo=None))
               .total_seconds()) < 1
    assert target.priority_breakdown["waiting_days"] == 40
    kinds = [e.kind for e in db.scalars(select(RequestEvent).where(RequestEvent.request_id == duplicate.id))]
    assert "note" in kinds and "merge" in kinds
    html = client.get(f"/coordination/demandes/{duplicate.id}").get_data(as_text=True)
    assert client_note in html and target.reference in html
    assert _audit(db, "request.merge", duplicate.id)[0].detail == {"into": target.id}


def test_merge_refuses_unknown_other_territory_or_closed_targets(client, factory, db):
    territory, staff, req = _setup(factory)
    foreign = factory.request(factory.patient(factory.territory()))
    closed = factory.request(factory.patient(territory), status="cancelled")
    login(client, staff)
    for target, message in ((foreign.reference, "Aucune demande de votre territoire"),
                            ("MT-1999-000001", "Aucune demande de votre territoire"),
                            (closed.reference, "est close"),
                            (req.reference, "elle-même")):
        response = client.post(f"/coordination/demandes/{req.id}/doublon", data={"target": target})
        assert response.status_code == 422 and message in response.get_data(as_text=True)
    db.refresh(req)
    assert req.status == "waiting" and req.merged_into_id is None


def test_to_call_list_shows_imported_patients_and_closes_or_qualifies_them(client, factory, db):
    territory, staff, _ = _setup(factory)
    a = factory.request(factory.patient(territory, birth_name="Appeler"), status="to_contact", channel="import")
    b = factory.request(factory.patient(territory, birth_name="Injoignable"), status="to_contact", channel="import")
    login(client, staff)
    html = client.get("/coordination/a-appeler").get_data(as_text=True)
    assert a.reference in html and b.reference in html and "<strong>2</strong> patients" in html
    r = client.post(f"/coordination/demandes/{b.id}/appel", data={"outcome": "no_answer", "next": "to_contact"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/coordination/a-appeler")
    assert "Pas de réponse" in client.get("/coordination/a-appeler").get_data(as_text=True)
    client.post(f"/coordination/demandes/{a.id}/qualifier", data={"consent": "y", "next": "to_contact"})
    client.post(f"/coordination/demandes/{b.id}/annuler", data={"reason": "unreachable", "next": "to_contact"})
    db.refresh(a)
    db.refresh(b)
    assert a.status == "waiting" and a.is_consented
    assert b.status == "cancelled" and b.close_reason == "unreachable"
    assert "Personne à appeler" in client.get("/coordination/a-appeler").get_data(as_text=True)


def test_request_page_shows_proposals_and_snp_details(client, factory, db, now):
    territory, staff, req = _setup(factory, status="proposed")
    doctor = factory.doctor(territory)
    db.add(Proposal(request=req, doctor=doctor, status="sent", distance_km=4.2, created_dt=now))
    snp = factory.request(factory.patient(territory), kind="snp", snp_reason="Fièvre depuis hier")
    db.flush()
    login(client, staff)
    html = client.get(f"/coordination/demandes/{req.id}").get_data(as_text=True)
    assert doctor.last_name in html and "Envoyée au médecin" in html and "4.2 km" in html
    html = client.get(f"/coordination/demandes/{snp.id}").get_data(as_text=True)
    assert "Fièvre depuis hier" in html
