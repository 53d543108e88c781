"""One clock: nothing in the package reads the machine's time except guichet.clock."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import guichet
from guichet.clock import FrozenClock, system_clock

PACKAGE = Path(guichet.__file__).parent

#: calls that read the wall clock; time.monotonic/perf_counter (durations) are fine
FORBIDDEN = {
    ("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"), ("date", "today"),
    ("time", "time"), ("time", "localtime"), ("time", "gmtime"),
}


def _wall_clock_reads(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", None)
            if (name, node.func.attr) in FORBIDDEN:
                found.append(f"{path}:{node.lineno} {name}.{node.func.attr}()")
        if isinstance(node, ast.ImportFrom) and node.module == "time":
            for alias in node.names:
                if alias.name in ("time", "localtime", "gmtime"):
                    found.append(f"{path}:{node.lineno} from {node.module} "
                                 f"import {alias.name}")
    return found


def test_only_the_clock_module_reads_the_machine_time():
    offenders = [
        hit
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name != "clock.py" or path.parent != PACKAGE
        for hit in _wall_clock_reads(path)
    ]
    assert offenders == [], "read the time from the app's clock (guichet.clock), not:\n" + "\n".join(offenders)


def test_the_check_sees_a_direct_read(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import datetime as dt\nfrom datetime import date\nx = dt.datetime.now()\ny = date.today()\n")
    assert len(_wall_clock_reads(sample)) == 2


def test_frozen_clock_stands_still_until_moved():
    clock = FrozenClock(datetime(2026, 12, 31, 22, 30))  # naive means UTC
    assert clock() == datetime(2026, 12, 31, 22, 30, tzinfo=UTC)
    assert clock() == clock()
    assert clock.advance(hours=1, minutes=30) == datetime(2027, 1, 1, 0, 0, tzinfo=UTC)
    clock.advance(timedelta(days=1))
    assert clock().date().isoformat() == "2027-01-02"
    with pytest.raises(ValueError):
        clock.advance(minutes=-1)


def test_system_clock_is_aware_utc():
    assert system_clock().tzinfo is UTC
