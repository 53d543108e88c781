"""Time helpers: store UTC, show Europe/Paris."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


def as_utc(value: datetime) -> datetime:
    """Return an aware UTC datetime; naive values are taken as UTC (as SQLite returns them)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def to_paris(value: datetime) -> datetime:
    return as_utc(value).astimezone(PARIS)


def paris_today(now: datetime) -> date:
    return to_paris(now).date()


#: how people and date pickers write a day: 2026-11-24, 24/11/2026, 24-11-2026, 24.11.2026
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y")


def parse_date(text: str) -> date:
    """Read a date typed by a person, sent by a date picker or written in a file; raise ValueError."""
    value = "".join(text.split())
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise ValueError(value)


def age_on(birth_date: date, day: date) -> int:
    """Age in whole years on a given day."""
    years = day.year - birth_date.year
    if (day.month, day.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years
