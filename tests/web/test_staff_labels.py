"""Coordinators' pages show codes by their French labels from guichet/vocabulary.py."""

from __future__ import annotations

from markupsafe import escape

from guichet import vocabulary
from tests.conftest import NOW
from tests.factories import login


def test_the_request_page_shows_codes_as_their_french_labels(client, factory):
    territory = factory.territory()
    staff = factory.user("staff", territory)
    req = factory.request(factory.patient(territory, sex="X", contact_preference="letter"), kind="snp",
                          snp_category="fever", snp_since="1-2_days", snp_reason="Mal à la gorge")
    login(client, staff)
    html = client.get(f"/coordination/demandes/{req.id}").get_data(as_text=True)
    for code, labels in (("X", vocabulary.SEXES), ("letter", vocabulary.CONTACT_PREFERENCES),
                         ("fever", vocabulary.SNP_CATEGORIES), ("1-2_days", vocabulary.SNP_SINCE)):
        assert str(escape(labels[code])) in html


def test_the_snp_board_shows_reason_duration_and_periods_in_french(client, factory):
    territory = factory.territory()
    staff = factory.user("staff", territory)
    today = NOW.date().isoformat()
    factory.request(factory.patient(territory), kind="snp", snp_category="fever", snp_since="1-2_days",
                    snp_availability=[{"day": today, "period": "evening"}])
    login(client, staff)
    html = client.get("/coordination/snp").get_data(as_text=True)
    for code, labels in (("fever", vocabulary.SNP_CATEGORIES), ("1-2_days", vocabulary.SNP_SINCE),
                         ("evening", vocabulary.SNP_PERIODS)):
        assert str(escape(labels[code])) in html
