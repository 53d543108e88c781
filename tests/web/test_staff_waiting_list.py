"""The staff waiting list: filters a coordinator uses, numbered pages, a CSV that follows them, audited."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from sqlalchemy import select

from guichet.assignment import waiting_list
from guichet.models import AuditEvent
from tests.factories import login

ADULT = date(1990, 1, 1)


@pytest.fixture
def territory(factory, client):
    territory = factory.territory()
    login(client, factory.user("staff", territory=territory))
    return territory


def _waiting(factory, territory, waited_days=10, commune="26223", **fields):
    fields.setdefault("birth_date", ADULT)
    request_fields = {k: fields.pop(k) for k in ("children_birth_dates",) if k in fields}
    return factory.request(patient=factory.patient(territory=territory, commune=commune, **fields),
                           waited_days=waited_days, **request_fields)


def _shown(client, query: str = "") -> list[str]:
    """The references listed, in the page's order."""
    html = client.get("/coordination/liste-attente" + query).get_data(as_text=True)
    return re.findall(r">(MT-\d{4}-\d+)</a>", html)


def test_searching_a_name_ignores_accents_and_case(client, factory, territory):
    ines = _waiting(factory, territory, first_names="Inès", birth_name="Lefèvre")
    marie = _waiting(factory, territory, first_names="Marie", birth_name="Martin")
    assert _shown(client, "?q=ines") == [ines.reference]
    assert _shown(client, "?q=LEFEVRE") == [ines.reference]
    assert _shown(client, "?q=Lefèvre Inès") == [ines.reference]
    assert _shown(client, f"?q={marie.reference.lower()}") == [marie.reference]  # the reference too
    assert _shown(client, "?q=%25") == []  # a lone wildcard finds no name


def test_each_filter_narrows_the_list_and_keeps_the_engines_order_and_the_rank(client, factory, territory):
    plain = _waiting(factory, territory, waited_days=200)
    ald = _waiting(factory, territory, is_ald=True, waited_days=5)
    elsewhere = _waiting(factory, territory, commune="26117", waited_days=40)
    home = _waiting(factory, territory, needs_home_visit=True, waited_days=2)
    step_free = _waiting(factory, territory, needs_step_free=True, waited_days=3)
    family = _waiting(factory, territory, children_birth_dates=["2019-04-02"], waited_days=4)
    old = _waiting(factory, territory, birth_date=date(1940, 5, 5), waited_days=1)
    everyone = _shown(client)
    # 200 days waited (past half the 180-day guarantee: bonus), ALD 300 + 5 days, 70+ 200 + 1 day
    assert everyone[:3] == [plain.reference, ald.reference, old.reference]
    assert len(everyone) == 7

    assert _shown(client, "?commune=26117") == [elsewhere.reference]
    assert _shown(client, "?priority=ald") == [ald.reference]
    assert _shown(client, "?priority=age_70") == [old.reference]
    assert _shown(client, "?priority=any") == [ald.reference, old.reference]
    assert _shown(client, "?waited=30") == [plain.reference, elsewhere.reference]
    assert _shown(client, "?waited=180") == [plain.reference]
    assert _shown(client, "?need=home_visit") == [home.reference]
    assert _shown(client, "?need=step_free") == [step_free.reference]
    assert _shown(client, "?need=children") == [family.reference]
    assert _shown(client, "?waited=30&commune=26223") == [plain.reference]
    # a filtered patient keeps the rank they have on the whole list
    html = client.get("/coordination/liste-attente?need=step_free").get_data(as_text=True)
    rank = everyone.index(step_free.reference) + 1
    assert re.search(rf"<td>{rank}</td>\s*<td><a [^>]*>{step_free.reference}</a>", html)
    assert "accès de plain-pied" in html  # the need is said on the row
    assert "<strong>1</strong> patient en attente correspond à ces critères" in html


def test_unknown_filter_values_are_ignored_not_an_error(client, factory, territory):
    request = _waiting(factory, territory)
    for query in ("?priority=nope", "?waited=12", "?need=<b>", "?commune=x'--", "?page=-3", "?page=abc"):
        response = client.get("/coordination/liste-attente" + query)
        assert response.status_code == 200 and request.reference in response.get_data(as_text=True), query


def test_an_empty_list_and_an_empty_result_say_so(client, factory, territory):
    html = client.get("/coordination/liste-attente").get_data(as_text=True)
    assert "Aucun patient n'est en attente." in html and "Télécharger" not in html
    _waiting(factory, territory)
    html = client.get("/coordination/liste-attente?q=personne").get_data(as_text=True)
    assert "<strong>0</strong> patient en attente correspond à ces critères" in html
    assert "Aucun patient en attente ne correspond à ces critères." in html
    assert "Télécharger" not in html


