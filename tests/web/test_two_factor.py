"""Second factor on the web (issue 16): the code step after the password, enrolment, policy, admin reset."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
from sqlalchemy import select

from guichet.accounts import two_factor
from guichet.models import AuditEvent, RecoveryCode
from tests.factories import PASSWORD, login

IP = "203.0.113.9"
LIMITS = {"max_delay": timedelta(minutes=15), "notice_after": 5}


def enrolled(db, factory, clock, role="staff", territory=None):
    user = factory.user(role, territory)
    two_factor.pending_secret(db, user)
    codes = two_factor.confirm_enrolment(db, user, pyotp.TOTP(user.totp_secret).at(clock()), now=clock(), ip=IP,
                                         **LIMITS)
    clock.advance(seconds=30)
    return user, codes


def current_code(user, clock):
    return pyotp.TOTP(user.totp_secret).at(clock())


def password_step(client, user):
    response = client.post("/connexion", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"].endswith("/connexion/code")
    return response


def test_after_the_password_a_code_is_asked_and_the_session_grants_nothing_until_then(client, db, factory, clock):
    user, _ = enrolled(db, factory, clock)
    password_step(client, user)
    page = client.get("/connexion/code")
    assert page.status_code == 200 and "Code de vérification" in page.get_data(as_text=True)
    # half signed in: no page of the console, no account page
    assert client.get("/coordination/").headers["Location"].startswith("/connexion")
    assert client.get("/compte/double-authentification").headers["Location"].startswith("/connexion")

    wrong = client.post("/connexion/code", data={"code": "12345"})
    assert "pas le bon" in wrong.get_data(as_text=True)
    right = client.post("/connexion/code", data={"code": current_code(user, clock)})
    assert right.status_code == 302 and right.headers["Location"].endswith("/coordination/")
    assert client.get("/coordination/").status_code == 200


def test_the_code_step_keeps_where_the_person_was_going(client, db, factory, clock):
    user, _ = enrolled(db, factory, clock)
    client.post("/connexion?next=/coordination/demandes", data={"email": user.email, "password": PASSWORD})
    response = client.post("/connexion/code", data={"code": current_code(user, clock)})
    assert response.headers["Location"].endswith("/coordination/demandes")


def test_the_code_must_come_within_five_minutes(client, db, factory, clock):
    user, _ = enrolled(db, factory, clock)
    password_step(client, user)
    clock.advance(minutes=5, seconds=1)
    response = client.post("/connexion/code", data={"code": current_code(user, clock)}, follow_redirects=True)
    assert "dans les 5 minutes" in response.get_data(as_text=True)
    assert client.get("/coordination/").status_code == 302


def test_a_recovery_code_signs_in_once_and_says_how_many_are_left(client, db, factory, clock):
    user, codes = enrolled(db, factory, clock, role="doctor")
    password_step(client, user)
    response = client.post("/connexion/code", data={"code": codes[0]}, follow_redirects=True)
    assert "il vous en reste 9" in response.get_data(as_text=True)
    client.post("/deconnexion")
    password_step(client, user)
    again = client.post("/connexion/code", data={"code": codes[0]})
    assert again.status_code == 200 and "pas le bon" in again.get_data(as_text=True)


def test_wrong_codes_are_slowed_down_like_wrong_passwords(client, db, factory, clock):
    user, _ = enrolled(db, factory, clock)
    password_step(client, user)
    for _ in range(4):
        client.post("/connexion/code", data={"code": "000000"})
    response = client.post("/connexion/code", data={"code": current_code(user, clock)})
    assert "Trop de tentatives de connexion" in response.get_data(as_text=True)
    assert client.get("/coordination/").status_code == 302


def test_a_reset_password_or_an_admin_reset_cancels_a_half_done_sign_in(client, db, factory, clock):
    user, _ = enrolled(db, factory, clock)
    password_step(client, user)
    user.session_nonce = "changed"  # what a password change or an admin reset does
    db.flush()
    assert client.get("/connexion/code").headers["Location"].endswith("/connexion")


def test_enrolment_page_shows_an_inline_qr_code_and_the_key_then_the_codes_once(client, db, factory, clock):
    user = factory.user("doctor")
    login(client, user)
    page = client.get("/compte/double-authentification")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<svg" in html and "data:" not in html
    assert "FreeOTP" in html and "Microsoft Authenticator" in html
    db.refresh(user)
    shown = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', html).group(1)
    assert shown.replace(" ", "") == user.totp_secret

    wrong = client.post("/compte/double-authentification", data={"code": "abc"})
    assert wrong.status_code == 422 and not user.has_second_factor
    done = client.post("/compte/double-authentification", data={"code": current_code(user, clock)})
    text = done.get_data(as_text=True)
    codes = re.findall(r"<code>([a-z2-9]{5}-[a-z2-9]{5})</code>", text)
    assert done.status_code == 200 and len(codes) == 10 and "ne seront plus jamais affichés" in text
    db.refresh(user)
    assert user.has_second_factor
    # the codes are not shown again
    manage = client.get("/compte/double-authentification").get_data(as_text=True)
    assert "10 sur 10" in manage and codes[0] not in manage


def test_renewing_codes_and_disabling_from_the_account_page(client, db, factory, clock):
    user, old = enrolled(db, factory, clock)
    client.post("/connexion", data={"email": user.email, "password": PASSWORD})
    client.post("/connexion/code", data={"code": current_code(user, clock)})
    clock.advance(seconds=30)
    refused = client.post("/compte/double-authentification/codes-de-secours", data={"renew-code": "000000"})
    assert refused.status_code == 422
    renewed = client.post("/compte/double-authentification/codes-de-secours",
                          data={"renew-code": current_code(user, clock)})
    new = re.findall(r"<code>([a-z2-9]{5}-[a-z2-9]{5})</code>", renewed.get_data(as_text=True))
    assert len(new) == 10 and not set(new) & set(old)
    clock.advance(seconds=30)
    wrong_password = client.post("/compte/double-authentification/desactiver",
                                 data={"disable-password": "nope", "disable-code": current_code(user, clock)})
    assert wrong_password.status_code == 422 and "Le mot de passe n&#39;est pas le bon" in wrong_password.get_data(
        as_text=True)
    db.refresh(user)
    assert user.has_second_factor
    off = client.post("/compte/double-authentification/desactiver",
                      data={"disable-password": PASSWORD, "disable-code": current_code(user, clock)})
    assert off.status_code == 302
    db.refresh(user)
    assert not user.has_second_factor
    assert db.scalar(select(RecoveryCode).where(RecoveryCode.user_id == user.id)) is None


def test_admins_must_enrol_when_required_and_reach_nothing_else(app, client, db, factory, clock):
    app.config["REQUIRE_2FA_ADMINS"] = True
    admin = factory.user("admin")
    response = client.post("/connexion", data={"email": admin.email, "password": PASSWORD})
    assert response.headers["Location"].endswith("/compte/double-authentification")
    for path in ("/coordination/", "/coordination/demandes", "/coordination/admin"):
        assert client.get(path).headers["Location"].endswith("/compte/double-authentification"), path
    assert client.post("/coordination/admin/utilisateurs/nouveau").headers["Location"].endswith(
        "/compte/double-authentification")
    page = client.get("/compte/double-authentification").get_data(as_text=True)
    assert "Votre rôle impose la double authentification" in page
    db.refresh(admin)
    client.post("/compte/double-authentification", data={"code": current_code(admin, clock)})
    assert client.get("/coordination/").status_code == 200


def test_staff_must_enrol_only_when_the_setting_says_so_and_gps_never(app, client, db, factory):
    app.config["REQUIRE_2FA_ADMINS"] = True
    staff, doctor = factory.user("staff"), factory.user("doctor")
    login(client, staff)
    assert client.get("/coordination/").status_code == 200
    client.post("/deconnexion")
    app.config["REQUIRE_2FA_STAFF"] = True
    login(client, staff)
    assert client.get("/coordination/").headers["Location"].endswith("/compte/double-authentification")
    client.post("/deconnexion")
    login(client, doctor)
    assert client.get("/medecin/").status_code == 200


def test_an_admin_resets_the_second_factor_of_a_colleague(client, db, factory, clock):
    territory = factory.territory()
    admin = factory.user("admin", territory)
    colleague, _ = enrolled(db, factory, clock, territory=territory)
    login(client, admin)
    listing = client.get("/coordination/admin").get_data(as_text=True)
    assert "Réinitialiser la double authentification" in listing
    response = client.post(f"/coordination/admin/utilisateurs/{colleague.id}/double-authentification/reinitialiser",
                           follow_redirects=True)
    assert "est réinitialisée" in response.get_data(as_text=True)
    db.refresh(colleague)
    assert not colleague.has_second_factor
    assert db.scalar(select(AuditEvent).where(AuditEvent.action == "two_factor.reset",
                                              AuditEvent.object_id == colleague.id)).user_id == admin.id
    # the colleague signs in with the password alone now
    client.post("/deconnexion")
    login(client, colleague)
    assert client.get("/coordination/").status_code == 200


def test_another_territorys_admin_cannot_reset_it(client, db, factory, clock):
    colleague, _ = enrolled(db, factory, clock)
    login(client, factory.user("admin"))
    response = client.post(f"/coordination/admin/utilisateurs/{colleague.id}/double-authentification/reinitialiser")
    assert response.status_code == 404
    db.refresh(colleague)
    assert colleague.has_second_factor


def test_an_admin_resets_a_gps_second_factor_from_the_gp_page(client, db, factory, clock):
    territory = factory.territory()
    doctor = factory.doctor(territory=territory)
    gp, _ = enrolled(db, factory, clock, role="doctor")
    gp.doctor_id = doctor.id  # the enrolled account is this GP's
    db.flush()
    db.refresh(doctor)
    staff = factory.user("staff", territory)
    login(client, staff)  # coordinators see the state, only admins reset
    page = client.get(f"/coordination/medecins/{doctor.id}").get_data(as_text=True)
    assert "Double authentification activée" in page and "Réinitialiser la double" not in page
    client.post("/deconnexion")
    login(client, factory.user("admin", territory))
    assert "Réinitialiser la double" in client.get(f"/coordination/medecins/{doctor.id}").get_data(as_text=True)
    response = client.post(f"/coordination/admin/medecins/{doctor.id}/double-authentification/reinitialiser",
                           follow_redirects=True)
    assert "est réinitialisée" in response.get_data(as_text=True)
    db.refresh(gp)
    assert not gp.has_second_factor
    assert db.scalar(select(AuditEvent).where(AuditEvent.action == "two_factor.reset")).territory_id == territory.id
