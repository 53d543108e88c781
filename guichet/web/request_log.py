"""One JSON line per request and per unhandled error, tied together by a request id.

The id comes from the proxy's ``X-Request-ID`` when it looks like one, else it is made
here; it goes back in the response header so a user's report can be matched with the log.
See :mod:`guichet.logs` for what is never written.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, Response, g, request

from guichet.logs import configure_logging

access_log = logging.getLogger("guichet.access")
_INCOMING_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


def init_request_log(app: Flask) -> None:
    configure_logging(str(app.config.get("LOG_LEVEL", "INFO")))

    @app.before_request
    def _start() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _INCOMING_ID.fullmatch(incoming) else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.after_request
    def _log(response: Response) -> Response:
        request_id = g.get("request_id")
        if request_id:
            response.headers["X-Request-ID"] = request_id
        started = g.get("request_started")
        login = g.get("_login_user")
        access_log.info("request", extra={
            "event": "request",
            "status": response.status_code,
            "endpoint": request.endpoint,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
            "user_id": login.user.id if getattr(login, "is_authenticated", False) else None,
        })
        return response
