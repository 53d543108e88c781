from guichet.web import create_app


def test_home_page_explains_the_service_in_french(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="fr">' in html
    assert "médecin traitant" in html and "Appelez le 15" not in html
    assert "appelez le 15" in html


def test_health_says_ok_when_the_database_answers(client, db, now):
    from tests.web.test_health import every_job_ran

    every_job_ran(db, now)
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "scheduler": "ok", "late_jobs": [],
                                   "outbox": "ok", "outbox_due": 0}


def test_health_is_503_when_the_database_is_unreachable():
    app = create_app({"TESTING": True, "SECRET_KEY": "x",
                      "DATABASE_URL": "postgresql://postgres@127.0.0.1:1/nothing"})
    response = app.test_client().get("/api/v1/health")
    assert response.status_code == 503
    assert response.get_json() == {"status": "error", "database": "unavailable"}


def test_every_response_carries_security_headers(client):
    for path in ("/", "/connexion", "/page-inexistante"):
        headers = client.get(path).headers
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "no-referrer"


def test_unknown_page_is_a_french_404(client):
    response = client.get("/page-inexistante")
    assert response.status_code == 404
    assert "Page introuvable" in response.get_data(as_text=True)


def test_staff_and_doctor_areas_require_login(client):
    for path in ("/coordination/", "/medecin/"):
        response = client.get(path)
        assert response.status_code == 302 and "/connexion" in response.headers["Location"]


def test_form_library_messages_are_in_french(app):
    from flask_wtf import FlaskForm
    from wtforms import DateField, IntegerField

    class Sample(FlaskForm):
        number = IntegerField("n")
        day = DateField("d")

    with app.test_request_context(method="POST", data={"number": "douze", "day": "hier"}):
        form = Sample()
        assert not form.validate()
        assert form.errors == {"number": ["N'est pas un entier valide."], "day": ["N'est pas une date valide."]}


def test_an_illegal_transition_from_a_stale_page_is_a_french_409_and_saves_nothing(sessions, database_url,
                                                                                 factory, db, now):
    from guichet.web.session import get_session
    from guichet.workflow import change_request_status
    from tests.conftest import create_test_app

    app = create_test_app(sessions, database_url)  # its own app: the test adds a route

    request = factory.request(status="waiting")
    change_request_status(db, request, "cancelled", now=now, reason="duplicate")
    db.commit()

    @app.post("/_test/requalify/<int:rid>")
    def requalify(rid):
        session = get_session()
        req = session.get(type(request), rid)
        req.close_reason = "changed before the error"
        change_request_status(session, req, "waiting", now=now)  # cancelled -> waiting: illegal
        session.commit()
        return "saved"

    response = app.test_client().post(f"/_test/requalify/{request.id}")
    assert response.status_code == 409
    import html as html_lib

    page = html_lib.unescape(response.get_data(as_text=True))
    assert "Action impossible" in page and "Rien n'a été enregistré" in page
    db.expire_all()
    assert request.status == "cancelled" and request.close_reason == "duplicate"
