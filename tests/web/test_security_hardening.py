"""Findings of the outside review, each reproduced: redirects, hosts, cookies, session lifetime."""

from __future__ import annotations

import pytest

from tests.conftest import create_test_app
from tests.factories import PASSWORD, login


@pytest.mark.parametrize("target", [
    "/%09/evil.example/", "/%0A/x", "/%0D%0ALocation:%20https://evil.example", "//evil.example",
    "/%5Cevil.example", "https://evil.example/", "javascript:alert(1)", "evil.example", "/\t/evil.example",
])
def test_login_never_redirects_off_site_nor_fails(client, factory, target):
    user = factory.user("staff")
    response = client.post(f"/connexion?next={target}", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/coordination/"


def test_login_goes_back_to_a_local_page(client, factory):
    user = factory.user("staff")
    response = client.post("/connexion?next=/coordination/demandes?page=2",
                           data={"email": user.email, "password": PASSWORD})
    assert response.headers["Location"] == "/coordination/demandes?page=2"


@pytest.fixture
def production_app(sessions, database_url, clock):
    return create_test_app(sessions, database_url, clock=clock, ENV="production", SERVER_NAME=None,
                           BASE_URL="https://guichet.cpts.example", ALLOWED_HOSTS="10.0.0.5",
                           SESSION_COOKIE_SECURE=False)


def test_production_refuses_other_hosts(production_app):
    client = production_app.test_client()
    assert client.get("/", headers={"Host": "evil.example"}).status_code == 400
    assert client.post("/mot-de-passe-oublie", data={"email": "a@b.fr"},
                       headers={"Host": "evil.example"}).status_code == 400
    assert client.get("/", headers={"Host": "guichet.cpts.example"}).status_code == 200
    assert client.get("/", headers={"Host": "10.0.0.5:8000"}).status_code == 200


def test_production_forces_secure_cookies_and_hsts(production_app, factory):
    client = production_app.test_client()
    user = factory.user("staff")
    response = client.post("/connexion", data={"email": user.email, "password": PASSWORD},
                           headers={"Host": "guichet.cpts.example"}, base_url="https://guichet.cpts.example")
    assert "Secure" in response.headers["Set-Cookie"]
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_development_keeps_any_host(client):
    assert client.get("/", headers={"Host": "localhost:5000"}).status_code in (200, 404)


def test_a_busy_session_still_ends_after_twelve_hours(sessions, database_url, factory, clock):
    app = create_test_app(sessions, database_url, clock=clock)
    client = app.test_client()
    login(client, factory.user("staff"))
    for _ in range(12 * 3):  # active every 20 minutes for 12 hours
        clock.advance(minutes=20)
        assert client.get("/coordination/").status_code == 200
    clock.advance(minutes=20)
    response = client.get("/coordination/")
    assert response.status_code == 302 and "/connexion" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "une session dure au plus 12 heures" in page


@pytest.mark.parametrize(("path", "data"), [
    ("/connexion", {"email": "a\x00@b.fr", "password": "x"}),
    ("/mot-de-passe-oublie", {"email": "a@b.fr\x00"}),
    ("/suivi/abc\x00def", None),
    ("/coordination/demandes?q=Mar%00tin", None),
])
def test_nul_and_control_characters_get_a_french_400(client, path, data):
    response = client.post(path, data=data) if data else client.get(path)
    assert response.status_code == 400
    assert "caractère invisible non autorisé" in response.get_data(as_text=True)


def test_text_areas_keep_their_line_breaks(client):
    response = client.post("/mot-de-passe-oublie", data={"email": "a@b.fr\r\n"})
    assert response.status_code != 400 or "caractère invisible" not in response.get_data(as_text=True)


@pytest.mark.parametrize("object_id", ["2147483648", "9223372036854775808", "99999999999999999999999"])
def test_ids_out_of_range_are_404(client, factory, object_id):
    login(client, factory.user("staff"))
    assert client.get(f"/coordination/demandes/{object_id}").status_code == 404


def test_load_owned_treats_an_id_out_of_range_as_missing(app, factory):
    from werkzeug.exceptions import NotFound

    from guichet.models import PatientRequest
    from guichet.web.access import load_owned

    user = factory.user("staff")
    with app.test_request_context("/"):
        from flask_login import login_user

        from guichet.web.security import SessionUser

        login_user(SessionUser(user))
        with pytest.raises(NotFound):
            load_owned(PatientRequest, 2**40)
