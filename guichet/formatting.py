"""French formatting of what people read, on pages, in e-mails and in letters (Babel, Europe/Paris time).

"mardi 3 décembre 2026 à 9 h 30", "1er janvier", "3,5 km", "2 demandes": one place, used as
Jinja filters by the web templates and by the mail templates alike.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from babel.dates import format_date
from babel.numbers import format_decimal

from guichet.timeutil import to_paris

LOCALE = "fr_FR"


def _moment(value: Any) -> date | datetime | None:
    """A date or an aware Paris datetime from a date, a datetime (UTC if naive) or ISO text."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value or " " in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        return to_paris(value)
    return value


@lru_cache(maxsize=4096)
def _day(value: date, *, weekday: bool) -> str:
    # cached: a list page formats the same few hundred days again and again, and Babel's
    # pattern formatting costs tens of microseconds a call
    # French writes the first day of a month as an ordinal: "1er décembre"
    day = "1er" if value.day == 1 else str(value.day)
    text = f"{day} {format_date(value, 'MMMM y', locale=LOCALE)}"
    return f"{format_date(value, 'EEEE', locale=LOCALE)} {text}" if weekday else text


def date_fr(value: Any, weekday: bool = False) -> str:
    """"3 décembre 2026" ("mardi 3 décembre 2026" with weekday); "" for None."""
    moment = _moment(value)
    if moment is None:
        return ""
    return _day(moment.date() if isinstance(moment, datetime) else moment, weekday=weekday)


def time_fr(value: Any) -> str:
    """"9 h 30", "14 h" (Paris time)."""
    moment = _moment(value)
    if not isinstance(moment, datetime):
        return ""
    return f"{moment.hour} h" if moment.minute == 0 else f"{moment.hour} h {moment.minute:02d}"


def datetime_fr(value: Any, weekday: bool = True) -> str:
    """"mardi 3 décembre 2026 à 9 h 30" (Paris time); "" for None."""
    moment = _moment(value)
    if not isinstance(moment, datetime):
        return date_fr(moment, weekday=weekday)
    return f"{_day(moment.date(), weekday=weekday)} à {time_fr(moment)}"


def number_fr(value: Any, digits: int = 1) -> str:
    """A decimal with a comma: 3,5 (at most `digits` decimals)."""
    if value is None or value == "":
        return ""
    return format_decimal(value, format="#,##0." + "#" * digits, locale=LOCALE)


def plural_fr(count: int, singular: str, plural: str | None = None) -> str:
    """"0 demande", "1 demande", "2 demandes": French keeps the singular for 0 and 1."""
    word = singular if abs(count) < 2 else (plural or singular + "s")
    return f"{count} {word}"


def cpts_fr(name: str | None) -> str:
    """A territory's name after "la": "CPTS Royans-Vercors", never "CPTS CPTS Royans-Vercors"."""
    name = (name or "").strip()
    return name if name.upper().startswith("CPTS") else f"CPTS {name}".strip()


#: the Jinja filters of every template environment (web pages and messages)
FILTERS: dict[str, Callable[..., str]] = {
    "date_fr": date_fr,
    "time_fr": time_fr,
    "datetime_fr": datetime_fr,
    "number_fr": number_fr,
    "plural_fr": plural_fr,
    "cpts_fr": cpts_fr,
}
