"""API key format and hashing. Keys are random; only a SHA-256 of the whole key is stored.

Format: ``cdk_<prefix>_<secret>``; the prefix finds the row, the hash proves the secret.
SHA-256 (not a slow hash) is right here: the secret has 256 bits of entropy.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

PREFIX_BYTES = 6


def generate() -> tuple[str, str]:
    """Return (prefix, full key)."""
    prefix = secrets.token_hex(PREFIX_BYTES)
    return prefix, f"cdk_{prefix}_{secrets.token_urlsafe(32)}"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def prefix_of(key: str) -> str | None:
    parts = key.split("_")
    if len(parts) < 3 or parts[0] != "cdk" or len(parts[1]) != PREFIX_BYTES * 2:
        return None
    return parts[1]


def matches(key: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_key(key), stored_hash)
