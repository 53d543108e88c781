"""Administration: staff accounts by invitation, deactivation, territory settings."""

from __future__ import annotations

from sqlalchemy import select

from guichet.models import AuditEvent, Notification, User
from guichet.territories import settings as territory_settings
from tests.factories import login


def _admin(factory, client):
    territory = factory.territory()
    admin = factory.user("admin", territory)
    login(client, admin)
    return territory, admin


def test_admin_invites_a_coordinator_by_email_link(client, factory, db):
    territory, admin = _admin(factory, client)
    response = client.post("/coordination/admin/utilisateurs/nouveau",
                           data={"full_name": "Camille Roux", "email": "Camille.Roux@cpts.fr", "role": "staff"})
    assert response.status_code == 302
    user = db.scalars(select(User).where(User.full_name == "Camille Roux")).one()
    assert user.role == "staff" and user.territory_id == territory.id and user.password_hash is None
    mail = db.scalars(select(Notification).where(Notification.recipient_user_id == user.id)).one()
    assert mail.template == "invitation" and mail.context["territory_name"] == territory.name
    link = mail.context["link"]
    assert "/invitation/" in link
    # the invited person sets a password through the existing invitation page and signs in
    path = link.split("guichet.test", 1)[1]
    client.post("/deconnexion")
    assert client.post(path, data={"password": "Une-Phrase-De-Passe-42!", "confirm": "Une-Phrase-De-Passe-42!"}).status_code == 302
    login(client, user, "Une-Phrase-De-Passe-42!")
    assert db.scalars(select(AuditEvent).where(AuditEvent.action == "user.invite")).one().detail == {"role": "staff"}


def test_invitation_refuses_an_existing_email_or_unknown_role(client, factory, db):
    _, admin = _admin(factory, client)
    response = client.post("/coordination/admin/utilisateurs/nouveau",
                           data={"full_name": "Double", "email": admin.email, "role": "staff"})
    assert response.status_code == 422 and "Un compte existe déjà" in response.get_data(as_text=True)
    response = client.post("/coordination/admin/utilisateurs/nouveau",
                           data={"full_name": "Médecin", "email": "x@cpts.fr", "role": "doctor"})
    assert response.status_code == 422


def test_deactivating_an_account_ends_its_sessions(app, client, factory, db):
    territory, admin = _admin(factory, client)
    staff = factory.user("staff", territory)
    other = app.test_client()
    login(other, staff)
    assert other.get("/coordination/").status_code == 200
    assert client.post(f"/coordination/admin/utilisateurs/{staff.id}/desactiver").status_code == 302
    db.refresh(staff)
    assert not staff.is_active
    assert other.get("/coordination/").status_code == 302  # back to the login page
    assert client.post(f"/coordination/admin/utilisateurs/{staff.id}/reactiver").status_code == 302
    db.refresh(staff)
    assert staff.is_active


def test_admin_cannot_deactivate_themselves_nor_touch_another_territory(client, factory, db):
    _, admin = _admin(factory, client)
    response = client.post(f"/coordination/admin/utilisateurs/{admin.id}/desactiver", follow_redirects=True)
    assert "propre compte" in response.get_data(as_text=True)
    db.refresh(admin)
    assert admin.is_active
    foreign = factory.user("staff")
    assert client.post(f"/coordination/admin/utilisateurs/{foreign.id}/desactiver").status_code == 404
    db.refresh(foreign)
    assert foreign.is_active


def test_resend_invitation_makes_the_old_link_useless(client, factory, db):
    territory, admin = _admin(factory, client)
    client.post("/coordination/admin/utilisateurs/nouveau",
                data={"full_name": "Léa", "email": "lea@cpts.fr", "role": "admin"})
    user = db.scalars(select(User).where(User.email == "lea@cpts.fr")).one()
    assert client.post(f"/coordination/admin/utilisateurs/{user.id}/reinviter").status_code == 302
    mails = db.scalars(select(Notification).where(Notification.recipient_user_id == user.id)
                       .order_by(Notification.id)).all()
    assert len(mails) == 2
    old_path = mails[0].context["link"].split("guichet.test", 1)[1]
    assert client.get(old_path).status_code == 410


def _settings_data(**changes):
    data = {f"weight_{k}": str(int(v)) for k, v in territory_settings.DEFAULT_WEIGHTS.items()}
    data.update({k: str(v) for k, v in territory_settings.DEFAULT_SETTINGS.items() if k != "priority_weights"})
    data.update(changes)
    return data


def test_settings_change_weights_and_recompute_open_requests(client, factory, db):
    territory, _ = _admin(factory, client)
    req = factory.request(factory.patient(territory, is_ald=True))
    closed = factory.request(factory.patient(territory, is_ald=True), status="cancelled")
    before_closed = closed.priority_score
    page = client.get("/coordination/admin/reglages").get_data(as_text=True)
    assert 'value="300"' in page
    response = client.post("/coordination/admin/reglages", data=_settings_data(
        weight_ald="500", proposal_answer_days="10", is_auto_approval="y"))
    assert response.status_code == 302
    db.refresh(territory)
    db.refresh(req)
    db.refresh(closed)
    assert territory.settings["priority_weights"]["ald"] == 500
    assert territory.settings["proposal_answer_days"] == 10
    assert territory.is_auto_approval and not territory.is_auto_matching
    assert req.priority_breakdown["ald"] == 500
    assert closed.priority_score == before_closed  # closed requests keep their history
    audit = db.scalars(select(AuditEvent).where(AuditEvent.action == "territory.settings")).one()
    assert audit.detail["recomputed"] == 1 and "priority_weights" in audit.detail["changed"]


def test_settings_out_of_range_are_refused_with_french_messages(client, factory, db):
    territory, _ = _admin(factory, client)
    response = client.post("/coordination/admin/reglages",
                           data=_settings_data(weight_ald="5000", proposal_answer_days="0", default_patient_km="abc"))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "entre 0 et 1000" in html and "entre 1 et 30" in html
    db.refresh(territory)
    assert not territory.settings


def test_settings_service_validates_on_its_own(db, factory, now):
    territory = factory.territory()
    try:
        territory_settings.update_settings(db, territory, {"priority_weights": {"ald": -1}, "gp_follow_up_days": 999}, now=now)
    except territory_settings.InvalidSettings as exc:
        assert set(exc.errors) == {"weight_ald", "gp_follow_up_days"}
    else:  # pragma: no cover
        raise AssertionError("invalid settings were accepted")
    assert territory_settings.setting(territory, "proposal_answer_days") == 7


def test_every_delay_the_jobs_read_is_a_setting_the_admin_can_change():
    from guichet.messaging import follow_up

    assert set(follow_up.DEFAULTS) <= set(territory_settings.NUMERIC_RANGES)
    for name, value in follow_up.DEFAULTS.items():
        assert territory_settings.DEFAULT_SETTINGS[name] == value


def test_admin_sets_the_time_of_the_nightly_matching_and_a_wrong_time_is_explained(client, factory, db):
    territory, _ = _admin(factory, client)
    page = client.get("/coordination/admin/reglages").get_data(as_text=True)
    assert 'value="02:30"' in page and "Heure de l&#39;attribution automatique" in page
    bad = client.post("/coordination/admin/reglages", data=_settings_data(nightly_matching_time="25:00"))
    assert bad.status_code == 422 and "format HH:MM" in bad.get_data(as_text=True)
    good = client.post("/coordination/admin/reglages", data=_settings_data(nightly_matching_time="4h15"))
    assert good.status_code == 302
    db.refresh(territory)
    assert territory_settings.setting(territory, "nightly_matching_time") == "04:15"
