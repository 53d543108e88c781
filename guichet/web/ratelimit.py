"""A small sliding-window rate limiter keyed by client address.

It lives in the process: with several gunicorn workers each keeps its own count,
which only makes the limit N times looser, never blocks a real user.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque

from flask import current_app, request


class RateLimiter:
    def __init__(self) -> None:
        self._hits: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def hit(self, bucket: str, limit: int, window: float = 3600.0) -> bool:
        """Count one hit; return False when the client is over the limit."""
        key = (bucket, client_ip())
        now = time.monotonic()
        with self._lock:
            hits = self._hits[key]
            while hits and hits[0] <= now - window:
                hits.popleft()
            if len(hits) >= limit:
                return False
            hits.append(now)
            return True

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()


def client_ip() -> str:
    return request.remote_addr or "unknown"


def limiter() -> RateLimiter:
    return current_app.extensions["guichet"]["ratelimiter"]
