"""The one clock: every "now" of the application comes from here, and tests move it.

Services never read the time: they take ``now=``. Entry points get it from the clock they
were given: ``create_app(clock=…)`` keeps it on ``app.extensions["guichet"]["clock"]``
(web views read it once per request, the CLI and the scheduler read it from the app).
:func:`system_clock` is the only function of the package that reads the machine's time;
a check in CI (``tests/unit/test_clock.py``) keeps it so.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from guichet.timeutil import as_utc

#: a source of "now": an aware UTC datetime each call
Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The machine's time as an aware UTC datetime: the production clock."""
    return datetime.now(UTC)


class FrozenClock:
    """A clock that stands still until it is moved: for tests, demos and simulations."""

    def __init__(self, at: datetime) -> None:
        self._at = as_utc(at)

    def __call__(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        """Jump to a given time (aware, or naive UTC)."""
        self._at = as_utc(at)

    def advance(self, delta: timedelta | None = None, **parts: float) -> datetime:
        """Move forward by `delta` or by timedelta keyword parts; return the new time."""
        step = (delta or timedelta()) + timedelta(**parts)
        if step < timedelta():
            raise ValueError("a frozen clock only moves forward")
        self._at += step
        return self._at
