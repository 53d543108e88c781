"""Staff console pages: attribution and arbitration, SNP board, waiting list, indicators."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from guichet.models import AuditEvent, MatchingRun, Notification, PairExclusion, Proposal
from tests.conftest import NOW
from tests.factories import login


@pytest.fixture
def setup(factory, client):
    territory = factory.territory()
    staff = factory.user("staff", territory=territory)
    login(client, staff)
    return territory, staff


def _req(factory, territory, commune="26223", **fields):
    return factory.request(patient=factory.patient(territory=territory, commune=commune, **fields))


def _run(client):
    response = client.post("/coordination/attribution/lancer")
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return response.headers["Location"]


def test_launching_a_run_shows_the_review_table_with_reasons_in_french(client, db, factory, setup):
    territory, staff = setup
    placed = _req(factory, territory, is_ald=True)
    far = _req(factory, territory, commune="26117", max_km=5)
    gp = factory.doctor(territory=territory)
    factory.declaration(gp)
    assert client.get("/coordination/attribution").status_code == 200
    location = _run(client)
    page = client.get(location)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert placed.reference in html and gp.display_name in html
    assert "Affection de longue durée (ALD)" in html  # score breakdown
    assert far.reference in html and "Aucun médecin disponible à moins de 5 km" in html
    assert "Attribution terminée en" in html
    run = db.scalar(select(MatchingRun))
    assert run.started_by_id == staff.id and run.stats["n_assigned"] == 1


def test_a_simulation_shows_the_result_and_saves_nothing(client, db, factory, setup):
    territory, _ = setup
    request = _req(factory, territory)
    factory.declaration(factory.doctor(territory=territory))
    response = client.post("/coordination/attribution/simulation")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "rien n'a été enregistré" in html and request.reference in html
    assert db.scalar(select(func.count()).select_from(MatchingRun)) == 0
    assert db.scalar(select(func.count()).select_from(Proposal)) == 0
    assert db.scalar(select(AuditEvent).where(AuditEvent.action == "matching.dry_run"))


def test_approving_selected_and_all_sends_to_gps(client, db, factory, setup):
    territory, _ = setup
    a, b, c = (_req(factory, territory) for _ in range(3))
    gp = factory.doctor(territory=territory)
    decl = factory.declaration(gp, new_patients=5)
    location = _run(client)
    run = db.scalar(select(MatchingRun))
    drafts = {p.request_id: p for p in db.scalars(select(Proposal).where(Proposal.run_id == run.id))}
    response = client.post(f"/coordination/attribution/{run.id}/valider",
                           data={"proposal_ids": [drafts[a.id].id], "approve_selected": "1"})
    assert response.status_code == 302 and response.headers["Location"].endswith(location)
    db.refresh(drafts[a.id])
    assert drafts[a.id].status == "sent" and drafts[b.id].status == "proposed"
    client.post(f"/coordination/attribution/{run.id}/valider", data={"approve_all": "1", "confirmed": "1"})
    for p in drafts.values():
        db.refresh(p)
    assert {p.status for p in drafts.values()} == {"sent"}
    db.refresh(decl)
    assert decl.committed == 3
    assert db.scalar(select(func.count()).select_from(Notification).where(
        Notification.template == "proposal_to_gp")) == 3


def test_approving_a_selection_needs_a_ticked_line(client, db, factory, setup):
    territory, _ = setup
    _req(factory, territory)
    factory.declaration(factory.doctor(territory=territory))
    _run(client)
    run = db.scalar(select(MatchingRun))
    response = client.post(f"/coordination/attribution/{run.id}/valider", data={"approve_selected": "1"},
                           follow_redirects=True)
    assert "Cochez au moins une proposition" in response.get_data(as_text=True)


def test_reject_exclude_and_reassign_from_the_review_table(client, db, factory, setup):
    territory, _ = setup
    first = _req(factory, territory, birth_date=date(1980, 1, 1))
    second = _req(factory, territory, birth_date=date(1981, 1, 1))
    near = factory.doctor(territory=territory, commune="26223")
    factory.declaration(near)
    far = factory.doctor(territory=territory, commune="26059")
    factory.declaration(far)
    _run(client)
    run = db.scalar(select(MatchingRun))
    drafts = {p.request_id: p for p in db.scalars(select(Proposal).where(Proposal.run_id == run.id))}
    client.post(f"/coordination/attribution/propositions/{drafts[first.id].id}/refuser")
    db.refresh(drafts[first.id])
    assert drafts[first.id].status == "cancelled" and first.status == "waiting"
    client.post(f"/coordination/attribution/propositions/{drafts[second.id].id}/exclure")
    assert db.scalar(select(PairExclusion).where(PairExclusion.patient_id == second.patient_id)).reason == "excluded"
    page = client.get(f"/coordination/attribution/demandes/{second.id}/attribuer?run={run.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'value="{far.id}"' in html and f'value="{near.id}"' not in html
    assert "Places restantes" in html and "jusqu&#39;à 20 km" in html
    wrong = client.post(f"/coordination/attribution/demandes/{second.id}/attribuer?run={run.id}",
                        data={"doctor_id": str(near.id)})
    assert wrong.status_code == 200 and "a déjà refusé ce patient ou a été exclu" in wrong.get_data(as_text=True)
    done = client.post(f"/coordination/attribution/demandes/{second.id}/attribuer?run={run.id}",
                       data={"doctor_id": str(far.id)})
    assert done.status_code == 302
    pinned = db.scalar(select(Proposal).where(Proposal.request_id == second.id, Proposal.status == "proposed"))
    assert pinned.is_pinned and pinned.doctor_id == far.id


def test_another_territorys_run_and_proposals_are_not_found(client, db, factory, setup):
    other = factory.territory()
    _req(factory, other)
    factory.declaration(factory.doctor(territory=other))
    from guichet.assignment import runs

    outcome = runs.run_mt(db, other, now=NOW)
    db.flush()
    proposal = outcome.drafts[0]
    assert client.get(f"/coordination/attribution/{outcome.run.id}").status_code == 404
    assert client.post(f"/coordination/attribution/propositions/{proposal.id}/refuser").status_code == 404
    assert client.post(f"/coordination/attribution/propositions/{proposal.id}/exclure").status_code == 404
    assert client.get(f"/coordination/attribution/demandes/{proposal.request_id}/attribuer").status_code == 404
    client.post(f"/coordination/attribution/{outcome.run.id}/valider", data={"approve_all": "1", "confirmed": "1"})
    db.refresh(proposal)
    assert proposal.status == "proposed"


def test_gps_cannot_open_the_attribution_pages(client, factory):
    doctor_user = factory.user("doctor")
    login(client, doctor_user)
    for path in ("/coordination/attribution", "/coordination/snp", "/coordination/liste-attente",
                 "/coordination/indicateurs"):
        assert client.get(path).status_code == 403


def test_waiting_list_is_ordered_by_priority_then_wait_and_exports_csv(client, db, factory, setup):
    territory, _ = setup
    old = factory.request(patient=factory.patient(territory=territory, birth_date=date(1990, 1, 1)), waited_days=30)
    new = factory.request(patient=factory.patient(territory=territory, birth_date=date(1990, 1, 1)), waited_days=30)
    new.waiting_since_dt = old.waiting_since_dt + timedelta(hours=2)  # same score, asked later
    ald = factory.request(patient=factory.patient(territory=territory, is_ald=True, birth_date=date(1990, 1, 1)),
                          waited_days=1)
    db.flush()
    html = client.get("/coordination/liste-attente").get_data(as_text=True)
    assert html.index(ald.reference) < html.index(old.reference) < html.index(new.reference)
    response = client.get("/coordination/liste-attente/export.csv")
    body = response.get_data(as_text=True)
    assert response.mimetype == "text/csv" and body.startswith("\ufeffRéférence;Âge;Commune")
    lines = body.strip().splitlines()
    assert lines[1].startswith(f"{ald.reference};36;Oriol-en-Royans;Affection de longue durée (ALD);302;1;")
    assert old.patient.birth_name not in body and old.patient.phone not in body  # no identity in the export
    assert db.scalar(select(AuditEvent).where(AuditEvent.action == "waiting_list.export"))


def test_snp_board_books_by_hand_and_from_suggestions(client, db, factory, setup):
    territory, _ = setup
    gp = factory.doctor(territory=territory)
    morning = factory.slot(gp, start=NOW + timedelta(hours=1))   # 11:00 Paris
    afternoon = factory.slot(gp, start=NOW + timedelta(hours=5))  # 15:00 Paris
    today = "2026-11-24"
    by_hand = factory.request(patient=factory.patient(territory=territory), kind="snp",
                              snp_availability=[{"day": today, "period": "afternoon"}])
    suggested = factory.request(patient=factory.patient(territory=territory), kind="snp",
                                snp_availability=[{"day": today, "period": "morning"}])
    html = client.get("/coordination/snp").get_data(as_text=True)
    assert by_hand.reference in html and suggested.reference in html
    response = client.post(f"/coordination/snp/demandes/{by_hand.id}/reserver",
                           data={f"r{by_hand.id}-slot_id": str(afternoon.id)})
    assert response.status_code == 302
    db.refresh(afternoon)
    db.refresh(by_hand)
    assert afternoon.status == "booked" and by_hand.status == "booked"
    page = client.post("/coordination/snp/suggestions").get_data(as_text=True)
    assert f'value="{suggested.id}-{morning.id}"' in page
    client.post("/coordination/snp/reserver", data={"pairs": [f"{suggested.id}-{morning.id}"]})
    db.refresh(morning)
    assert morning.status == "booked" and morning.request_id == suggested.id
    assert db.scalar(select(Notification).where(Notification.template == "snp_booked",
                                                Notification.request_id == suggested.id))


def test_indicators_page_and_csv(client, factory, setup):
    territory, _ = setup
    _req(factory, territory)
    html = client.get("/coordination/indicateurs?annee=2026").get_data(as_text=True)
    assert "novembre 2026" in html and "<progress" in html
    response = client.get("/coordination/indicateurs/export.csv?annee=2026")
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0].startswith("\ufeffMois;Demandes MT reçues") and len(lines) == 12
    assert lines[-1].startswith("2026-11;1;1;0;0;0;")


def test_approving_all_asks_first_with_the_count_then_reports_each_proposal(client, db, factory, setup):
    territory, _ = setup
    requests = [_req(factory, territory) for _ in range(3)]
    factory.declaration(factory.doctor(territory=territory), new_patients=2)
    _run(client)
    run = db.scalar(select(MatchingRun))
    response = client.post(f"/coordination/attribution/{run.id}/valider", data={"approve_all": "1"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/{run.id}/valider-tout")
    assert db.scalar(select(func.count()).select_from(Proposal).where(Proposal.status == "sent")) == 0
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Vous allez envoyer <strong>2 propositions</strong>" in page and "1 médecin" in page
    done = client.post(f"/coordination/attribution/{run.id}/valider", data={"approve_all": "1", "confirmed": "1"})
    html = done.get_data(as_text=True)
    assert done.status_code == 200 and "<strong>2</strong> propositions envoyées" in html
    assert html.count("Envoyée au médecin") == 2
    assert sum(r.reference in html for r in requests) == 2


def test_the_review_is_paginated_and_an_action_returns_to_the_same_place(client, db, factory, setup, monkeypatch):
    from guichet.assignment import review

    monkeypatch.setattr(review, "REVIEW_PER_PAGE", 2)
    territory, _ = setup
    for _ in range(5):
        _req(factory, territory)
    factory.declaration(factory.doctor(territory=territory), new_patients=5)
    _run(client)
    run = db.scalar(select(MatchingRun))
    html = client.get(f"/coordination/attribution/{run.id}?page=2").get_data(as_text=True)
    assert "Page 2 sur 3" in html and 'aria-current="page"' in html
    draft = db.scalars(select(Proposal).where(Proposal.run_id == run.id).order_by(Proposal.id)).first()
    response = client.post(f"/coordination/attribution/propositions/{draft.id}/refuser",
                           data={"page": "2", "anchor": "p99"})
    assert response.headers["Location"].endswith(f"/attribution/{run.id}?page=2#p99")


def test_every_run_says_which_requests_it_left_out_and_why_with_links(client, db, factory, setup):
    territory, _ = setup
    _req(factory, territory)
    factory.request(patient=factory.patient(territory=territory), status="submitted")
    for _ in range(2):
        factory.request(patient=factory.patient(territory=territory), status="to_contact", channel="import")
    factory.declaration(factory.doctor(territory=territory))
    home = client.get("/coordination/attribution").get_data(as_text=True)
    assert "3 demandes de médecin traitant ne sont pas dans le calcul" in home
    location = _run(client)
    html = client.get(location).get_data(as_text=True)
    assert "3 demandes de médecin traitant ne sont pas dans le calcul" in html
    assert "1 reçue en ligne, à vérifier" in html and "/coordination/demandes?status=submitted" in html
    assert "2 à appeler" in html and 'href="/coordination/a-appeler"' in html
