"""Trends of the last 12 months (SVG charts with their tables) and the yearly ACI report."""

from __future__ import annotations

import html
from datetime import timedelta

from guichet.assignment import proposals
from guichet.reporting import trends
from tests.conftest import NOW
from tests.factories import login


def _placed(db, factory, territory, doctor, decl, *, days_before: int, waited: int, **patient):
    request = factory.request(factory.patient(territory, **patient), waited_days=days_before + waited)
    p = proposals.create_draft(db, request, doctor, now=NOW, declaration_id=decl.id, distance_km=2.0)
    proposals.approve_and_send(db, p, now=NOW - timedelta(days=days_before + 1))
    return p


def test_trends_count_waiting_priority_within_30_days_and_refusals_by_reason(db, factory):
    territory = factory.territory()
    doctor = factory.doctor(territory=territory)
    decl = factory.declaration(doctor, 10)
    quick = _placed(db, factory, territory, doctor, decl, days_before=40, waited=10, is_ald=True)
    proposals.accept(db, quick, now=NOW - timedelta(days=40))
    slow = _placed(db, factory, territory, doctor, decl, days_before=40, waited=60, is_ald=True)
    proposals.accept(db, slow, now=NOW - timedelta(days=40))
    refused = _placed(db, factory, territory, doctor, decl, days_before=5, waited=3)
    proposals.decline(db, refused, now=NOW - timedelta(days=5), code="too_far")
    factory.request(factory.patient(territory), waited_days=3)
    rows = trends.compute(db, territory, now=NOW)
    assert len(rows) == 12 and rows[-1].month.month == 11 and rows[0].month.year == 2025
    assert rows[-1].waiting == 2  # the refused request waits again, and the new one
    october = rows[-2]
    assert october.priority_received == 1 and october.priority_placed_30 == 1 and october.priority_share == 100
    assert rows[-1].declined_by_reason == {"too_far": 1}
    assert trends.refusal_series(rows) == {"Trop loin du cabinet": [0] * 11 + [1]}
    block = trends.blocks(rows)[4]
    assert block.headers == ["Trop loin du cabinet"] and block.rows[-1] == ("novembre 2026", ["1"])


def test_a_chart_is_an_accessible_svg_without_script_or_style():
    svg = str(trends.line_chart("Délai <médian>", ["janv. 26", "févr. 26"], [12.5, None], " j"))
    assert svg.startswith("<svg") and 'role="img"' in svg and "<title>Délai &lt;médian&gt;</title>" in svg
    assert "<script" not in svg and "style" not in svg and "12,5" not in svg  # ticks, not raw values
    bars = str(trends.stacked_bar_chart("Refus", ["a", "b"], {"x": [1, 0], "y": [2, 3]}))
    assert bars.count("<rect") == 3


def test_the_indicators_page_shows_the_trends_and_the_yearly_report_prints_with_csv(client, db, factory):
    territory = factory.territory()
    login(client, factory.user("staff", territory))
    page = html.unescape(client.get("/coordination/indicateurs").get_data(as_text=True))
    assert "Tendances des 12 derniers mois" in page and page.count('role="img"') == 5
    assert "Patients prioritaires placés en 30 jours ou moins" in page and "Refus des médecins, par motif" in page
    report = html.unescape(client.get("/coordination/indicateurs/rapport-annuel?annee=2026").get_data(as_text=True))
    assert "Rapport annuel 2026" in report and "Patients ayant trouvé un médecin traitant" in report
    csv = client.get("/coordination/indicateurs/rapport-annuel.csv?annee=2026")
    assert csv.mimetype == "text/csv" and "Demandes de médecin traitant reçues;0" in csv.get_data(as_text=True)
