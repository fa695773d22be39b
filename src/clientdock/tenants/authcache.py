"""A short-lived in-process cache of credentials and tenant contexts.

Every request checks its API key and loads its tenant's context; without a cache that is two
or three queries (and on SQLite a wait for the write lock) before any work. Entries live
:data:`TTL_SECONDS` at most and only successes are kept: an unknown key, a 401 or a 403 is
asked of the database every time.

Invalidation: any session of this process that writes an API key, a tenant or a client group
empties the cache when it commits (and when it flushes), so a key revoked or a setting changed
through this process takes effect at once. A change made by another process (``clientdock key
revoke`` while the service runs) takes effect within :data:`TTL_SECONDS`. A generation counter
stops a read that raced such a commit from storing what it read before the commit.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from clientdock.tenants.models import ApiKey, ClientGroup, Tenant

TTL_SECONDS = 5.0
MAX_ENTRIES = 10_000
_WATCHED = (ApiKey, Tenant, ClientGroup)


class AuthCache:
    """Key → value for :data:`TTL_SECONDS`, emptied whenever credentials or tenants change."""

    def __init__(self, ttl: float = TTL_SECONDS) -> None:
        self.ttl = ttl
        self._entries: dict[Any, tuple[float, Any]] = {}
        self._lock = threading.Lock()
        self.generation = 0

    def get(self, key: Any) -> Any | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, key: Any, value: Any, generation: int) -> None:
        """Keep ``value`` unless the cache was emptied since ``generation`` was read."""
        with self._lock:
            if generation != self.generation:
                return
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[key] = (time.monotonic() + self.ttl, value)

    def clear(self) -> None:
        with self._lock:
            self.generation += 1
            self._entries.clear()


CACHE = AuthCache()


def _touches_credentials(session: Session) -> bool:
    return any(isinstance(obj, _WATCHED) for group in (session.new, session.dirty, session.deleted) for obj in group)


@event.listens_for(Session, "before_flush")
def _note_changes(session: Session, _context: Any, _instances: Any) -> None:
    if _touches_credentials(session):
        session.info["clientdock_auth_changed"] = True
        CACHE.clear()


@event.listens_for(Session, "after_commit")
def _clear_on_commit(session: Session) -> None:
    if session.info.pop("clientdock_auth_changed", False):
        CACHE.clear()


@event.listens_for(Session, "after_soft_rollback")
def _forget_on_rollback(session: Session, _previous: Any) -> None:
    session.info.pop("clientdock_auth_changed", None)
