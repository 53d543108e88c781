"""Forms and form helpers shared by every blueprint."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3; stubs are 3.2

T = TypeVar("T")


class ButtonForm(FlaskForm):
    """A button alone (confirm, approve, resend…): the CSRF token is its only field."""


def choices(pairs: Iterable[tuple[Any, str]]) -> list[SelectChoice]:
    """WTForms 3.3 wants SelectChoice objects rather than (value, label) tuples."""
    return [SelectChoice(str(value), label) for value, label in pairs]


def required(value: T | None) -> T:
    """A value its field's validators already required: for the type checker, and a last guard."""
    if value is None:
        raise ValueError("a required form value is missing")
    return value


def coerce_id(value: object) -> int:
    """A record id from a form, or 0 (then refused by DataRequired with a French message)."""
    text = str(value or "")
    return int(text) if text.isdigit() and len(text) < 12 else 0
