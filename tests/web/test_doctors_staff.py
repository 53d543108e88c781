"""Coordinators register the territory's GPs and invite them; a GP then signs in to the portal."""

import html

import pytest
from sqlalchemy import select

from guichet.identifiers import rpps_with_key
from guichet.models import AuditEvent, Doctor, Notification, User
from tests.conftest import NOW
from tests.factories import login

RPPS = rpps_with_key("1000000077")


@pytest.fixture
def client(expiring_client):
    return expiring_client


def text(response):
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def staff(factory):
    territory = factory.territory(insee=("26059", "26117", "26217", "26223", "26074"))
    return factory.user("staff", territory=territory)


def form(**overrides):
    data = {"rpps": RPPS, "first_name": "Claire", "last_name": "Martin", "email": "claire.martin@exemple.fr",
            "phone": "04 75 48 00 00", "practice_address": "4 rue du Moulin", "postal_code": "26420",
            "has_step_free_access": "y"}
    data.update(overrides)
    return data


def test_registration_with_a_single_commune_creates_the_gp_and_sends_the_invitation(client, db, staff):
    login(client, staff)
    assert "Inscrire un médecin" in text(client.get("/coordination/medecins/nouveau"))
    response = client.post("/coordination/medecins/nouveau", data=form())
    assert response.status_code == 302
    doctor = db.scalar(select(Doctor).where(Doctor.rpps == RPPS))
    assert response.headers["Location"].endswith(f"/coordination/medecins/{doctor.id}")
    assert doctor.commune_insee == "26074" and doctor.territory_id == staff.territory_id
    assert doctor.phone == "+33475480000" and doctor.has_step_free_access
    invitation = db.scalar(select(Notification).where(Notification.template == "invitation"))
    assert invitation.recipient_email == "claire.martin@exemple.fr"
    assert invitation.context["link"].startswith("http://guichet.test/invitation/")
    page = text(client.get(f"/coordination/medecins/{doctor.id}"))
    assert "Dr Claire MARTIN" in page and "invitation envoyée" in page and "Renvoyer l'invitation" in page


def test_a_postal_code_with_several_communes_asks_which_one(client, db, staff):
    login(client, staff)
    page = text(client.post("/coordination/medecins/nouveau", data=form(postal_code="26190")))
    assert "Plusieurs communes ont ce code postal" in page
    assert "Bouvante" in page and "Oriol-en-Royans" in page and "Saint-Jean-en-Royans" not in page
    assert db.scalar(select(Doctor).where(Doctor.rpps == RPPS)) is None
    response = client.post("/coordination/medecins/nouveau", data=form(postal_code="26190", commune_insee="26117"))
    assert response.status_code == 302
    assert db.scalar(select(Doctor).where(Doctor.rpps == RPPS)).commune_insee == "26117"


def test_a_commune_outside_the_territory_is_refused(client, db, staff):
    login(client, staff)
    page = text(client.post("/coordination/medecins/nouveau", data=form(postal_code="75001")))
    assert "aucune commune du territoire" in page
    # a forged choice of a commune of the postal code that is not the territory's
    page = text(client.post("/coordination/medecins/nouveau", data=form(postal_code="26190", commune_insee="26307")))
    assert "ne correspond pas au code postal" in page
    assert db.scalar(select(Doctor).where(Doctor.rpps == RPPS)) is None


@pytest.mark.parametrize(("rpps", "message"), [
    ("12345", "Le numéro RPPS comporte 11 chiffres."),
    (RPPS[:-1] + str((int(RPPS[-1]) + 1) % 10), "clé de contrôle incorrecte"),
])
def test_an_invalid_rpps_is_explained_next_to_the_field(client, db, staff, rpps, message):
    login(client, staff)
    response = client.post("/coordination/medecins/nouveau", data=form(rpps=rpps))
    page = text(response)
    assert response.status_code == 200 and message in page
    assert 'id="rpps-error"' in page and 'href="#rpps"' in page
    assert db.scalar(select(User).where(User.email == "claire.martin@exemple.fr")) is None


