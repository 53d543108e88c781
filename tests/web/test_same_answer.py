"""Issue 16, finding 4: the public forms answer a new request and an already open one alike.

Before, typing someone's name, birth date and postal code told whether that person had an
open request ("une demande est déjà en cours"). Each submission here is made by a different
person at the keyboard (their own browser, CSRF on), like an outsider trying names.
"""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import func, select

from guichet.identifiers import format_short_code
from guichet.models import Notification, PatientRequest
from tests.conftest import create_test_app
from tests.web.test_public_mt import mt_form
from tests.web.test_public_snp import snp_form, triage

FORMS = {"mt": ("/demande/medecin-traitant", mt_form),
         "snp": ("/demande/soins-non-programmes/demande", snp_form)}
#: values in a page that differ from one browser to the next and tell nothing about any request
#: headers that differ on every response (a fresh signed session, a random request id)
PER_RESPONSE = {"Set-Cookie", "Date", "X-Request-ID"}
PER_BROWSER = re.compile(r'(name="csrf_token"[^>]*value=")[^"]+|(nonce=")[^"]+')


@pytest.fixture
def territory(factory):
    territory = factory.territory(insee=("26223", "26059", "38185"))
    territory.settings = {"cpts_phone": "+33475990000", "cpts_hours": "de 9 h à 17 h"}
    factory.db.flush()  # the application reads it from its own session
    return territory


@pytest.fixture
def submit(sessions, database_url, territory):
    """Submit a form from a fresh browser; return what that browser was answered."""
    app = create_test_app(sessions, database_url, WTF_CSRF_ENABLED=True)

    def run(kind: str, **answers: str) -> dict:
        url, form = FORMS[kind]
        browser = app.test_client()
        if kind == "snp":
            page = browser.get("/demande/soins-non-programmes").get_data(as_text=True)
            browser.post("/demande/soins-non-programmes", data={**triage(), "csrf_token": _csrf(page)})
        token = _csrf(browser.get(url).get_data(as_text=True))
        posted = browser.post(url, data={**form(**answers), "csrf_token": token})
        final = browser.get(posted.headers["Location"])
        headers = {k: v for k, v in posted.headers.items() if k not in PER_RESPONSE}
        final_headers = {k: v for k, v in final.headers.items() if k not in PER_RESPONSE}
        return {"status": posted.status_code, "headers": headers, "final_status": final.status_code,
                "final_headers": final_headers, "body": PER_BROWSER.sub(r"\1\2", final.get_data(as_text=True))}

    return run


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert found, "the form has no CSRF token"
    return found.group(1)


@pytest.mark.parametrize("kind", ["mt", "snp"])
def test_a_new_request_and_an_already_open_one_get_the_same_answer(submit, db, kind):
    new = submit(kind, email="premiere@exemple.fr")
    existing = db.scalars(select(PatientRequest).order_by(PatientRequest.id.desc())).first()
    # someone else types the same person (spelled differently), with their own e-mail
    again = submit(kind, birth_name=existing.patient.birth_name.upper(), email="curieux@exemple.fr")
    other = submit(kind, first_names="Paulette", birth_date="1961-07-08", email="paulette@exemple.fr")

    assert new["status"] == again["status"] == other["status"] == 303
    assert new["headers"]["Location"] == f"/demande/recue/{kind}"
    assert new["headers"] == again["headers"] == other["headers"]
    assert new["final_status"] == again["final_status"] == 200
    assert new["final_headers"] == again["final_headers"]
    assert new["body"] == again["body"] == other["body"]
    page = unescape(again["body"])
    assert "Votre demande est bien reçue" in page and "04 75 99 00 00" in page  # whom to call
    for secret in (existing.reference, existing.tracking_token, format_short_code(existing.short_code),
                   existing.patient.first_names, "premiere@exemple.fr", "Une demande est déjà en cours"):
        assert secret not in page

    # nothing new for that person; their contact on file is told, the second submitter is not
    assert db.scalar(select(func.count()).select_from(PatientRequest)
                     .where(PatientRequest.patient_id == existing.patient_id)) == 1
    reminder = db.scalar(select(Notification).where(Notification.template == "request_exists"))
    assert reminder.recipient_email == "premiere@exemple.fr" and reminder.request_id == existing.id
    assert db.scalar(select(func.count()).where(Notification.recipient_email == "curieux@exemple.fr")) == 0


def test_without_e_mail_the_existing_request_is_told_by_letter_and_the_answer_is_the_same(submit, db):
    first = submit("mt", email="")
    existing = db.scalars(select(PatientRequest).order_by(PatientRequest.id.desc())).first()
    again = submit("mt", email="")
    assert first["body"] == again["body"] and "par courrier" in unescape(first["body"])
    letters = db.scalars(select(Notification).where(Notification.request_id == existing.id)
                         .order_by(Notification.id)).all()
    assert [(n.template, n.channel) for n in letters] == [("request_received", "letter"),
                                                         ("request_exists", "letter")]


def test_the_old_already_registered_and_confirmation_addresses_are_gone(client, factory):
    req = factory.request(status="waiting")
    assert client.get("/demande/deja-enregistree/mt").status_code == 404
    assert client.get(f"/suivi/{req.tracking_token}/confirmation").status_code == 404
