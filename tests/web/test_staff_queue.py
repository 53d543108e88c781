"""Staff console: dashboard, request list (filters, sorting, pages) and CSV export."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta
from html import unescape

from sqlalchemy import event as sa_event
from sqlalchemy import select

from guichet.models import AuditEvent, FollowUp, Proposal, Referral
from guichet.requests import queue
from tests.factories import login


def _staff(factory, territory=None):
    territory = territory or factory.territory()
    return territory, factory.user("staff", territory)


def test_dashboard_counts_what_waits_today(client, factory, db, now):
    territory, staff = _staff(factory)
    factory.request(factory.patient(territory), status="submitted")
    factory.request(factory.patient(territory), status="submitted", kind="snp", waited_days=0)
    factory.request(factory.patient(territory, is_ald=True), status="waiting")
    factory.request(factory.patient(territory, birth_date=date(1990, 1, 1)), status="waiting")
    factory.request(factory.patient(territory, birth_date=date(1990, 1, 1)), status="waiting")
    factory.request(factory.patient(territory), status="to_contact", channel="import")
    overdue = factory.request(factory.patient(territory), status="waiting")
    db.add(FollowUp(request=overdue, kind="patient_first_consultation", due_dt=now - timedelta(days=1), created_dt=now))
    db.add(FollowUp(request=overdue, kind="patient_first_consultation", due_dt=now + timedelta(days=1), created_dt=now))
    # another CPTS's requests never count
    factory.request(factory.patient(factory.territory()), status="submitted")
    db.flush()
    login(client, staff)
    html = client.get("/coordination/").get_data(as_text=True)
    assert "<span class=\"number\">1</span> nouvelles demandes de médecin traitant" in html
    assert "<span class=\"number\">1</span> demandes de soins non programmés à qualifier" in html
    assert "<span class=\"number\">1</span> patients importés à appeler" in html
    # 70+ by default birth date (1950) counts as priority: ALD one + the overdue one
    assert "<span class=\"number\">2</span> patients prioritaires" in html
    assert "<span class=\"number\">2</span> autres patients" in html
    assert "<span class=\"number\">1</span> relances en retard" in html
    assert "<span class=\"number\">1</span> demandes reçues aujourd&#39;hui" in html or \
        "<span class=\"number\">1</span> demandes reçues aujourd'hui" in html


def test_dashboard_counts_proposals_awaiting_staff_and_gp(client, factory, db, now):
    territory, staff = _staff(factory)
    doctor = factory.doctor(territory)
    a = factory.request(factory.patient(territory), status="waiting")
    b = factory.request(factory.patient(territory), status="proposed")
    db.add_all([Proposal(request=a, doctor=doctor, status="proposed", created_dt=now),
                Proposal(request=b, doctor=doctor, status="sent", created_dt=now)])
    db.flush()
    login(client, staff)
    html = client.get("/coordination/").get_data(as_text=True)
    assert "<span class=\"number\">1</span> propositions à valider" in html
    assert "<span class=\"number\">1</span> propositions en attente de la réponse du médecin" in html


def test_staff_layout_links_every_part_of_the_console(client, factory):
    _, staff = _staff(factory)
    login(client, staff)
    html = client.get("/coordination/").get_data(as_text=True)
    for path in ("/coordination/demandes", "/coordination/a-appeler", "/coordination/import",
                 "/coordination/demandes/nouvelle-mt", "/coordination/attribution",
                 "/coordination/snp", "/coordination/liste-attente", "/coordination/indicateurs",
                 "/coordination/medecins"):
        assert f'href="{path}"' in html
    assert "/coordination/admin" not in html


def test_admin_sees_the_administration_link(client, factory):
    admin = factory.user("admin")
    login(client, admin)
    assert 'href="/coordination/admin"' in client.get("/coordination/").get_data(as_text=True)


def test_list_shows_only_the_territory_requests(client, factory):
    territory, staff = _staff(factory)
    mine = factory.request(factory.patient(territory, birth_name="Martin"))
    other = factory.request(factory.patient(factory.territory(), birth_name="Durand"))
    login(client, staff)
    html = client.get("/coordination/demandes").get_data(as_text=True)
    assert mine.reference in html and other.reference not in html


def test_list_filters_by_kind_status_channel_commune_priority_and_text(client, factory):
    territory, staff = _staff(factory)
    young = date(1990, 5, 5)
    ald = factory.request(factory.patient(territory, birth_name="Aldo", is_ald=True, birth_date=young))
    plain = factory.request(factory.patient(territory, birth_name="Simple", birth_date=young,
                                            commune="26059"), channel="phone")
    snp = factory.request(factory.patient(territory, birth_name="Urgent", birth_date=young), kind="snp")
    closed = factory.request(factory.patient(territory, birth_name="Fini", birth_date=young), status="cancelled")
    login(client, staff)

    def refs(query: str) -> set[str]:
        html = client.get("/coordination/demandes?" + query).get_data(as_text=True)
        return {r.reference for r in (ald, plain, snp, closed) if r.reference in html}

    assert refs("") == {ald.reference, plain.reference, snp.reference}  # open by default
    assert refs("status=all") == {ald.reference, plain.reference, snp.reference, closed.reference}
    assert refs("status=cancelled") == {closed.reference}
    assert refs("kind=snp") == {snp.reference}
    assert refs("channel=phone") == {plain.reference}
    assert refs("commune=26059") == {plain.reference}
    assert refs("priority=any") == {ald.reference}
    assert refs("priority=ald") == {ald.reference}
    assert refs("priority=none") == {plain.reference, snp.reference}
    assert refs("q=simp") == {plain.reference}
    assert refs("q=" + ald.reference.lower()) == {ald.reference}
    assert refs("q=%25") == set()  # a LIKE wildcard typed by a user matches literally


def test_list_filters_by_waiting_time_and_sorts_longest_wait_first(client, factory):
    territory, staff = _staff(factory)
    old = factory.request(factory.patient(territory), waited_days=100)
    new = factory.request(factory.patient(territory), waited_days=5)
    login(client, staff)
    html = client.get("/coordination/demandes?waited=90").get_data(as_text=True)
    assert old.reference in html and new.reference not in html
    html = client.get("/coordination/demandes?sort=oldest").get_data(as_text=True)
    assert html.index(old.reference) < html.index(new.reference)
    html = client.get("/coordination/demandes?sort=newest").get_data(as_text=True)
    assert html.index(new.reference) < html.index(old.reference)


def _next_link(html: str, rel: str) -> str | None:
    found = re.search(rf'<a href="([^"]+)" rel="{rel}">', html)
    return unescape(found.group(1)) if found else None


def test_list_pages_follow_next_and_previous_links_keeping_the_filters(client, factory):
    territory, staff = _staff(factory)
    refs = [factory.request(factory.patient(territory), waited_days=i).reference for i in range(52)]
    factory.request(factory.patient(territory), waited_days=3, kind="snp")  # filtered out
    login(client, staff)
    first = client.get("/coordination/demandes?sort=oldest&kind=mt").get_data(as_text=True)
    assert "<strong>52</strong> demandes" in first
    assert _next_link(first, "prev") is None and "Première page" not in first
    following = _next_link(first, "next")
    assert following is not None and "sort=oldest" in following and "kind=mt" in following
    second = client.get(following).get_data(as_text=True)
    assert "<strong>52</strong> demandes" in second  # the count does not move with the pages
    shown_first = {r for r in refs if r in first}
    shown_second = {r for r in refs if r in second}
    assert len(shown_first) == 50 and len(shown_second) == 2 and not shown_first & shown_second
    # longest wait first, across the pages
    assert refs[-1] in first and refs[0] in second
    assert _next_link(second, "next") is None and "Première page" in second
    back = client.get(_next_link(second, "prev")).get_data(as_text=True)
    assert {r for r in refs if r in back} == shown_first
    # an old numbered link and a cursor that leads nowhere show the first page rather than an error
    assert client.get("/coordination/demandes?page=99").status_code == 200
    gone = client.get("/coordination/demandes?sort=oldest&kind=mt&after=999999999").get_data(as_text=True)
    assert {r for r in refs if r in gone} == shown_first


def test_a_cursor_from_another_territory_shows_nothing_of_it(client, factory):
    territory, staff = _staff(factory)
    mine = factory.request(factory.patient(territory))
    theirs = factory.request(factory.patient(factory.territory()))
    login(client, staff)
    html = client.get(f"/coordination/demandes?after={theirs.id}").get_data(as_text=True)
    assert mine.reference in html and theirs.reference not in html


def test_queue_page_runs_the_same_few_queries_whatever_the_page_size(client, factory, db, engine, monkeypatch):
    """No query per row (patients, communes, referrals are read with the page): counted with an
    SQLAlchemy event for 5 and for 40 rows a page, first page and following page."""
    territory, staff = _staff(factory)
    partner = factory.partner(territory)
    for i in range(45):
        patient = factory.patient(territory, commune=("26059", "26117", "26217", "26223")[i % 4],
                                  is_ald=i % 3 == 0)
        req = factory.request(patient, waited_days=i % 7)
        if i % 5 == 0:
            db.add(Referral(partner=partner, request=req, created_dt=factory.now,
                            target_dt=factory.now + timedelta(days=3), fragility_reason="fall",
                            target_delay_days=3))
    db.flush()
    login(client, staff)
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    def queries(per_page: int, query: str) -> tuple[int, str]:
        monkeypatch.setattr(queue, "PER_PAGE", per_page)
        statements.clear()
        sa_event.listen(engine, "before_cursor_execute", count)
        try:
            html = client.get("/coordination/demandes" + query).get_data(as_text=True)
        finally:
            sa_event.remove(engine, "before_cursor_execute", count)
        return len(statements), html

    small, html_small = queries(5, "?sort=oldest&q=dupont")
    large, html_large = queries(40, "?sort=oldest&q=dupont")
    assert len(re.findall(r'href="/coordination/demandes/\d+"', html_small)) == 5
    assert len(re.findall(r'href="/coordination/demandes/\d+"', html_large)) == 40
    assert "Délai cible" in html_large
    assert small == large <= 10, statements
    next_small, _ = queries(5, _next_link(html_small, "next").removeprefix("/coordination/demandes"))
    next_large, _ = queries(40, _next_link(html_large, "next").removeprefix("/coordination/demandes"))
    assert next_small == next_large <= small + 1  # the cursor's sort values, read once


def test_bad_filter_values_are_ignored(client, factory):
    _, staff = _staff(factory)
    login(client, staff)
    response = client.get("/coordination/demandes?kind=zzz&status=evil&sort=drop&page=-3&waited=abc")
    assert response.status_code == 200


def test_csv_export_has_bom_semicolons_french_headers_and_is_audited(client, factory, db):
    territory, staff = _staff(factory)
    req = factory.request(factory.patient(territory, birth_name="=HYPERLINK", is_ald=True))
    factory.request(factory.patient(factory.territory()))
    login(client, staff)
    response = client.get("/coordination/demandes/export.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][0] == "Référence" and "Date de naissance" in rows[0]
    assert len(rows) == 2 and rows[1][0] == req.reference
    assert rows[1][4] == "'=HYPERLINK"  # never a formula in a spreadsheet
    assert "Affection de longue durée (ALD)" in rows[1][12]
    audit = db.scalars(select(AuditEvent).where(AuditEvent.action == "request.export")).all()
    assert len(audit) == 1 and audit[0].user_id == staff.id


def test_search_ignores_accents_and_case_on_every_database(client, db, factory):
    territory, staff = _staff(factory)
    ines = factory.request(factory.patient(territory, birth_name="Lefèvre", first_names="Inès"))
    other = factory.request(factory.patient(territory, birth_name="Durand", first_names="Paul"))
    login(client, staff)

    def refs(query: str) -> set[str]:
        html = client.get("/coordination/demandes?q=" + query).get_data(as_text=True)
        return {r.reference for r in (ines, other) if r.reference in html}

    for query in ("ines", "INÈS", "inès", "lefevre", "LEFÈVRE", "lefevre ines"):
        assert refs(query) == {ines.reference}, query
    ines.patient.usage_name = "Müller"
    db.flush()
    assert refs("muller") == {ines.reference}  # kept in step on update


def test_search_finds_requests_by_commune_whatever_accents_case_hyphens_and_abbreviations(client, factory):
    territory = factory.territory(insee=("26307", "26302", "26223"))
    staff = factory.user("staff", territory)
    saint_jean = factory.request(factory.patient(territory, commune="26307", birth_name="Morel"))
    sainte_eulalie = factory.request(factory.patient(territory, commune="26302", birth_name="Blanc"))
    oriol = factory.request(factory.patient(territory, commune="26223", birth_name="Stenger"))
    login(client, staff)

    def refs(query: str) -> set[str]:
        html = client.get("/coordination/demandes", query_string={"q": query}).get_data(as_text=True)
        return {r.reference for r in (saint_jean, sainte_eulalie, oriol) if r.reference in html}

    for query in ("saint jean", "st-jean", "ST JEAN", "Saint-Jean-en-Royans", "saint-jéan", "st jean en royans"):
        assert refs(query) == {saint_jean.reference}, query
    assert refs("ste eulalie") == refs("Sainte-Eulalie") == {sainte_eulalie.reference}
    assert refs("royans") == {saint_jean.reference, sainte_eulalie.reference, oriol.reference}
    # an abbreviation is also tried as typed: "ste" still finds Stenger
    assert oriol.reference in {r for r in refs("ste")}


def test_list_pages_showing_patients_are_audited_with_ids_and_never_the_search_text(client, db, factory):
    staff = factory.user("staff")
    req = factory.request(factory.patient(staff.territory))
    db.commit()
    login(client, staff)
    surname = req.patient.birth_name
    client.get(f"/coordination/demandes?q={surname}&status=all")
    client.get("/coordination/a-appeler")
    client.get(f"/coordination/demandes/export.csv?q={surname}")
    rows = {e.action: e for e in db.scalars(select(AuditEvent).where(AuditEvent.user_id == staff.id))}
    listed = rows["request.list"]
    assert listed.detail["request_ids"] == [req.id] and listed.detail["searched"] is True
    assert listed.detail["status"] == "all" and listed.territory_id == staff.territory_id
    assert "request.to_contact_list" in rows
    for event in rows.values():
        assert surname not in str(event.detail)