def test_a_duplicate_rpps_is_refused(client, db, factory, staff):
    factory.doctor(territory=staff.territory, rpps=RPPS)
    login(client, staff)
    page = text(client.post("/coordination/medecins/nouveau", data=form()))
    assert "Un médecin avec ce numéro RPPS est déjà inscrit." in page


def test_missing_fields_are_named_in_french(client, staff):
    login(client, staff)
    page = text(client.post("/coordination/medecins/nouveau", data={}))
    for message in ("Indiquez le numéro RPPS.", "Indiquez le nom.", "Indiquez l'adresse du cabinet.",
                    "Indiquez le code postal."):
        assert message in page


def test_the_invited_gp_sets_a_password_and_reaches_the_portal(client, db, staff):
    login(client, staff)
    client.post("/coordination/medecins/nouveau", data=form())
    link = db.scalar(select(Notification).where(Notification.template == "invitation")).context["link"]
    client.post("/deconnexion")
    path = link.replace("http://guichet.test", "")
    password = "Une longue phrase de passe !"
    assert client.post(path, data={"password": password, "confirm": password}).status_code == 302
    response = client.post("/connexion", data={"email": "claire.martin@exemple.fr", "password": password})
    assert response.headers["Location"].endswith("/medecin/")
    assert "Mes propositions" in text(client.get("/medecin/"))


def test_resending_the_invitation_kills_the_previous_link(client, db, staff):
    login(client, staff)
    client.post("/coordination/medecins/nouveau", data=form())
    doctor = db.scalar(select(Doctor).where(Doctor.rpps == RPPS))
    first = db.scalar(select(Notification).where(Notification.template == "invitation")).context["link"]
    response = client.post(f"/coordination/medecins/{doctor.id}/invitation", follow_redirects=True)
    assert "nouvelle invitation" in text(response)
    links = db.scalars(select(Notification.context).where(Notification.template == "invitation")
                       .order_by(Notification.id)).all()
    assert len(links) == 2 and links[1]["link"] != first
    client.post("/deconnexion")
    assert client.get(first.replace("http://guichet.test", "")).status_code == 410
    assert client.get(links[1]["link"].replace("http://guichet.test", "")).status_code == 200


def test_an_activated_gp_gets_no_new_invitation(client, db, factory, staff):
    user = factory.user("doctor", doctor=factory.doctor(territory=staff.territory))
    login(client, staff)
    response = client.post(f"/coordination/medecins/{user.doctor_id}/invitation", follow_redirects=True)
    assert "déjà activé son compte" in text(response)
    assert db.scalar(select(Notification).where(Notification.template == "invitation")) is None


def test_the_list_shows_only_the_territory_gps_and_others_are_not_found(client, db, factory, staff):
    mine = factory.doctor(territory=staff.territory, last_name="Dumoulin")
    factory.declaration(mine, 4)
    theirs = factory.doctor(territory=factory.territory(), last_name="Ailleurs")
    login(client, staff)
    page = text(client.get("/coordination/medecins"))
    assert "DUMOULIN" in page and "AILLEURS" not in page and "4 places sur 4" in page
    assert client.get(f"/coordination/medecins/{theirs.id}").status_code == 404
    assert client.post(f"/coordination/medecins/{theirs.id}/invitation").status_code == 404
    assert client.get(f"/coordination/medecins/{mine.id}").status_code == 200


def test_registration_is_audited_without_personal_data(client, db, staff):
    login(client, staff)
    client.post("/coordination/medecins/nouveau", data=form())
    doctor = db.scalar(select(Doctor).where(Doctor.rpps == RPPS))
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "doctor.create"))
    assert (event.user_id, event.object_id, event.at_dt) == (staff.id, doctor.id, NOW)
    assert "Martin" not in repr(event.detail)
