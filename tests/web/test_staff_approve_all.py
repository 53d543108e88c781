"""Approving every draft of a run: batches of ten, progress between them, the outcome of each proposal."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import func, select

from guichet.models import CapacityDeclaration, MatchingRun, Proposal
from guichet.web.staff.assignment import approve_all
from tests.factories import login


@pytest.fixture
def territory(factory, client):
    territory = factory.territory()
    login(client, factory.user("staff", territory=territory))
    return territory


def _drafts(client, db, factory, territory, n, gps=1):
    for _ in range(n):
        factory.request(patient=factory.patient(territory=territory))
    doctors = [factory.doctor(territory=territory) for _ in range(gps)]
    for doctor in doctors:
        factory.declaration(doctor, new_patients=n)
    assert client.post("/coordination/attribution/lancer").status_code == 302
    run = db.scalar(select(MatchingRun))
    assert db.scalar(select(func.count()).select_from(Proposal).where(Proposal.status == "proposed")) == n
    return run, doctors


def _sent(db):
    return db.scalar(select(func.count()).select_from(Proposal).where(Proposal.status == "sent"))


def _state(html):
    found = re.search(r'name="state" type="hidden" value="([^"]+)"', html) or re.search(
        r'id="state" name="state" type="hidden" value="([^"]+)"', html)
    assert found, html[:2000]
    return found.group(1)


def _start(client, run):
    return client.post(f"/coordination/attribution/{run.id}/valider", data={"approve_all": "1", "confirmed": "1"})


def _next(client, run, state, **headers):
    return client.post(f"/coordination/attribution/{run.id}/valider-tout/suite", data={"state": state},
                       headers=headers)


def test_approving_all_sends_ten_at_a_time_shows_progress_then_each_outcome(client, db, factory, territory):
    run, _ = _drafts(client, db, factory, territory, 23)
    first = _start(client, run)
    html = first.get_data(as_text=True)
    assert first.status_code == 200 and _sent(db) == 10  # the first batch is sent, and stays sent
    assert '<progress class="progress-wide" id="approve-all-progress" max="23" value="10">' in html
    assert "10 propositions traitées sur 23 : 10 envoyées au médecin…" in html
    assert "Continuer l'envoi (13 restantes)" in html and "approve-all.js" in html
    second = _next(client, run, _state(html)).get_data(as_text=True)
    assert _sent(db) == 20 and "20 propositions traitées sur 23" in second
    last = _next(client, run, _state(second))
    html = last.get_data(as_text=True)
    assert _sent(db) == 23 and "<strong>23</strong> propositions envoyées aux médecins" in html
    assert html.count("Envoyée au médecin") == 23 and "approve-all.js" not in html


def test_a_failed_batch_leaves_the_earlier_ones_sent_and_says_which_failed_and_why(client, db, factory, territory):
    run, (gp,) = _drafts(client, db, factory, territory, 12)
    html = _start(client, run).get_data(as_text=True)
    assert _sent(db) == 10
    # the GP pauses their declaration between two batches: the last two cannot go
    declaration = db.scalar(select(CapacityDeclaration).where(CapacityDeclaration.doctor_id == gp.id))
    declaration.is_paused = True
    db.flush()
    page = _next(client, run, _state(html))
    html = unescape(page.get_data(as_text=True))
    assert page.status_code == 200 and _sent(db) == 10
    assert "<strong>10</strong> propositions envoyées aux médecins" in html and "<strong>2</strong> non envoyées" in html
    reason = f"Non envoyée : {gp.display_name} : Ce médecin n'a pas de disponibilité déclarée en cours."
    assert html.count(reason) == 2
    assert html.index(reason) < html.index("Envoyée au médecin")  # the failures first
    left = db.scalars(select(Proposal).where(Proposal.status == "proposed")).all()
    assert len(left) == 2 and all(p.request.reference in html for p in left)


def test_the_pages_script_gets_the_progress_as_json(client, db, factory, territory):
    run, _ = _drafts(client, db, factory, territory, 15)
    html = _start(client, run).get_data(as_text=True)
    answer = _next(client, run, _state(html), Accept="application/json")
    data = answer.get_json()
    assert answer.status_code == 200 and _sent(db) == 15
    assert data["done"] == 15 and data["total"] == 15 and data["finished"] is True
    assert data["message"] == "15 propositions traitées sur 15 : 15 envoyées au médecin."
    # the final state posted again (the script's last step) reports, and sends nothing more
    html = _next(client, run, data["state"]).get_data(as_text=True)
    assert "<strong>15</strong> propositions envoyées aux médecins" in html


def test_sending_the_same_batch_twice_reports_it_sent_not_failed(client, db, factory, territory):
    run, _ = _drafts(client, db, factory, territory, 14)
    state = _state(_start(client, run).get_data(as_text=True))
    _next(client, run, state)  # a double click: the same state twice
    html = _next(client, run, state).get_data(as_text=True)
    assert _sent(db) == 14 and "<strong>14</strong> propositions envoyées" in html and "Non envoyée" not in html
    state = _state(_start(client, run).get_data(as_text=True)) if "name=\"state\"" in html else None
    assert state is None  # nothing left to send


def test_a_forged_foreign_or_stale_state_is_refused_and_sends_nothing(client, db, factory, territory, app, clock):
    run, _ = _drafts(client, db, factory, territory, 12)
    state = _state(_start(client, run).get_data(as_text=True))
    forged = state[:-3] + ("AAA" if not state.endswith("AAA") else "BBB")
    response = _next(client, run, forged)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/attribution/{run.id}")
    assert _sent(db) == 10
    answer = _next(client, run, forged, Accept="application/json")
    assert answer.status_code == 400 and "n'est plus valable" in answer.get_json()["error"]
    colleague = app.test_client()  # a colleague cannot replay it
    login(colleague, factory.user("staff", territory=territory))
    assert _next(colleague, run, state).status_code == 302 and _sent(db) == 10
    with app.test_request_context():
        progress = approve_all.Progress(run_id=run.id, user_id=1, ids=[1, 2])
        token = approve_all.dump(progress, now=clock())
        assert approve_all.load(token, run_id=run.id, user_id=1, now=clock() + timedelta(minutes=59)) is not None
        assert approve_all.load(token, run_id=run.id, user_id=1, now=clock() + timedelta(minutes=61)) is None
        assert approve_all.load(token, run_id=run.id + 1, user_id=1, now=clock()) is None
