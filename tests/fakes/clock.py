"""A clock the tests move by hand, shared by a fake server and the client under test."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


class FakeClock:
    """``clock()`` is the current (UTC, aware) time; ``advance`` and ``sleep`` move it forward.

    ``sleep`` is the client's injectable sleep: it records the wait in :attr:`sleeps` and moves
    the time on at once, so a 60-second ``Retry-After`` costs nothing.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
        self._lock = threading.Lock()
        self.sleeps: list[float] = []

    def __call__(self) -> datetime:
        return self.now()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += timedelta(seconds=seconds)

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self._now += timedelta(seconds=max(0.0, seconds))
