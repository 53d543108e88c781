"""Application logs: one JSON object per line, a request id, never a personal value.

Operators trace a problem with the request id (also sent back in the ``X-Request-ID``
header), the route, the status and the exception's class and place, never by reading
health data. What keeps personal data out:

- errors are logged as their class, codes and where they were raised (:func:`safe_error`),
  never their message: a database error's text may quote the values it refused;
- the engine is created with ``hide_parameters`` (:func:`guichet.db.make_engine`);
- paths lose their query string, and secret segments (tracking, reset and invitation tokens,
  any long random-looking segment) are masked (:func:`mask_path`).

gunicorn's own access log stays off (its default): the application writes one masked
line per request instead.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import traceback
from pathlib import Path
from typing import Any

_PACKAGE_ROOT = Path(__file__).resolve().parent.parent

#: a path segment that looks like a token: 16+ url-safe characters with a digit or a capital
#: (tracking, reset and invitation tokens); page names are lower-case words
_SECRET_SEGMENT = re.compile(r"(?<=/)(?=[^/]*[0-9A-Z])[A-Za-z0-9_\-]{16,}(?=/|$)")
#: fields a log call may add with ``extra=``; anything else is dropped
EXTRA_FIELDS = ("event", "method", "path", "endpoint", "status", "duration_ms", "user_id", "job_id",
                "outcome", "error")
_HANDLER_NAME = "guichet-json"


def mask_path(path: str) -> str:
    """The path without its query string and with token-like segments replaced by ``***``."""
    return _SECRET_SEGMENT.sub("***", path.split("?", 1)[0])


def safe_error(exc: BaseException) -> str:
    """The exception's class, its codes and where it was raised: never its message (it may name someone)."""
    where = ""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        path = Path(frame.filename).resolve()
        # the innermost frame of our own code (not a library's)
        if path.is_relative_to(_PACKAGE_ROOT) and ".venv" not in path.parts:
            where = f" ({path.relative_to(_PACKAGE_ROOT)}:{frame.lineno})"
            break
    codes = []
    if getattr(exc, "smtp_code", None):
        codes.append(f"SMTP {exc.smtp_code}")  # type: ignore[attr-defined]
    sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", None)
    if sqlstate:
        codes.append(f"SQLSTATE {sqlstate}")
    label = f" [{', '.join(codes)}]" if codes else ""
    return f"{type(exc).__module__}.{type(exc).__name__}{label}{where}"


def _request_context() -> dict[str, Any]:
    try:
        from flask import g, has_request_context, request
    except ImportError:  # pragma: no cover - flask is a dependency
        return {}
    if not has_request_context():
        return {}
    return {"request_id": g.get("request_id"), "method": request.method, "path": mask_path(request.path)}


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, request id, safe extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            # our own messages are constant texts; arguments are not interpolated, so a value
            # passed by mistake (or by a library) never reaches the log
            "message": str(record.msg),
        }
        entry.update(_request_context())
        for name in EXTRA_FIELDS:
            if name in record.__dict__:
                entry[name] = record.__dict__[name]
        if record.exc_info and record.exc_info[1] is not None:
            entry["error"] = safe_error(record.exc_info[1])
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(level: str = "INFO") -> logging.Handler:
    """Send the ``guichet`` loggers to stderr as JSON lines (once per process)."""
    logger = logging.getLogger("guichet")
    logger.setLevel(level)
    for handler in logger.handlers:
        if handler.get_name() == _HANDLER_NAME:
            return handler
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    return handler
