"""French formatting shared by pages, e-mails and letters."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import guichet
from guichet.formatting import cpts_fr, date_fr, datetime_fr, number_fr, plural_fr, time_fr


def test_dates_and_times_read_the_french_way_in_paris_time():
    # 08:30 UTC in December is 9 h 30 in Paris
    assert datetime_fr(datetime(2026, 12, 1, 8, 30, tzinfo=UTC)) == "mardi 1er décembre 2026 à 9 h 30"
    assert datetime_fr("2026-12-03T13:00:00+00:00") == "jeudi 3 décembre 2026 à 14 h"
    assert date_fr(date(2027, 1, 1)) == "1er janvier 2027" and date_fr("2026-12-10") == "10 décembre 2026"
    assert time_fr(datetime(2026, 7, 14, 7, 5, tzinfo=UTC)) == "9 h 05"  # summer time
    assert date_fr(None) == datetime_fr(None) == ""


def test_last_day_of_the_year_in_utc_can_already_be_the_next_in_paris():
    assert date_fr(datetime(2026, 12, 31, 23, 30, tzinfo=UTC)) == "1er janvier 2027"


def test_decimals_take_a_comma_and_plurals_keep_the_singular_below_two():
    assert number_fr(3.456) == "3,5" and number_fr(12) == "12" and number_fr(1234.5) == "1\u202f234,5"  # narrow no-break space
    assert plural_fr(0, "demande") == "0 demande" and plural_fr(1, "demande") == "1 demande"
    assert plural_fr(2, "demande") == "2 demandes" and plural_fr(3, "créneau", "créneaux") == "3 créneaux"


def test_a_territory_named_cpts_is_not_called_cpts_twice():
    assert cpts_fr("CPTS Royans-Vercors") == "CPTS Royans-Vercors"
    assert cpts_fr("Royans-Vercors") == "CPTS Royans-Vercors"
    assert cpts_fr("cpts du Grésivaudan") == "cpts du Grésivaudan"


def test_no_template_writes_cpts_before_a_territory_name():
    # names are "CPTS Royans-Vercors": "la CPTS {{ name }}" read "la CPTS CPTS Royans-Vercors"
    templates = Path(guichet.__file__).parent / "web" / "templates"
    offenders = [str(path.relative_to(templates)) for path in templates.rglob("*.*")
                 if re.search(r"CPTS \{\{", path.read_text(encoding="utf-8"))]
    assert offenders == []
