"""Per-key rate limits: a token bucket per API key, in this process.

Every request that presents an API key (``X-API-Key`` or ``Authorization: Bearer``: a tenant
key, a partner app's credential or the platform key) takes one token from its key's bucket
before anything else happens. A bucket holds at most ``burst`` tokens and refills at ``rate``
tokens a second; an empty bucket answers 429 problem details with ``Retry-After`` (whole
seconds, at least 1) and the request does no work: its body is not read, its key is not looked
up, an ``Idempotency-Key`` is not claimed (so a replay counts like any request).

The buckets live in the API process, not in the database: a request costs a dictionary look-up
under a lock, not a write. With N API processes behind a load balancer a key may therefore make
up to N times ``rate`` requests a second (set ``rate`` to the per-key figure you want divided by
N; see docs/reliability.md, "Abuse limits").

The key is counted as presented, before it is checked, so one that turns out to be invalid or
revoked is counted too (its 401 costs a look-up; a flood of them is limited like any other). A
bucket is held by the SHA-256 of the key, never the key itself.

Memory stays bounded: buckets are kept in least-recently-used order, and a bucket unused for
``burst / rate`` seconds is full again, so it is dropped (a dropped bucket and a full one are the
same thing). At most ``max_keys`` buckets are kept; past that the least recently used is dropped
even if not yet full, which can only give that key more, never less.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Final

from starlette.types import ASGIApp, Receive, Scope, Send

from clientdock.problems import problem

#: Buckets kept at most (about 100 bytes each): far more keys than are busy within a few seconds.
MAX_KEYS: Final = 100_000


class TokenBuckets:
    """A token bucket per key. :meth:`take` is O(1) amortised and thread-safe."""

    def __init__(self, rate: float, burst: int, *, max_keys: int = MAX_KEYS, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.rate = rate
        self.burst = float(burst)
        self.max_keys = max_keys
        self.clock = clock
        #: After this long unused a bucket is full again: it may be forgotten.
        self.full_after = self.burst / rate
        # key -> [tokens, when they were counted]; oldest use first.
        self._buckets: OrderedDict[bytes, list[float]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, key: bytes) -> float:
        """Take a token for ``key``: 0.0 when there was one, else the seconds until there is."""
        with self._lock:
            now = self.clock()
            buckets = self._buckets
            bucket = buckets.get(key)
            if bucket is None:
                bucket = buckets[key] = [self.burst, now]
                self._forget_idle(now)
            else:
                buckets.move_to_end(key)
                bucket[0] = min(self.burst, bucket[0] + (now - bucket[1]) * self.rate)
                bucket[1] = now
            if bucket[0] >= 1.0:
                bucket[0] -= 1.0
                return 0.0
            return (1.0 - bucket[0]) / self.rate

    def _forget_idle(self, now: float) -> None:
        """Drop the buckets that are full again (oldest first), and the oldest past ``max_keys``."""
        buckets = self._buckets
        while len(buckets) > self.max_keys:
            buckets.popitem(last=False)
        for _ in range(2):  # a little at a time: each new key clears at most two idle ones
            oldest = next(iter(buckets.values()))
            if now - oldest[1] < self.full_after:
                return
            buckets.popitem(last=False)


def key_id(credential: str) -> bytes:
    return hashlib.sha256(credential.encode()).digest()


def presented_key(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The API key in a request's raw headers, read as :func:`clientdock.tenants.auth.presented_key` reads it."""
    api_key = authorization = None
    for name, value in headers:
        if name == b"x-api-key" and api_key is None:
            api_key = value
        elif name == b"authorization" and authorization is None:
            authorization = value
    if api_key:  # a blank X-API-Key is no key (401), whatever else is sent
        return api_key.decode("latin-1").strip() or None
    if authorization:
        scheme, _, token = authorization.decode("latin-1").partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
    return None


def retry_after_seconds(wait: float) -> int:
    """``Retry-After`` in whole seconds, at least 1 (a client told 0 would retry at once)."""
    return max(1, math.ceil(wait))


class RateLimitMiddleware:
    """ASGI middleware: a request with an API key takes a token of its key's bucket, or is 429."""

    def __init__(self, app: ASGIApp, *, buckets: TokenBuckets) -> None:
        self.app = app
        self.buckets = buckets

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            credential = presented_key(scope["headers"])
            if credential is not None:
                wait = self.buckets.take(key_id(credential))
                if wait > 0.0:
                    await self._refuse(wait, scope, receive, send)
                    return
        await self.app(scope, receive, send)

    async def _refuse(self, wait: float, scope: Scope, receive: Receive, send: Send) -> None:
        seconds = retry_after_seconds(wait)
        buckets = self.buckets
        detail = (
            f"this API key may make {buckets.rate:g} requests a second (bursts of up to {buckets.burst:g}); "
            f"it has used them up: retry after {seconds} s"
        )
        response = problem(429, "Too many requests", detail)  # the body has the Problem schema's keys, no more
        response.headers["Retry-After"] = str(seconds)
        if _has_body(scope["headers"]):  # not read: closing is cheaper than receiving it to throw it away
            response.headers["Connection"] = "close"
        await response(scope, receive, send)


def _has_body(headers: list[tuple[bytes, bytes]]) -> bool:
    return any((name == b"content-length" and value != b"0") or name == b"transfer-encoding" for name, value in headers)
