"""A platform's per-organisation budgets hold across workers: two budget objects on one
database stand for two worker processes (on SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from clientdock.db import Database
from clientdock.outbound.budget import SharedBudgets
from clientdock.outbound.models import ProviderCall
from tests.fakes.clock import FakeClock


def workers(database: Database, *, concurrent: int = 5, per_minute: int = 60) -> tuple[SharedBudgets, SharedBudgets]:
    return (
        SharedBudgets(database, "xero", concurrent=concurrent, per_minute=per_minute),
        SharedBudgets(database, "xero", concurrent=concurrent, per_minute=per_minute),
    )


def test_the_minute_budget_is_shared_by_two_workers(database: Database) -> None:
    clock = FakeClock(datetime(2026, 12, 6, 9, 0, tzinfo=UTC))
    first, second = workers(database, per_minute=3)
    for worker in (first, second, first):
        with worker.turn("org-1", clock=clock, sleep=clock.sleep, label="test"):
            pass
    assert clock.sleeps == []
    with second.turn("org-1", clock=clock, sleep=clock.sleep, label="test"):
        pass
    assert clock.sleeps == [60.0]
    with first.turn("org-2", clock=clock, sleep=clock.sleep, label="test"):
        pass  # another organisation has its own budget
    assert clock.sleeps == [60.0]


def test_no_more_calls_in_flight_than_allowed_across_workers(database: Database) -> None:
    budgets = workers(database, concurrent=2)
    inside, most = 0, 0
    lock = threading.Lock()

    def call(worker: SharedBudgets) -> None:
        nonlocal inside, most
        with worker.turn("org-1", clock=lambda: datetime.now(UTC), sleep=time.sleep, label="test"):
            with lock:
                inside += 1
                most = max(most, inside)
            time.sleep(0.2)
            with lock:
                inside -= 1

    threads = [threading.Thread(target=call, args=(budgets[i % 2],)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert most == 2


def test_a_429_closes_the_organisation_for_every_worker(database: Database) -> None:
    clock = FakeClock(datetime(2026, 12, 6, 9, 0, tzinfo=UTC))
    first, second = workers(database)
    first.block("org-1", clock() + timedelta(seconds=30))
    with second.turn("org-1", clock=clock, sleep=clock.sleep, label="test"):
        pass
    assert clock.sleeps == [30.0]


def test_a_dead_workers_call_stops_counting_when_its_lease_ends(database: Database) -> None:
    clock = FakeClock(datetime(2026, 12, 6, 9, 0, tzinfo=UTC))
    (worker, _) = workers(database, concurrent=1)
    with database.session() as session:  # a call whose worker was killed: never finished
        session.add(
            ProviderCall(budget="xero:org-1", started_at=clock() - timedelta(seconds=400), lease_until=clock() - timedelta(seconds=100))
        )
    with worker.turn("org-1", clock=clock, sleep=clock.sleep, label="test"):
        pass
    assert clock.sleeps == []
