"""The shared WTForms fields (guichet/web/fields.py): one French date, time, number and checkbox field."""

from __future__ import annotations

from datetime import date, time

import pytest
from flask_wtf import FlaskForm

from guichet.timeutil import parse_date
from guichet.web.fields import CheckboxesField, FrDateField, FrIntegerField, FrTimeField, choices


@pytest.mark.parametrize("text", ["2026-11-24", "24/11/2026", "24-11-2026", "24.11.2026", " 24 / 11 / 2026 ",
                                  "1/2/2026"])
def test_one_reading_of_a_typed_date(text):
    assert parse_date(text) == (date(2026, 2, 1) if text == "1/2/2026" else date(2026, 11, 24))


def test_an_unreadable_date_is_refused():
    with pytest.raises(ValueError):
        parse_date("31/02/2026")


class Sample(FlaskForm):
    birth = FrDateField("Date de naissance")
    until = FrDateField("Jusqu'au", example="31/03/2027")
    number = FrIntegerField("Nombre")
    at = FrTimeField("Heure")
    langs = CheckboxesField("Langues", choices=choices([("en", "Anglais")]))


def test_the_fields_read_french_input_and_answer_in_french(app):
    with app.test_request_context(method="POST", data={"birth": "14/03/1950", "until": "2027-03-31",
                                                       "number": "3", "at": "9h30", "langs": ["en"]}):
        form = Sample()
        assert form.validate(), form.errors
        assert (form.birth.data, form.until.data, form.number.data, form.at.data, form.langs.data) == (
            date(1950, 3, 14), date(2027, 3, 31), 3, time(9, 30), ["en"])
    with app.test_request_context(method="POST", data={"birth": "hier", "until": "demain", "number": "trois",
                                                       "at": "midi", "langs": ["xx"]}):
        form = Sample()
        assert not form.validate()
        assert form.errors == {
            "birth": ["Cette date n'est pas valide : écrivez-la par exemple 14/03/1950."],
            "until": ["Cette date n'est pas valide : écrivez-la par exemple 31/03/2027."],
            "number": ["Indiquez un nombre entier, par exemple 3."],
            "at": ["Indiquez une heure valide, par exemple 09:00."],
            "langs": ["Choisissez parmi les valeurs proposées."],
        }


def test_a_date_not_sent_keeps_the_object_s_value(app):
    class Edit(FlaskForm):
        birth_date = FrDateField("Date de naissance")

    with app.test_request_context(method="POST", data={"other": "x"}):
        assert Edit(obj=type("P", (), {"birth_date": date(1950, 3, 14)})()).birth_date.data == date(1950, 3, 14)
    with app.test_request_context(method="POST", data={"birth_date": ""}):
        assert Edit(obj=type("P", (), {"birth_date": date(1950, 3, 14)})()).birth_date.data is None
