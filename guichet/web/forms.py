"""Forms and form helpers shared by every blueprint (shared fields: guichet/web/fields.py)."""

from __future__ import annotations

from typing import TypeVar

from flask_wtf import FlaskForm

T = TypeVar("T")


class ButtonForm(FlaskForm):
    """A button alone (confirm, approve, resend…): the CSRF token is its only field."""


def required(value: T | None) -> T:
    """A value its field's validators already required: for the type checker, and a last guard."""
    if value is None:
        raise ValueError("a required form value is missing")
    return value


def coerce_id(value: object) -> int:
    """A record id from a form, or 0 (then refused by DataRequired with a French message)."""
    text = str(value or "")
    return int(text) if text.isdigit() and len(text) < 12 else 0