def test_the_list_is_paged_with_the_filters_kept_and_past_the_end_shows_the_last_page(
        client, factory, territory, monkeypatch):
    monkeypatch.setattr(waiting_list, "PER_PAGE", 2)
    ald = [_waiting(factory, territory, is_ald=True, waited_days=10 + i) for i in range(5)]
    _waiting(factory, territory)
    order = [r.reference for r in sorted(ald, key=lambda r: r.waiting_since_dt)]
    html = client.get("/coordination/liste-attente?priority=ald&page=2").get_data(as_text=True)
    assert "Page 2 sur 3" in html and "<strong>5</strong> patients en attente correspondent" in html
    assert re.findall(r">(MT-\d{4}-\d+)</a>", html) == order[2:4]
    assert 'href="/coordination/liste-attente?priority=ald&amp;page=3"' in html  # the next page keeps the filter
    assert 'href="/coordination/liste-attente/export.csv?priority=ald"' in html  # so does the CSV
    # a page past the end (a link kept from a longer list) shows the last page, not an error
    response = client.get("/coordination/liste-attente?priority=ald&page=99")
    assert response.status_code == 200 and "Page 3 sur 3" in response.get_data(as_text=True)
    assert _shown(client, "?priority=ald&page=99") == order[4:]


def test_the_csv_follows_the_filters_and_its_audit_row_holds_ids_and_codes_only(client, db, factory, territory):
    ines = _waiting(factory, territory, first_names="Inès", is_ald=True)
    _waiting(factory, territory, first_names="Inès")  # not ALD
    _waiting(factory, territory, is_ald=True)  # not Inès
    response = client.get("/coordination/liste-attente/export.csv?priority=ald&q=ines")
    lines = response.get_data(as_text=True).strip().splitlines()
    assert response.mimetype == "text/csv" and len(lines) == 2 and lines[1].startswith(ines.reference + ";")
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "waiting_list.export"))
    assert event.detail["request_ids"] == [ines.id] and event.detail["count"] == 1
    assert event.detail["filters"] == {"priority": "ald", "searched": True}
    assert "ines" not in json.dumps(event.detail).lower()


def test_reading_the_list_is_audited_with_the_ids_shown_never_the_search_text(client, db, factory, territory):
    ines = _waiting(factory, territory, first_names="Inès")
    _waiting(factory, territory)
    client.get("/coordination/liste-attente?q=Ines&need=step_free")
    client.get("/coordination/liste-attente?q=Ines")
    events = list(db.scalars(select(AuditEvent).where(AuditEvent.action == "waiting_list.view")
                             .order_by(AuditEvent.id)))
    assert [e.detail["request_ids"] for e in events] == [[], [ines.id]]
    assert events[0].detail["filters"] == {"need": "step_free", "searched": True}
    assert all("ines" not in json.dumps(e.detail).lower() for e in events)
    assert events[1].object_type == "territory" and events[1].object_id == territory.id


def test_the_gp_list_is_paged_with_its_filters_kept(client, factory, monkeypatch):
    from guichet.web.staff.doctors import views

    monkeypatch.setattr(views, "PER_PAGE", 2)
    territory = factory.territory()
    doctors = [factory.doctor(territory=territory, last_name=f"Médecin{letter}") for letter in "ABCDE"]
    factory.doctor(territory=territory, last_name="Autre", commune="26059")
    login(client, factory.user("staff", territory))
    html = client.get("/coordination/medecins?q=medecin&page=2").get_data(as_text=True)
    assert "Page 2 sur 3" in html and "5 médecins sur 6" in html
    assert "MÉDECINC" in html.upper() and "MÉDECIND" in html.upper() and "MÉDECINA" not in html.upper()
    assert 'href="/coordination/medecins?q=medecin&amp;page=3"' in html
    last = client.get("/coordination/medecins?q=medecin&page=40").get_data(as_text=True)
    assert "Page 3 sur 3" in last and doctors[-1].display_name in last
    html = client.get("/coordination/medecins?q=personne").get_data(as_text=True)
    assert "Aucun médecin ne correspond à ces critères." in html


def test_waiting_more_than_thirty_days_counts_from_thirty_whole_days(client, factory, territory):
    _waiting(factory, territory, waited_days=29)
    thirty = _waiting(factory, territory, waited_days=30)
    assert _shown(client, "?waited=30") == [thirty.reference]
