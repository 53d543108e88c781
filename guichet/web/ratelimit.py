"""Rate limits keyed on the real client address and shared by every worker (Flask-Limiter).

The counts live in Redis when ``GUICHET_REDIS_URL`` is set, so that every gunicorn worker
and every host behind the proxy shares them; the embedded default keeps them in memory (one
process). Behind a TLS proxy the client address is the one Werkzeug's ``ProxyFix`` recovers
from ``X-Forwarded-For`` for ``PROXY_HOPS`` trusted proxies (see :func:`init_rate_limits`):
without it every visitor would share the proxy's address and one person could block a form
for a whole territory.

The API other modules use:

- ``enforce(bucket, limit, window)`` counts one hit and answers 429 over the limit;
- ``limiter().hit(bucket, limit, window)`` counts one hit and says whether it is allowed;
- ``key=`` counts per account, API key… instead of per address;
- ``client_ip()`` is the real client address (audit rows, login throttling).
"""

from __future__ import annotations

from flask import Flask, abort, current_app, request
from flask_limiter import Limiter
from limits import RateLimitItemPerSecond
from werkzeug.middleware.proxy_fix import ProxyFix


class RateLimiter:
    """Counts hits per (bucket, key) in Flask-Limiter's storage (memory or Redis)."""

    def __init__(self, limiter: Limiter) -> None:
        self._limiter = limiter

    def hit(self, bucket: str, limit: int, window: float = 3600.0, *, key: str | None = None) -> bool:
        """Count one hit; return False when the key (the client address by default) is over the limit."""
        item = RateLimitItemPerSecond(limit, max(1, int(window)))
        return bool(self._limiter.limiter.hit(item, bucket, key or client_ip()))

    def reset(self) -> None:
        self._limiter.reset()


def client_ip() -> str:
    """The client's address (ProxyFix has already replaced the proxy's by the real one)."""
    return request.remote_addr or "unknown"


def limiter() -> RateLimiter:
    return current_app.extensions["guichet"]["ratelimiter"]


def enforce(bucket: str, limit: int, window: float = 3600.0, *, key: str | None = None) -> None:
    """Count one hit; over the limit the request ends with the French 429 page."""
    if not limiter().hit(bucket, limit, window, key=key):
        abort(429)


def init_rate_limits(app: Flask) -> RateLimiter:
    """Trust PROXY_HOPS proxies for the client address and scheme, and attach the limiter."""
    hops = int(app.config.get("PROXY_HOPS", 0))
    if hops > 0:
        # only the address and scheme: the Host stays the one the proxy passes on, checked
        # against the trusted hosts in production
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    redis_url = str(app.config.get("REDIS_URL") or "")
    app.config.setdefault("RATELIMIT_STORAGE_URI", redis_url or "memory://")
    if redis_url:
        # keys start with this prefix in the shared Redis (tests use their own and clear only it)
        app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {"key_prefix": str(app.config["RATE_LIMIT_KEY_PREFIX"])})
    # one Limiter per application: its storage is per instance, and tests build several apps
    limiter = Limiter(key_func=client_ip, app=app, default_limits=[], headers_enabled=False,
                      strategy="moving-window")
    return RateLimiter(limiter)
