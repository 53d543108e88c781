"""Coordinators' pages: job runs and failures, messages in permanent failure, letters to print."""

from __future__ import annotations

from sqlalchemy import select

from guichet.jobs.runner import run_job
from guichet.messaging import notifications
from guichet.models import AuditEvent, Notification
from tests.factories import login
from tests.integration.test_jobs import TEST_JOBS

SETTINGS = {"BASE_URL": "https://guichet.test"}


def letter_for(db, factory, territory, now, key="letter:1"):
    patient = factory.patient(territory=territory, address="12 chemin des Prés", contact_preference="letter")
    request = factory.request(patient)
    letter = notifications.enqueue(
        db, template="request_expired_no_answer", subject="Votre demande de médecin traitant est close",
        dedup_key=key, now=now, email=None, request_id=request.id, territory_id=territory.id,
        context={"first_names": patient.first_names, "reference": request.reference,
                 "territory_name": territory.name},
    )
    db.commit()
    return letter, patient


def test_coordinators_see_last_runs_and_failures(client, sessions, db, factory, now):
    staff = factory.user("staff")
    run_job("retention", sessions, now, settings=SETTINGS)
    run_job("fails", sessions, now, settings=SETTINGS, jobs=TEST_JOBS)
    db.commit()
    login(client, staff)
    page = client.get("/coordination/taches").get_data(as_text=True)
    assert "Anonymisation et purge des données anciennes" in page
    assert "tous les jours à 03 h 30" in page
    assert "réussie" in page and "Dupont" not in page
    # runs cover every territory: their errors and summaries are for the instance's admins only
    assert "builtins.RuntimeError" not in page and "administrateurs de l'instance" in page


def test_instance_admins_see_the_jobs_errors_and_summaries(app, client, sessions, db, factory, now):
    admin = factory.user("admin")
    app.config["INSTANCE_ADMIN_EMAILS"] = f"autre@exemple.fr, {admin.email.upper()}"
    run_job("fails", sessions, now, settings=SETTINGS, jobs=TEST_JOBS)
    db.commit()
    login(client, admin)
    page = client.get("/coordination/taches").get_data(as_text=True)
    assert "builtins.RuntimeError" in page and "Bilan" in page
    territory_admin = factory.user("admin")
    client.post("/deconnexion")
    login(client, territory_admin)
    assert "builtins.RuntimeError" not in client.get("/coordination/taches").get_data(as_text=True)


def test_failed_messages_are_listed_for_their_territory_only_and_can_be_retried(client, db, factory, now):
    staff = factory.user("staff")
    mine = notifications.enqueue(db, template="request_expired_no_answer", subject="Message en échec",
                                 dedup_key="failed:mine", now=now, email="marie@exemple.fr",
                                 territory_id=staff.territory_id,
                                 context={"first_names": "Marie", "reference": "MT-1", "territory_name": "T"})
    other_territory = factory.territory()
    theirs = notifications.enqueue(db, template="request_expired_no_answer", subject="Message d'ailleurs",
                                   dedup_key="failed:theirs", now=now, email="paul@exemple.fr",
                                   territory_id=other_territory.id,
                                   context={"first_names": "Paul", "reference": "MT-2", "territory_name": "T"})
    for n in (mine, theirs):
        n.status, n.attempts, n.last_error = "failed", 8, "ConnectionRefusedError"
    db.commit()
    login(client, staff)
    page = client.get("/coordination/taches").get_data(as_text=True)
    assert "Message en échec" in page and "Message d&#39;ailleurs" not in page
    assert client.post(f"/coordination/taches/messages/{theirs.id}/renvoyer").status_code == 404
    response = client.post(f"/coordination/taches/messages/{mine.id}/renvoyer")
    assert response.status_code == 302
    db.refresh(mine)
    db.refresh(theirs)
    assert (mine.status, mine.attempts) == ("pending", 0)
    assert theirs.status == "failed"


def test_letters_to_print_have_a_print_page_and_can_be_marked_printed(client, db, factory, now):
    staff = factory.user("staff")
    letter, patient = letter_for(db, factory, staff.territory, now)
    login(client, staff)
    listing = client.get("/coordination/courriers").get_data(as_text=True)
    assert "Votre demande de médecin traitant est close" in listing
    response = client.get(f"/coordination/courriers/{letter.id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "12 chemin des Prés" in page and patient.birth_name.upper() in page
    assert "letters.css" in page and "Bonjour Marie" in page
    assert db.scalar(select(AuditEvent).where(AuditEvent.action == "letter.view",
                                              AuditEvent.object_id == letter.id)) is not None
    assert client.post(f"/coordination/courriers/{letter.id}/imprime").status_code == 302
    db.refresh(letter)
    assert letter.status == "printed"
    assert "Aucun courrier à imprimer" in client.get("/coordination/courriers").get_data(as_text=True)


def test_another_territorys_letter_is_not_found_and_the_refusal_audited(client, db, factory, now):
    staff = factory.user("staff")
    other = factory.territory()
    letter, _ = letter_for(db, factory, other, now, key="letter:other")
    login(client, staff)
    assert client.get(f"/coordination/courriers/{letter.id}").status_code == 404
    assert client.post(f"/coordination/courriers/{letter.id}/imprime").status_code == 404
    assert db.get(Notification, letter.id).status == "pending"
    assert db.scalar(select(AuditEvent).where(AuditEvent.action == "access_denied")) is not None


def test_gps_and_visitors_cannot_open_the_jobs_pages(client, db, factory):
    doctor_user = factory.user("doctor")
    db.commit()
    assert client.get("/coordination/taches").status_code == 302  # to the login page
    login(client, doctor_user)
    assert client.get("/coordination/taches").status_code == 403
    assert client.get("/coordination/courriers").status_code == 403
