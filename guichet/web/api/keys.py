"""Who calls the API: the partner's key, its scope, its rate limit, and the audit of each call."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import current_app, g, request

from guichet.accounts import audit
from guichet.models import ApiKey
from guichet.partners import api_keys
from guichet.web.api.problems import fail
from guichet.web.ratelimit import client_ip, limiter
from guichet.web.session import get_session, request_now

F = TypeVar("F", bound=Callable[..., Any])


def current_key() -> ApiKey:
    key: ApiKey = g.api_key
    return key


def _bearer() -> str:
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    return secret.strip() if scheme.lower() == "bearer" else ""


def key_required(scope: str) -> Callable[[F], F]:
    """Let the call through with an active key allowing `scope`; audit it, committed at once.

    401 without a valid key, 403 when the key only reads, 429 over the key's rate limit.
    """

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            db = get_session()
            now = request_now()
            key = api_keys.authenticate(db, _bearer(), now=now)
            if key is None:
                audit.record(db, "api.refused", now=now, ip=client_ip(), endpoint=request.endpoint, cause="key")
                db.commit()
                fail(401, headers={"WWW-Authenticate": 'Bearer realm="guichet"'})
            allowed = api_keys.allows(key, scope)
            within = limiter().hit("api", int(current_app.config["RATE_LIMIT_API_PER_MINUTE"]), window=60,
                                   key=f"api-key:{key.id}")
            audit.record(db, "api.call", now=now, ip=client_ip(), object_type="api_key", object_id=key.id,
                         territory_id=key.partner.territory_id, endpoint=request.endpoint, method=request.method,
                         outcome="ok" if allowed and within else ("scope" if not allowed else "rate"))
            db.commit()
            if not allowed:
                fail(403)
            if not within:
                fail(429, headers={"Retry-After": "60"})
            g.api_key = key
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator
