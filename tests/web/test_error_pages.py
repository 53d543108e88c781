"""True error pages when the database fails: down, a conflict, a dead connection at teardown."""

from __future__ import annotations

import html

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from guichet.web import create_app

DEAD = "postgresql://postgres@127.0.0.1:1/nothing"


@pytest.fixture
def dead_app():
    return create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": DEAD, "WTF_CSRF_ENABLED": False})


def test_a_page_while_the_database_is_down_is_a_french_503(dead_app):
    response = dead_app.test_client().get("/liste-attente/nulle-part")
    assert response.status_code == 503 and response.headers["Retry-After"] == "60"
    page = html.unescape(response.get_data(as_text=True))
    assert "Service momentanément indisponible" in page and "Réessayez dans quelques minutes" in page


def test_a_form_sent_while_the_database_is_down_does_not_claim_nothing_was_saved(dead_app):
    response = dead_app.test_client().post("/connexion", data={"email": "a@b.fr", "password": "x"})
    assert response.status_code == 503
    page = html.unescape(response.get_data(as_text=True))
    assert "il n'est pas certain que votre dernière action ait été enregistrée" in page
    assert "rien n'a été enregistré" not in page.lower()


def test_a_conflict_refused_by_the_database_is_a_french_409(sessions, database_url):
    from tests.conftest import create_test_app

    app = create_test_app(sessions, database_url)

    @app.post("/_test/conflict")
    def conflict():
        raise IntegrityError("INSERT …", {}, Exception("duplicate key"))

    response = app.test_client().post("/_test/conflict")
    assert response.status_code == 409
    assert "Rien n'a été enregistré" in html.unescape(response.get_data(as_text=True))


def test_a_rollback_on_a_dead_connection_at_teardown_still_serves_the_page(sessions, database_url, monkeypatch):
    from sqlalchemy.orm import Session

    from guichet.web.session import get_session
    from tests.conftest import create_test_app

    app = create_test_app(sessions, database_url)

    @app.get("/_test/dead-connection")
    def dead_connection():
        get_session()
        return "ok"

    def rollback(self):
        raise OperationalError("ROLLBACK", {}, Exception("server closed the connection unexpectedly"))

    invalidated = []
    monkeypatch.setattr(Session, "rollback", rollback)
    monkeypatch.setattr(Session, "invalidate", lambda self: invalidated.append(True))
    response = app.test_client().get("/_test/dead-connection")
    assert response.status_code == 200 and response.get_data(as_text=True) == "ok"
    assert invalidated == [True]


def test_a_signed_in_coordinator_gets_the_same_503_page_during_an_outage(dead_app):
    client = dead_app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = "1:nonce"
        session["_fresh"] = True
    response = client.get("/coordination/")
    assert response.status_code == 503
    assert "Service momentanément indisponible" in html.unescape(response.get_data(as_text=True))
