"""Links written into messages: always built from BASE_URL, never from the request's Host.

A link in an e-mail must point at this service even when a request arrives with a forged
Host header (a reset link sent to ``evil.example`` would hand over the account).
"""

from __future__ import annotations

from typing import Any

from flask import current_app, url_for


def external_url(endpoint: str, **values: Any) -> str:
    """The absolute address of `endpoint`, on the configured BASE_URL."""
    base = str(current_app.config["BASE_URL"]).rstrip("/")
    return base + url_for(endpoint, **values)


def invitation_link(token: str) -> str:
    return external_url("auth.accept_invitation", token=token)
