"""The public unscheduled-care request: red-flag triage first, then the request."""

from __future__ import annotations

from html import unescape

import pytest
from sqlalchemy import func, select

from guichet.models import Notification, Patient, PatientRequest, RequestEvent
from guichet.web.intake_forms import RED_FLAGS

TRIAGE = "/demande/soins-non-programmes"
FORM = "/demande/soins-non-programmes/demande"


@pytest.fixture
def territory(factory):
    return factory.territory(insee=("26223", "26059", "38185"))


def counts(db):
    return tuple(
        db.scalar(select(func.count()).select_from(model))
        for model in (Patient, PatientRequest, RequestEvent, Notification)
    )


def triage(**yes):
    return {name: ("yes" if name in yes else "no") for name in RED_FLAGS}


def snp_form(**overrides):
    data = {
        "filled_by": "self",
        "birth_name": "Bernard",
        "first_names": "Luc",
        "birth_date": "1985-06-01",
        "sex": "M",
        "phone": "0612345678",
        "postal_code": "38000",
        "snp_category": "fever",
        "snp_reason": "Fièvre à 39 et mal à la gorge depuis hier",
        "snp_since": "1-2_days",
        "availability": ["today:afternoon", "tomorrow:morning"],
        "is_consented": "y",
        "submit": "Envoyer la demande",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_triage_lists_the_red_flags_and_requires_an_answer_to_each(client):
    html = unescape(client.get(TRIAGE).get_data(as_text=True))
    assert "douleur ou une sensation d'oppression dans la poitrine" in html
    response = client.post(TRIAGE, data={"chest_pain": "no"})
    assert response.status_code == 200
    assert "Répondez par oui ou par non." in unescape(response.get_data(as_text=True))


@pytest.mark.parametrize("flag", list(RED_FLAGS))
def test_any_red_flag_shows_call_15_and_stores_nothing(client, db, territory, flag):
    before = counts(db)
    response = client.post(TRIAGE, data=triage(**{flag: True}))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Appelez le 15" in html and "112" in html and "114" in html
    assert counts(db) == before
    # and the request form stays closed
    assert client.get(FORM).status_code == 302


def test_suicidal_thoughts_also_give_the_prevention_number(client):
    html = client.post(TRIAGE, data=triage(suicide=True)).get_data(as_text=True)
    assert "3114" in html


def test_request_form_needs_the_triage_first(client):
    response = client.get(FORM)
    assert response.status_code == 302 and response.headers["Location"].endswith(TRIAGE)


def test_valid_snp_request_stores_availability_in_paris_days_and_the_place(client, db, territory, app):
    assert client.post(TRIAGE, data=triage()).headers["Location"].endswith(FORM)
    response = client.post(FORM, data=snp_form())
    assert response.status_code == 303 and response.headers["Location"] == "/demande/recue/snp"
    req = db.scalars(select(PatientRequest).order_by(PatientRequest.id.desc())).first()
    # on the SNP board at once, without a coordinator's review
    assert req.kind == "snp" and req.status == "waiting" and req.reference.startswith("SNP-")
    assert req.snp_category == "fever" and req.snp_since == "1-2_days"
    assert req.snp_commune_insee == "38185" and req.patient.commune_insee == "38185"
    assert req.patient.phone == "+33612345678"
    periods = {(a["period"]) for a in req.snp_availability}
    assert periods == {"afternoon", "morning"}
    days = sorted(a["day"] for a in req.snp_availability)
    assert len(days) == 2 and days[0] < days[1]  # today, then tomorrow


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"phone": ""}, "phone", "la CPTS vous rappellera"),
        ({"snp_category": None}, "snp_category", "Choisissez le motif."),
        ({"snp_reason": ""}, "snp_reason", "Décrivez le problème"),
        ({"snp_reason": "x" * 501}, "snp_reason", "500 caractères au plus"),
        ({"snp_since": None}, "snp_since", "Indiquez depuis quand."),
        ({"availability": None}, "availability", "Cochez au moins un moment"),
        ({"is_consented": None}, "is_consented", "Votre accord est nécessaire"),
    ],
)
def test_each_invalid_snp_answer_is_shown_next_to_its_field(client, db, territory, overrides, field, message):
    client.post(TRIAGE, data=triage())
    before = counts(db)
    response = client.post(FORM, data=snp_form(**overrides))
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert f'href="#{field}"' in html and f'id="{field}-error"' in html and message in html
    assert counts(db) == before


def test_snp_out_of_territory_points_to_116_117_and_stores_nothing(client, db, territory):
    client.post(TRIAGE, data=triage())
    before = counts(db)
    html = client.post(FORM, data=snp_form(postal_code="75001")).get_data(as_text=True)
    assert "116 117" in html and "n'est pas couverte" in unescape(html)
    assert counts(db) == before


def test_the_page_after_the_request_says_how_the_number_comes_and_to_call_the_15(client, db, territory):
    client.post(TRIAGE, data=triage())
    response = client.post(FORM, data=snp_form())
    req = db.scalars(select(PatientRequest).order_by(PatientRequest.id.desc())).first()
    # no e-mail: nothing in writing, the coordinator calls back today
    assert db.scalar(select(func.count()).where(Notification.request_id == req.id)) == 0
    html = unescape(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "appelez le 15" in html and "quand il vous appellera" in html and req.reference not in html

    client.post(TRIAGE, data=triage())
    client.post(FORM, data=snp_form(first_names="Anne", sex="F", email="anne@exemple.fr"))
    mail = db.scalars(select(Notification).order_by(Notification.id.desc())).first()
    assert mail.template == "request_received" and mail.recipient_email == "anne@exemple.fr"
    assert "/suivi/" in mail.context["tracking_url"]
    html = unescape(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "par e-mail" in html
