"""The public waiting-list page and the yes/no answer links."""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import select

from guichet.messaging import follow_up, publication
from guichet.models import FollowUp
from tests.conftest import create_test_app


def test_the_public_page_shows_anonymous_counts_and_never_a_count_under_five(client, db, factory, now):
    territory = factory.territory("CPTS Publique")
    for commune, n, ald in (("26223", 6, False), ("26223", 3, True), ("26059", 1, False)):
        for _ in range(n):
            factory.request(factory.patient(territory=territory, commune=commune, is_ald=ald,
                                            birth_date=date(1985, 5, 5)))
    publication.publish(db, territory, now=now)
    db.commit()
    response = client.get(f"/liste-attente/{territory.slug}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Mise à jour le mardi 24 novembre 2026 à 10 h" in page
    cells = re.findall(r'class="count">([^<]*)<', page)
    assert cells, "the page shows count cells"
    for cell in cells:
        numbers = [int(n) for n in re.findall(r"\d+", cell)]
        assert all(n >= 5 for n in numbers), cell
    assert "moins de 5" in page
    assert "Dupont" not in page and "Marie" not in page
    assert "10 jours" in page  # the median wait
    index = client.get("/liste-attente").get_data(as_text=True)
    assert territory.name in index


def test_an_unknown_territory_is_404_and_an_unpublished_one_says_so(client, factory, db):
    assert client.get("/liste-attente/nulle-part").status_code == 404
    territory = factory.territory()
    db.commit()
    page = client.get(f"/liste-attente/{territory.slug}").get_data(as_text=True)
    assert "pas encore publiée" in page


def question(db, factory, now):
    request = factory.request(factory.patient(), waited_days=100)
    follow_up.ask_still_waiting(db, now=now, settings={"BASE_URL": "https://guichet.test"})
    db.commit()
    return request, db.scalar(select(FollowUp).where(FollowUp.request_id == request.id))


def test_an_answer_link_asks_to_confirm_on_get_and_records_only_on_post(client, db, factory, now):
    request, item = question(db, factory, now)
    page = client.get(f"/reponse/{item.answer_token}/non")
    assert page.status_code == 200
    assert "Recherchez-vous toujours un médecin traitant ?" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    db.refresh(item)
    assert item.done_dt is None and request.status == "waiting"  # nothing changes on GET
    response = client.post(f"/reponse/{item.answer_token}/non")
    assert response.status_code == 302
    db.refresh(item)
    db.refresh(request)
    assert item.answer == "no" and request.status == "withdrawn"
    done = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Merci, votre réponse est enregistrée." in done
    again = client.get(f"/reponse/{item.answer_token}/oui")
    assert again.status_code == 410 and "déjà été enregistrée" in again.get_data(as_text=True)


def test_answer_links_reject_bad_tokens_and_posts_without_csrf(sessions, database_url, client, db, factory, now):
    assert client.get("/reponse/faux-jeton/oui").status_code == 410
    _, item = question(db, factory, now)
    assert client.get(f"/reponse/{item.answer_token}/peut-etre").status_code == 404
    strict = create_test_app(sessions, database_url, WTF_CSRF_ENABLED=True).test_client()
    assert strict.post(f"/reponse/{item.answer_token}/oui").status_code == 400
    db.refresh(item)
    assert item.done_dt is None


def test_the_snapshot_is_not_recomputed_by_the_public_page(client, db, factory, now):
    territory = factory.territory()
    for _ in range(5):
        factory.request(factory.patient(territory=territory))
    publication.publish(db, territory, now=now - timedelta(days=1))
    for _ in range(5):
        factory.request(factory.patient(territory=territory))
    db.commit()
    page = client.get(f"/liste-attente/{territory.slug}").get_data(as_text=True)
    assert "23 novembre 2026" in page and ">5<" in page and ">10<" not in page
