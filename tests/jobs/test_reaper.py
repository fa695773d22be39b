"""Heartbeats and the reaper: every worker beats; one at a time (PostgreSQL: the holder of an
advisory lock; SQLite: the one process) resumes the pending workflows of a silent worker, once.

The reapers here are ticked by the test (no thread, no clock): a dead worker is a heartbeat row
written long ago, its job a workflow enqueued through DBOS's client and marked PENDING on it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import select

from clientdock.db import Database
from clientdock.jobs.engine import JobEngine
from clientdock.jobs.models import JobExecutor
from clientdock.jobs.reaper import REAPER_LOCK, SWEEP_EVERY, Executor, Reaper
from clientdock.settings import Settings
from tests.conftest import POSTGRES_URL, TenantInfo, make_tenant, new_database_url, pg_drop
from tests.jobs.helpers import enqueue, heartbeat, place, workflow_state

DEAD_AFTER = 60.0
needs_postgres = pytest.mark.skipif(POSTGRES_URL is None, reason="needs CLIENTDOCK_TEST_POSTGRES_URL (CI sets it)")


class Resumes:
    """The reapers' resume: the engine's (DBOS's client puts the workflow back on the queue), counted."""

    def __init__(self, engine: JobEngine) -> None:
        self.engine = engine
        self.done: list[str] = []

    def __call__(self, workflow_id: str) -> object:
        self.done.append(workflow_id)
        return self.engine.resume(workflow_id)


@pytest.fixture
def engine(settings: Settings, database: Database) -> Iterator[JobEngine]:
    engine = JobEngine(settings, database)
    yield engine
    engine.stop()


@pytest.fixture
def resumes(engine: JobEngine) -> Resumes:
    return Resumes(engine)


def reaper(database: Database, name: str, resumes: Resumes) -> Reaper:
    return Reaper(database, Executor(name, f"host-{name}", 1000, 4), interval=3600, dead_after=DEAD_AFTER, resume=resumes)


def dead_worker_with_a_job(database: Database, engine: JobEngine, settings: Settings, tenant: TenantInfo, name: str) -> str:
    job = enqueue(database, engine, settings, tenant.id)
    place(database, job, name)
    heartbeat(database, name, seconds_ago=DEAD_AFTER * 10)
    assert job.workflow_id is not None
    return job.workflow_id


def executors(database: Database) -> dict[str, JobExecutor]:
    with database.session() as session:
        return {row.executor_id: row for row in session.scalars(select(JobExecutor))}


def test_a_heartbeat_row_says_who_the_worker_is(database: Database, resumes: Resumes) -> None:
    one = reaper(database, "w1", resumes)
    one.announce()
    row = executors(database)["w1"]
    assert (row.hostname, row.pid, row.concurrency) == ("host-w1", 1000, 4)
    assert row.started_at == row.heartbeat_at
    one.tick()
    assert executors(database)["w1"].heartbeat_at >= row.heartbeat_at
    one.stop()


def test_a_worker_taken_for_dead_writes_its_row_again(database: Database, resumes: Resumes) -> None:
    one = reaper(database, "w1", resumes)
    one.tick()
    with database.session() as session:
        session.delete(session.get_one(JobExecutor, "w1"))
    one.tick()
    assert executors(database)["w1"].hostname == "host-w1"
    one.stop()


def test_a_clean_stop_removes_the_row_unless_jobs_are_left_pending(
    database: Database, engine: JobEngine, settings: Settings, tenant: TenantInfo, resumes: Resumes
) -> None:
    idle, busy = reaper(database, "idle", resumes), reaper(database, "busy", resumes)
    idle.announce()
    busy.announce()
    place(database, enqueue(database, engine, settings, tenant.id), "busy")
    idle.stop()
    busy.stop()
    assert idle.retire() is True
    assert busy.retire() is False
    assert set(executors(database)) == {"busy"}


def test_a_job_left_by_a_clean_stop_is_resumed_at_the_next_tick_not_after_dead_after(
    database: Database, engine: JobEngine, settings: Settings, tenant: TenantInfo, resumes: Resumes
) -> None:
    stopping, live = reaper(database, "stopping", resumes), reaper(database, "live", resumes)
    stopping.announce()
    job = enqueue(database, engine, settings, tenant.id)
    place(database, job, "stopping")
    assert live.tick() == []  # the stopping worker beats: its job is its own
    stopping.stop()
    assert stopping.retire() is False
    assert live.tick() == [job.workflow_id]
    live.stop()


def test_the_elected_reaper_sweeps_at_its_first_tick_and_every_sweep_every_ticks(database: Database, resumes: Resumes) -> None:
    sweeps: list[int] = []
    one = Reaper(database, Executor("w1", "h", 1, 1), interval=3600, dead_after=DEAD_AFTER, resume=resumes, sweep=lambda: sweeps.append(1))
    for _ in range(SWEEP_EVERY + 1):
        one.tick()
    assert len(sweeps) == 2
    one.stop()


def test_the_reaper_resumes_a_dead_workers_pending_job_once(
    database: Database, engine: JobEngine, settings: Settings, tenant: TenantInfo, resumes: Resumes
) -> None:
    workflow_id = dead_worker_with_a_job(database, engine, settings, tenant, "ghost")
    alive_job = enqueue(database, engine, settings, tenant.id)
    place(database, alive_job, "alive")
    heartbeat(database, "alive", seconds_ago=DEAD_AFTER / 2)
    one = reaper(database, "w1", resumes)
    assert one.tick() == [workflow_id]
    assert one.tick() == []
    assert resumes.done == [workflow_id]
    assert workflow_state(database, workflow_id) == "ENQUEUED"
    assert workflow_state(database, alive_job.workflow_id) == "PENDING"
    assert set(executors(database)) == {"w1", "alive"}
    one.stop()


@pytest.fixture
def pg(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[Database, Settings, TenantInfo]]:
    url, name = new_database_url("postgres", tmp_path, request)
    db = Database(url)
    try:
        yield db, Settings(data_dir=tmp_path / "data", database_url=url), make_tenant(db)
    finally:
        db.dispose()
        assert name is not None
        pg_drop(name)


def lock_holders(db: Database) -> list[int]:
    """The backends holding the reaper's advisory lock in ``db``'s database."""
    with psycopg.connect(db.engine.url.render_as_string(hide_password=False).replace("+psycopg", ""), autocommit=True) as conn:
        key = REAPER_LOCK & 0xFFFFFFFF, (REAPER_LOCK >> 32) & 0xFFFFFFFF
        rows = conn.execute(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = "
            "(SELECT oid FROM pg_database WHERE datname = current_database()) AND objid = %s AND classid = %s",
            (key[0], key[1]),
        ).fetchall()
    return [int(pid) for (pid,) in rows]


def terminate(db: Database, pid: int) -> None:
    """End a backend, as a network cut or a server restart would, and wait until it is gone."""
    with psycopg.connect(db.engine.url.render_as_string(hide_password=False).replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
        deadline = time.monotonic() + 30
        while conn.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone() and time.monotonic() < deadline:
            time.sleep(0.05)


@needs_postgres
def test_on_postgres_one_reaper_is_elected_and_another_takes_over_when_it_stops(pg: tuple[Database, Settings, TenantInfo]) -> None:
    db, settings, tenant = pg
    engine = JobEngine(settings, db)
    resumes = Resumes(engine)
    first, second = reaper(db, "wa", resumes), reaper(db, "wb", resumes)
    try:
        first.tick()
        second.tick()
        assert (first.election.leading, second.election.leading) == (True, False)
        assert len(lock_holders(db)) == 1
        ghost = dead_worker_with_a_job(db, engine, settings, tenant, "ghost")
        for _ in range(2):
            assert second.tick() == []
            first.tick()
        assert resumes.done == [ghost]
        assert workflow_state(db, ghost) == "ENQUEUED"

        first.stop()  # its lock connection closes: the lock is free
        assert lock_holders(db) == []
        later = dead_worker_with_a_job(db, engine, settings, tenant, "ghost2")
        assert second.tick() == [later]
        assert second.election.leading
        assert second.tick() == []
        assert resumes.done == [ghost, later]
        assert set(executors(db)) == {"wa", "wb"}  # a clean stop's row goes with retire(), not stop()
    finally:
        first.stop()
        second.stop()
        engine.stop()


@needs_postgres
def test_on_postgres_a_broken_lock_connection_is_dropped_and_the_lock_tried_for_again(pg: tuple[Database, Settings, TenantInfo]) -> None:
    db, settings, _ = pg
    engine = JobEngine(settings, db)
    resumes = Resumes(engine)
    first, second = reaper(db, "wa", resumes), reaper(db, "wb", resumes)
    try:
        first.tick()
        second.tick()
        [holder] = lock_holders(db)
        terminate(db, holder)
        assert first.tick() == []
        assert not first.election.leading  # its connection broke: dropped, the lock tried for at the next tick
        second.tick()
        assert second.election.leading
        first.tick()
        assert not first.election.leading
        second.stop()
        first.tick()
        assert first.election.leading
        assert lock_holders(db) != [holder]
    finally:
        first.stop()
        second.stop()
        engine.stop()
