"""WTForms fields shared by the forms of every blueprint: French dates, times and numbers, checkbox lists."""

from __future__ import annotations

from datetime import date
from typing import Any

from wtforms import Field, IntegerField, SelectMultipleField, TimeField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # new in WTForms 3.3; stubs are 3.2
from wtforms.widgets import CheckboxInput, DateInput, ListWidget

from guichet.timeutil import parse_date

CHOICE_MESSAGE = "Choisissez parmi les valeurs proposées."
#: the example of a date the patient forms give (a birth date)
DATE_EXAMPLE = "14/03/1950"


def choices(pairs: Any) -> list[SelectChoice]:
    """WTForms choices from (value, label) pairs (WTForms 3.3 wants SelectChoice objects)."""
    return [SelectChoice(str(value), label) for value, label in pairs]


class FrDateField(Field):
    """A date input that accepts 2026-11-24 (date pickers) and 24/11/2026, with French errors.

    `example` is the date the error message shows, one that makes sense for the question.
    """

    widget = DateInput()

    def __init__(self, *args: Any, example: str = DATE_EXAMPLE, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.example = example

    def _value(self) -> str:
        if self.raw_data:
            return " ".join(self.raw_data)
        return self.data.isoformat() if isinstance(self.data, date) else ""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist:  # not sent at all: keep the object's value, as WTForms' DateField does
            return
        text = " ".join(str(v) for v in valuelist).strip()
        if not text:
            self.data = None
            return
        try:
            self.data = parse_date(text)
        except ValueError:
            self.data = None
            raise ValueError(f"Cette date n'est pas valide : écrivez-la par exemple {self.example}.") from None


class CheckboxesField(SelectMultipleField):
    """Several check boxes answering one question (no JavaScript, usable on a phone)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("invalid_choice_message", CHOICE_MESSAGE)
        super().__init__(*args, **kwargs)


class FrIntegerField(IntegerField):
    """An integer field whose parse error is in French."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError("Indiquez un nombre entier, par exemple 3.") from None


class FrTimeField(TimeField):
    """A time field (09:00 or 9h00) whose parse error is in French."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("format", ["%H:%M", "%Hh%M", "%H:%M:%S"])
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError("Indiquez une heure valide, par exemple 09:00.") from None
