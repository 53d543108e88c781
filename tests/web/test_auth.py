"""Sign-in, lockout, logout, idle timeout, password reset and invitation."""

import re

from sqlalchemy import select

from guichet.accounts import users
from guichet.models import AuditEvent, Notification
from tests.conftest import create_test_app
from tests.factories import PASSWORD, login


def test_staff_signs_in_and_lands_on_the_dashboard(client, factory):
    user = factory.user("staff")
    response = client.post("/connexion", data={"email": user.email.upper(), "password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"].endswith("/coordination/")
    assert client.get("/coordination/").status_code == 200


def test_doctor_lands_on_the_gp_portal_and_cannot_open_the_console(client, factory, db):
    user = factory.user("doctor")
    login(client, user)
    assert client.get("/medecin/").status_code == 200
    assert client.get("/coordination/").status_code == 403
    assert db.scalar(select(AuditEvent).where(AuditEvent.action == "access_denied",
                                              AuditEvent.user_id == user.id))


def test_wrong_password_and_unknown_email_get_the_same_message(client, factory):
    user = factory.user("staff")
    wrong = client.post("/connexion", data={"email": user.email, "password": "nope"})
    unknown = client.post("/connexion", data={"email": "personne@exemple.fr", "password": "nope"})
    for response in (wrong, unknown):
        assert response.status_code == 200
        assert "Adresse e-mail ou mot de passe incorrect." in response.get_data(as_text=True)


def test_logout_really_ends_the_session(client, factory):
    user = factory.user("staff")
    login(client, user)
    stolen = client.get_cookie("session", domain="guichet.test").value
    client.post("/deconnexion")
    assert client.get("/coordination/").status_code == 302
    client.set_cookie("session", stolen, domain="guichet.test")  # replaying the old cookie does not work
    assert client.get("/coordination/").status_code == 302


def test_session_ends_after_idle_timeout(sessions, database_url, factory, clock):
    app = create_test_app(sessions, database_url, clock=clock, IDLE_TIMEOUT_MINUTES=30)
    client = app.test_client()
    user = factory.user("staff")
    login(client, user)
    clock.advance(minutes=29)
    assert client.get("/coordination/").status_code == 200  # activity within the window
    clock.advance(minutes=29)
    assert client.get("/coordination/").status_code == 200  # the window slides with activity
    clock.advance(minutes=31)
    response = client.get("/coordination/")
    assert response.status_code == 302 and "/connexion" in response.headers["Location"]


def test_password_reset_by_single_use_link(client, factory, db):
    user = factory.user("staff")
    response = client.post("/mot-de-passe-oublie", data={"email": user.email})
    assert response.status_code == 302
    message = db.scalar(select(Notification).where(Notification.recipient_user_id == user.id))
    token = re.search(r"/mot-de-passe/([\w-]+)", message.context["link"]).group(1)
    weak = client.post(f"/mot-de-passe/{token}", data={"password": "court", "confirm": "court"})
    assert "Mot de passe trop faible" in weak.get_data(as_text=True)
    new = "Une-Nouvelle-Cle-99"
    assert client.post(f"/mot-de-passe/{token}", data={"password": new, "confirm": new}).status_code == 302
    assert client.get(f"/mot-de-passe/{token}").status_code == 410  # single use
    login(client, user, password=new)


def test_reset_request_for_unknown_address_says_the_same_and_sends_nothing(client, db):
    response = client.post("/mot-de-passe-oublie", data={"email": "inconnu@exemple.fr"},
                           follow_redirects=True)
    assert "Si un compte existe pour cette adresse" in response.get_data(as_text=True)
    assert db.scalar(select(Notification)) is None


def test_invitation_link_expires(client, factory, db, now, clock):
    user = factory.user("staff")
    token = users.issue_token(db, user, "invitation", now=now)
    clock.advance(days=6)
    assert client.get(f"/invitation/{token}").status_code == 200
    clock.advance(days=2)
    assert client.get(f"/invitation/{token}").status_code == 410


def test_login_writes_the_audit_log(client, factory, db):
    user = factory.user("staff")
    login(client, user)
    assert db.scalar(select(AuditEvent).where(AuditEvent.action == "login", AuditEvent.user_id == user.id))


def test_reset_and_invitation_links_ignore_a_forged_host_header(sessions, database_url, factory, db):
    # production-like: no SERVER_NAME, so any Host header reaches the views
    app = create_test_app(sessions, database_url, SERVER_NAME=None, BASE_URL="https://guichet.cpts.example")
    client = app.test_client()
    user = factory.user("staff")
    client.post("/mot-de-passe-oublie", data={"email": user.email}, headers={"Host": "evil.example"})
    reset = db.scalar(select(Notification).where(Notification.recipient_user_id == user.id))
    assert reset.context["link"].startswith("https://guichet.cpts.example/mot-de-passe/")
    admin = factory.user("admin")
    client.post("/connexion", data={"email": admin.email, "password": PASSWORD}, headers={"Host": "evil.example"})
    client.post("/coordination/admin/utilisateurs/nouveau", headers={"Host": "evil.example"},
                data={"full_name": "Nora Nouvelle", "email": "nora@exemple.fr", "role": "staff"})
    invitation = db.scalar(select(Notification).where(Notification.recipient_email == "nora@exemple.fr"))
    assert invitation.context["link"].startswith("https://guichet.cpts.example/invitation/")
