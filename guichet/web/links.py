"""Links written into messages: always built from BASE_URL, never from the request's Host.

A link in an e-mail must point at this service even when a request arrives with a forged
Host header (a reset link sent to ``evil.example`` would hand over the account).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app, url_for


def external_url(endpoint: str, **values: Any) -> str:
    """The absolute address of `endpoint`, on the configured BASE_URL."""
    base = str(current_app.config["BASE_URL"]).rstrip("/")
    return base + url_for(endpoint, **values)


def invitation_link(token: str) -> str:
    return external_url("auth.accept_invitation", token=token)


def safe_local_path(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None (where to go after signing in).

    Browsers drop tabs and newlines and read a backslash as a slash, so a tab between two
    slashes or a backslash after one would leave the site: any such character refuses the target.
    """
    if not target or any(ord(c) < 32 or ord(c) == 127 or c == "\\" for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target
