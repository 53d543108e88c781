"""Logs: JSON lines with a request id, no personal value, no token, even on a database error."""

from __future__ import annotations

import io
import json
import logging

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from guichet.db import make_engine
from guichet.logs import mask_path
from tests.conftest import NOW, create_test_app
from tests.factories import Factory
from tests.web.test_public_mt import mt_form

PERSONAL = ("Martin", "Jeanne", "1950-03-14", "06 12 34 56 78", "0612345678", "jeanne.martin@exemple.fr",
            "rue des Écoles", "rue des \\u00c9coles")


@pytest.fixture
def log_lines():
    """Every line the application's JSON handler writes during the test."""
    handler = next(h for h in logging.getLogger("guichet").handlers if h.get_name() == "guichet-json")
    stream = io.StringIO()
    previous = handler.setStream(stream)
    logger = logging.getLogger("guichet")
    level = logger.level
    logger.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    handler.setStream(previous)
    logger.setLevel(level)


@pytest.fixture
def broken_app(clone_database):
    """An application with its own engine (as in production) whose requests table is gone."""
    url = clone_database("logs")
    engine = make_engine(url)
    with Session(engine) as db:
        Factory(db, now=NOW).territory(insee=("38185",))
        db.commit()
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE patient_requests RENAME TO patient_requests_gone"))
    engine.dispose()
    app = create_test_app(None, url, PROPAGATE_EXCEPTIONS=False)  # a 500 page, as in production
    yield app
    app.extensions["guichet"]["engine"].dispose()


def test_a_database_error_logs_no_personal_value_and_no_token(broken_app, log_lines):
    client = broken_app.test_client()
    response = client.post("/demande/medecin-traitant", data=mt_form())
    # SQLite reports the missing table as an OperationalError, which the service answers as an
    # outage (503); PostgreSQL as a ProgrammingError (500)
    assert response.status_code in (500, 503)
    assert "enregistr" in response.get_data(as_text=True)
    token = "Zx9" * 12
    assert client.get(f"/suivi/{token}").status_code in (500, 503)

    lines = log_lines()
    raw = json.dumps(lines, ensure_ascii=False)
    errors = [line for line in lines if line.get("event") == "error"]
    assert len(errors) == 2
    # the operator still learns which request failed, where and with which kind of error
    assert errors[0]["request_id"] == response.headers["X-Request-ID"]
    assert errors[0]["path"] == "/demande/medecin-traitant"
    assert "sqlalchemy.exc." in errors[0]["error"] and "guichet/" in errors[0]["error"]
    assert errors[1]["path"] == "/suivi/***"
    for value in (*PERSONAL, token, "patient_requests"):
        assert value not in raw
    assert "Traceback" not in raw


def test_every_request_has_one_masked_json_line_and_an_id(client, factory, log_lines):
    response = client.get("/suivi/" + "A" * 32 + "?x=secret")
    line = [item for item in log_lines() if item.get("event") == "request"][-1]
    assert line["path"] == "/suivi/***" and line["status"] == 404
    assert line["request_id"] == response.headers["X-Request-ID"]
    assert "secret" not in json.dumps(line)


def test_a_request_id_from_the_proxy_is_kept_and_a_forged_one_replaced(client):
    assert client.get("/", headers={"X-Request-ID": "abc12345-proxy"}).headers["X-Request-ID"] == "abc12345-proxy"
    forged = client.get("/", headers={"X-Request-ID": "<script>"}).headers["X-Request-ID"]
    assert forged != "<script>" and len(forged) == 32


@pytest.mark.parametrize(("path", "masked"), [
    ("/suivi/AbCdEfGhIjKlMnOpQrStUvWx", "/suivi/***"),
    ("/reponse/AbCdEfGhIjKlMnOpQrStUvWx/oui", "/reponse/***/oui"),
    ("/mot-de-passe/AbCdEfGhIjKlMnOpQrStUvWx?next=/x", "/mot-de-passe/***"),
    ("/coordination/demandes/42", "/coordination/demandes/42"),
])
def test_token_segments_are_masked(path, masked):
    assert mask_path(path) == masked

