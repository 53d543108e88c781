"""The public médecin traitant request: every path a patient (or a helper) can take."""

from __future__ import annotations

from datetime import date
from html import unescape

import pytest
from sqlalchemy import func, select

from guichet.identifiers import format_short_code
from guichet.messaging import notifications
from guichet.models import Notification, Patient, PatientRequest, RequestEvent

URL = "/demande/medecin-traitant"
RECEIVED = "/demande/recue/mt"


@pytest.fixture
def territory(factory):
    # 26190 covers several communes (two of them here); 38000 is Grenoble alone
    return factory.territory(insee=("26223", "26059", "38185"))


def mt_form(**overrides):
    data = {
        "filled_by": "self",
        "birth_name": "Martin",
        "first_names": "Jeanne Marie",
        "birth_date": "1950-03-14",
        "sex": "F",
        "phone": "06 12 34 56 78",
        "email": "jeanne.martin@exemple.fr",
        "address": "3 rue des Écoles",
        "postal_code": "38000",
        "max_km": "10",
        "is_consented": "y",
        "submit": "Envoyer la demande",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def counts(db):
    return tuple(
        db.scalar(select(func.count()).select_from(model))
        for model in (Patient, PatientRequest, RequestEvent, Notification)
    )


def test_form_page_is_french_and_lists_every_section(client):
    html = unescape(client.get(URL).get_data(as_text=True))
    for text in ("Jusqu'où", "Demander un médecin traitant", "Nom de naissance", "Code postal",
                 "Affection de longue durée", "Complémentaire santé solidaire",
                 "Langues parlées", "Vos données personnelles", "Combien de temps",
                 "Ne pas remplir ce champ"):
        assert text in html


def test_valid_request_is_stored_waiting_with_reference_token_and_mail(client, db, territory):
    response = client.post(URL, data=mt_form(is_ald="y", languages=["en", "ar"]))
    assert response.status_code == 303 and response.headers["Location"] == RECEIVED
    req = db.scalars(select(PatientRequest).order_by(PatientRequest.id.desc())).first()
    assert req.status == "waiting" and req.channel == "web" and req.kind == "mt"
    assert req.reference.startswith("MT-") and len(req.tracking_token) >= 22  # ≥ 128 bits
    assert req.territory_id == territory.id and req.is_consented and req.consent_dt is not None
    patient = req.patient
    assert patient.phone == "+33612345678"  # stored normalised
    assert patient.commune_insee == "38185" and patient.postal_code == "38000"
    assert patient.languages == ["en", "ar"] and patient.is_ald
    assert req.priority_breakdown["ald"] == 300 and req.priority_breakdown["age_70"] == 200
    mail = db.scalar(select(Notification).where(Notification.request_id == req.id))
    assert mail.template == "request_received" and mail.recipient_email == "jeanne.martin@exemple.fr"
    assert req.tracking_token in mail.context["tracking_url"]
    text, _html = notifications.render(mail.template, dict(mail.context))
    assert req.reference in text and format_short_code(req.short_code) in text  # what the page no longer shows

    page = client.get(response.headers["Location"])
    html = unescape(page.get_data(as_text=True))
    assert page.status_code == 200 and "Votre demande est bien reçue" in html and "par e-mail" in html
    assert req.reference not in html and req.tracking_token not in html  # the link travels by e-mail only
    assert "Martin" not in html and "Jeanne" not in html  # no identity on screen
    assert page.headers["Cache-Control"] == "no-store"


def test_postal_code_with_several_communes_asks_to_pick_one_and_keeps_answers(client, db, territory):
    before = counts(db)
    response = client.post(URL, data=mt_form(postal_code="26190"))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "plusieurs communes" in html and "Oriol-en-Royans" in html and "Bouvante" in html
    assert 'value="Martin"' in html and 'value="jeanne.martin@exemple.fr"' in html
    assert counts(db) == before

    response = client.post(URL, data=mt_form(postal_code="26190", commune_insee="26223"))
    assert response.status_code == 303
    req = db.scalars(select(PatientRequest).order_by(PatientRequest.id.desc())).first()
    assert req.patient.commune_insee == "26223"


def test_lookup_button_shows_the_communes_without_errors_or_saving(client, db, territory):
    before = counts(db)
    response = client.post(URL, data={"postal_code": "26190", "lookup": "Rechercher la commune"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Oriol-en-Royans" in html
    assert "erreur" not in html.lower().split("<footer")[0].replace("error", "")
    assert counts(db) == before


def test_unknown_postal_code_is_an_error_next_to_the_field(client, db, territory):
    html = client.post(URL, data=mt_form(postal_code="00000")).get_data(as_text=True)
    assert "ne correspond à aucune commune" in html and 'id="postal_code-error"' in html


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"birth_name": ""}, "birth_name", "Indiquez le nom de naissance."),
        ({"first_names": ""}, "first_names", "Indiquez le ou les prénoms."),
        ({"birth_date": ""}, "birth_date", "Indiquez la date de naissance."),
        ({"birth_date": "31/02/1950"}, "birth_date", "Cette date n'est pas valide"),
        ({"birth_date": "2030-01-01"}, "birth_date", "ne peut pas être dans le futur"),
        ({"sex": None}, "sex", "Choisissez une réponse."),
        ({"phone": "12"}, "phone", "vérifiez le nombre de chiffres"),
        ({"phone": "abc"}, "phone", "Numéro de téléphone non reconnu"),
        ({"phone": "", "email": ""}, "phone", "au moins un numéro de téléphone ou une adresse e-mail"),
        ({"email": "pas-une-adresse"}, "email", "Adresse e-mail non valide"),
        ({"postal_code": ""}, "postal_code", "Indiquez le code postal."),
        ({"is_consented": None}, "is_consented", "Votre accord est nécessaire"),
        ({"max_km": "50"}, "max_km", ""),
        ({"hospital_discharge_date": "2027-01-01"}, "hospital_discharge_date", "dans le futur"),
        ({"children_birth_dates": "03/05/2018\nhier"}, "children_birth_dates", "n'est pas une date"),
        ({"children_birth_dates": "03/05/2000"}, "children_birth_dates", "moins de 16 ans"),
        ({"filled_by": "relative"}, "proxy_relation", "Indiquez votre lien"),
        ({"filled_by": "professional", "proxy_name": "Paul Durand"}, "proxy_profession",
         "Indiquez votre profession"),
        ({"filled_by": "professional", "proxy_name": "Paul Durand", "proxy_profession": "Pharmacien"},
         "proxy_phone", "Indiquez un numéro de téléphone"),
    ],
)
def test_each_invalid_answer_is_shown_next_to_its_field_and_in_the_summary(
    client, db, territory, overrides, field, message
):
    before = counts(db)
    response = client.post(URL, data=mt_form(**overrides))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'class="error-summary"' in html and f'href="#{field}"' in html
    assert f'id="{field}-error"' in html
    assert message in unescape(html)
    assert counts(db) == before  # nothing half-saved


