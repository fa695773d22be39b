"""A worker's concurrency is its own: DBOS keeps one value per queue in its database (the last
worker to register it wins), and ``engine.keep_own_worker_concurrency`` makes this process keep
its own. If a DBOS upgrade stops reloading the queue through the hook, this fails."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from dbos._dbos import _get_dbos_instance
from sqlalchemy import func, select, text

from clientdock.db import Database
from clientdock.jobs.engine import IMPORT_QUEUE, JobEngine
from clientdock.jobs.models import workflow_status
from clientdock.settings import Settings
from tests.conftest import make_tenant
from tests.jobs.helpers import enqueue


@pytest.fixture
def engine(settings: Settings, database: Database) -> Iterator[JobEngine]:
    engine = JobEngine(settings.model_copy(update={"worker_concurrency": 2, "tenant_concurrency": 1}), database)
    engine.start()
    yield engine
    engine.stop()


def another_worker_registers(database: Database, concurrency: int) -> None:
    """What a later worker started with ``--concurrency concurrency`` writes into DBOS's table."""
    schema = "dbos." if database.engine.dialect.name == "postgresql" else ""
    with database.session() as session:
        session.execute(text(f"UPDATE {schema}queues SET worker_concurrency = :n WHERE name = :q"), {"n": concurrency, "q": IMPORT_QUEUE})


def running(database: Database) -> int:
    with database.read_session() as session:
        status = workflow_status(session.get_bind().dialect.name)
        return session.scalar(select(func.count()).select_from(status).where(status.c.status == "PENDING")) or 0


def test_a_worker_keeps_its_own_concurrency_whatever_another_worker_registered(
    engine: JobEngine, database: Database, settings: Settings
) -> None:
    another_worker_registers(database, 1)
    reloaded = _get_dbos_instance()._sys_db.get_queue(IMPORT_QUEUE)
    assert reloaded is not None
    assert reloaded._worker_concurrency == 2
    jobs = [enqueue(database, engine, engine.settings, make_tenant(database).id, rows=8000) for _ in range(3)]
    most = 0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and most < 2:
        most = max(most, running(database))
        time.sleep(0.02)
    assert most == 2  # two at once: its own 2, not the 1 in the database
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and running(database):
        assert running(database) <= 2
        time.sleep(0.05)
    assert running(database) == 0, [job.id for job in jobs]
