"""A platform's per-organisation budgets held across every worker, in the database.

Xero allows 5 calls in flight and 60 a minute per organisation, for the whole app: two
workers importing from one organisation must share them. Each call takes a turn in a short
transaction that is serialised per organisation (a PostgreSQL advisory lock; SQLite
serialises writers anyway): it counts the calls of the last minute and those still in flight,
and either records its own start or waits. A 429's Retry-After closes the organisation for
every worker. A call whose worker died stops counting as in flight when its lease ends.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session

from clientdock.db import Database
from clientdock.outbound.errors import ProviderUnavailable
from clientdock.outbound.http import MAX_WAIT_SECONDS, Clock, Sleep, as_utc
from clientdock.outbound.models import ProviderBlock, ProviderCall

#: How often a worker looks again when every slot of an organisation is taken.
SLOT_POLL_SECONDS = 0.1


class SharedBudgets:
    def __init__(
        self, db: Database, platform: str, *, concurrent: int, per_minute: int, window_seconds: float = 60.0, lease_seconds: float = 300.0
    ) -> None:
        """``per_minute`` calls per window of ``window_seconds`` (a minute unless told: Companies
        House allows 600 per 300 s) and ``concurrent`` calls in flight."""
        self.db, self.platform = db, platform
        self.concurrent, self.per_minute = concurrent, per_minute
        self.window = timedelta(seconds=window_seconds)
        self.lease = timedelta(seconds=lease_seconds)

    def _key(self, org: str) -> str:
        return f"{self.platform}:{org}"[:160]

    def _serialise(self, session: Session, key: str) -> None:
        if session.get_bind().dialect.name == "postgresql":
            lock_id = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)
            session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": lock_id})

    def _try_start(self, key: str, now: datetime) -> tuple[str | None, float]:
        """Record a call's start (its id), or how long to wait before trying again."""
        with self.db.session() as session:
            self._serialise(session, key)
            session.execute(delete(ProviderCall).where(ProviderCall.budget == key, ProviderCall.started_at < now - 2 * self.window))
            block = session.get(ProviderBlock, key)
            if block is not None and as_utc(block.until) > now:
                return None, (as_utc(block.until) - now).total_seconds()
            recent = list(
                session.scalars(
                    select(ProviderCall.started_at)
                    .where(ProviderCall.budget == key, ProviderCall.started_at > now - self.window)
                    .order_by(ProviderCall.started_at)
                )
            )
            if len(recent) >= self.per_minute:
                return None, max((as_utc(recent[len(recent) - self.per_minute]) + self.window - now).total_seconds(), 0.01)
            in_flight = session.scalar(
                select(func.count())
                .select_from(ProviderCall)
                .where(ProviderCall.budget == key, ProviderCall.done_at.is_(None), ProviderCall.lease_until > now)
            )
            if (in_flight or 0) >= self.concurrent:
                return None, SLOT_POLL_SECONDS
            call = ProviderCall(budget=key, started_at=now, lease_until=now + self.lease)
            session.add(call)
            session.flush()
            return call.id, 0.0

    @contextmanager
    def turn(self, org: str, *, clock: Clock, sleep: Sleep, label: str) -> Iterator[None]:
        """Hold a slot of ``org`` and take one call of its minute budget, waiting as needed."""
        key = self._key(org)
        while True:
            call_id, wait = self._try_start(key, as_utc(clock()))
            if call_id is not None:
                break
            if wait > MAX_WAIT_SECONDS:
                raise ProviderUnavailable(f"{label}: organisation {org} is rate-limited for another {wait:.0f} s; try again later")
            sleep(wait)
        try:
            yield
        finally:
            with self.db.session() as session:
                session.execute(update(ProviderCall).where(ProviderCall.id == call_id).values(done_at=as_utc(clock())))

    def block(self, org: str, until: datetime) -> None:
        key = self._key(org)
        with self.db.session() as session:
            self._serialise(session, key)
            block = session.get(ProviderBlock, key)
            if block is None:
                session.add(ProviderBlock(budget=key, until=until))
            elif as_utc(block.until) < until:
                block.until = until
