"""Forms and form helpers shared by every blueprint."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice


class ButtonForm(FlaskForm):
    """A button alone (confirm, approve, resend…): the CSRF token is its only field."""


def choices(pairs: Iterable[tuple[Any, str]]) -> list[SelectChoice]:
    """WTForms 3.3 wants SelectChoice objects rather than (value, label) tuples."""
    return [SelectChoice(str(value), label) for value, label in pairs]


def coerce_id(value: object) -> int:
    """A record id from a form, or 0 (then refused by DataRequired with a French message)."""
    text = str(value or "")
    return int(text) if text.isdigit() and len(text) < 12 else 0
