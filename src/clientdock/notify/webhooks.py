"""The webhook wire format: which events exist, the JSON body, and its signature.

Every delivery is ``POST <url>`` with the JSON body ``{"id", "event", "createdAt", "data"}``
and these headers::

    X-Clientdock-Event:      import.completed
    X-Clientdock-Delivery:   <delivery id>   (the same on every retry: receivers de-duplicate by it)
    X-Clientdock-Timestamp:  <unix seconds>
    X-Clientdock-Signature:  sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>" with the secret>

A receiver recomputes the HMAC over the raw body bytes and rejects old timestamps, as
:func:`verify` does.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any

EVENTS = ("import.completed", "import.failed")
SIGNATURE_PREFIX = "sha256="
USER_AGENT = "clientdock-webhooks/1"
DEFAULT_TOLERANCE = 300


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def body_bytes(delivery_id: str, event: str, created_at: datetime, data: Mapping[str, Any]) -> bytes:
    document = {"id": delivery_id, "event": event, "createdAt": created_at.isoformat(), "data": data}
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return SIGNATURE_PREFIX + mac.hexdigest()


def headers(delivery_id: str, event: str, timestamp: int, secret: str, body: bytes) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Clientdock-Event": event,
        "X-Clientdock-Delivery": delivery_id,
        "X-Clientdock-Timestamp": str(timestamp),
        "X-Clientdock-Signature": signature(secret, timestamp, body),
    }


def verify(secret: str, received: Mapping[str, str], body: bytes, *, now: float, tolerance: int = DEFAULT_TOLERANCE) -> bool:
    """What a receiver does: a signature over this body and a timestamp within ``tolerance``."""
    lowered = {key.lower(): value for key, value in received.items()}
    try:
        timestamp = int(lowered.get("x-clientdock-timestamp", ""))
    except ValueError:
        return False
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), lowered.get("x-clientdock-signature", ""))