def test_relative_filling_in_becomes_the_follow_up_contact(client, db, territory):
    response = client.post(URL, data=mt_form(
        filled_by="relative", proxy_relation="fille", proxy_name="Sophie Martin",
        proxy_phone="0611223344", proxy_email="sophie@exemple.fr", email="", phone="",
    ))
    assert response.status_code == 303
    req = db.scalars(select(PatientRequest).order_by(PatientRequest.id.desc())).first()
    assert req.patient.filled_by == "relative" and req.patient.proxy_phone == "+33611223344"
    mail = db.scalar(select(Notification).where(Notification.request_id == req.id))
    assert mail.recipient_email == "sophie@exemple.fr"


def test_no_email_means_a_letter_with_the_link_and_the_page_says_so(client, db, territory):
    response = client.post(URL, data=mt_form(email=""))
    req = db.scalars(select(PatientRequest).order_by(PatientRequest.id.desc())).first()
    letter = db.scalar(select(Notification).where(Notification.request_id == req.id))
    assert letter.channel == "letter" and letter.template == "request_received" and letter.status == "pending"
    assert req.tracking_token in letter.context["tracking_url"]
    html = unescape(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "par courrier" in html and req.reference not in html


def test_no_email_and_no_postal_address_asks_for_the_address_and_stores_nothing(client, db, territory):
    before = counts(db)
    response = client.post(URL, data=mt_form(email="", address=""))
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 200 and 'id="address-error"' in html
    assert "sans adresse e-mail, c'est par courrier" in html
    assert counts(db) == before


def test_out_of_territory_explains_where_to_turn_and_stores_nothing(client, db, territory):
    before = counts(db)
    response = client.post(URL, data=mt_form(postal_code="75001"))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "n'est pas couverte" in html and "CPAM" in html and "annuaire.sante.ameli.fr" in html
    assert counts(db) == before


def test_same_person_twice_creates_nothing_and_resends_the_existing_link(client, db, territory):
    assert client.post(URL, data=mt_form()).status_code == 303
    first = db.scalars(select(PatientRequest).order_by(PatientRequest.id.desc())).first()
    before = db.scalar(select(func.count()).select_from(PatientRequest))
    # same person typed differently: case, accents, usage name given as birth name
    response = client.post(URL, data=mt_form(birth_name="MARTIN", first_names="jeanne-marie",
                                             email="autre@exemple.fr", phone="0699887766"))
    assert response.status_code == 303 and response.headers["Location"] == RECEIVED
    assert db.scalar(select(func.count()).select_from(PatientRequest)) == before
    reminder = db.scalar(select(Notification).where(Notification.template == "request_exists"))
    # sent to the contact on file, never to the address typed the second time
    assert reminder.recipient_email == "jeanne.martin@exemple.fr"
    assert first.tracking_token in reminder.context["tracking_url"]
    assert db.scalar(select(func.count()).where(Notification.recipient_email == "autre@exemple.fr")) == 0
    # asking a third time the same day does not send the link again
    client.post(URL, data=mt_form())
    assert db.scalar(select(func.count()).where(Notification.template == "request_exists")) == 1


def test_a_closed_request_does_not_block_a_new_one(client, db, factory, territory, now):
    patient = factory.patient(territory, commune="38185", birth_name="Martin",
                              first_names="Jeanne Marie", birth_date=date(1950, 3, 14))
    factory.request(patient, status="withdrawn")
    response = client.post(URL, data=mt_form())
    assert response.status_code == 303
    assert db.scalar(select(func.count()).select_from(PatientRequest).where(PatientRequest.status == "waiting")) == 1


def test_honeypot_pretends_success_and_stores_nothing(client, db, territory):
    before = counts(db)
    response = client.post(URL, data=mt_form(website="http://spam.example"))
    assert response.status_code == 303 and response.headers["Location"] == RECEIVED
    assert "bien reçue" in unescape(client.get(RECEIVED).get_data(as_text=True))
    assert counts(db) == before


def test_submissions_are_rate_limited(client, app, db, territory):
    app.config["RATE_LIMIT_SUBMISSIONS_PER_HOUR"] = 2
    assert client.post(URL, data=mt_form()).status_code == 303
    assert client.post(URL, data=mt_form(first_names="Paul", sex="M")).status_code == 303
    response = client.post(URL, data=mt_form(first_names="Luc", sex="M"))
    assert response.status_code == 429


def test_post_without_csrf_token_is_refused(sessions, database_url, db, territory):
    from tests.conftest import create_test_app

    app = create_test_app(sessions, database_url, WTF_CSRF_ENABLED=True)
    before = counts(db)
    response = app.test_client().post(URL, data=mt_form())
    assert response.status_code == 400 and "Formulaire expiré" in response.get_data(as_text=True)
    assert counts(db) == before
