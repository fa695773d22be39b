"""Durability with real processes: kill -9 mid-import and start again; a dead worker's job
is picked up by another worker (PostgreSQL, two executors and the reaper)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import func, select, text

from clientdock.db import Database, utcnow
from clientdock.imports import service
from clientdock.imports.bulk import BULK_POLICY
from clientdock.jobs.engine import JobEngine
from clientdock.jobs.models import ImportRow
from clientdock.settings import Settings
from clientdock.tenants.context import load_context
from clientdock.tenants.models import Tenant
from tests.conftest import POSTGRES_URL, make_tenant, new_database_url, pg_drop
from tests.imports.helpers import finished, job_state, records, wait_until
from tests.processes import Service

ROWS = 20_000
CHUNK = 200


def enqueue(db: Database, data_dir: Path, tenant_id: str, rows: int = ROWS) -> str:
    """Start a job from outside the service, as an API process that never runs work would."""
    settings = Settings(data_dir=data_dir, chunk_size=CHUNK)
    engine = JobEngine(settings, db)
    try:
        with db.session() as session:
            ctx = load_context(session, session.get_one(Tenant, tenant_id))
            job = service.start(session, engine, settings, ctx, service.NewJob(door="bulk", policy=BULK_POLICY, records=records(rows)))
            return job.id
    finally:
        engine.stop()


def assert_applied_exactly_once(db: Database, job_id: str, expected: int = ROWS) -> None:
    job = job_state(db, job_id)
    assert (job.status, job.created, job.updated, job.unchanged, job.failed, job.done) == ("succeeded", expected, 0, 0, 0, expected)
    with db.session() as session:
        rows = session.scalar(select(func.count(func.distinct(ImportRow.row_index))).where(ImportRow.job_id == job_id))
        all_rows = session.scalar(select(func.count()).select_from(ImportRow).where(ImportRow.job_id == job_id))
        clients = session.scalar(text("SELECT count(*) FROM clients"))
    assert rows == all_rows == expected
    assert clients == expected


@pytest.fixture
def served(tmp_path: Path) -> Iterator[list[Service]]:
    services: list[Service] = []
    yield services
    for svc in services:
        svc.stop()


def test_kill_9_mid_import_resumes_at_the_running_chunk(tmp_path: Path, served: list[Service]) -> None:
    data_dir = tmp_path / "data"
    svc = Service({"CLIENTDOCK_DATA_DIR": str(data_dir), "CLIENTDOCK_CHUNK_SIZE": str(CHUNK)}, tmp_path / "serve.log")
    served.append(svc)
    svc.start()
    db = Database(f"sqlite:///{data_dir / 'clientdock.db'}")
    tenant = make_tenant(db)
    job_id = enqueue(db, data_dir, tenant.id)
    wait_until(db, job_id, lambda j: j.chunks_done >= 5, timeout=120)
    svc.kill9()
    at_kill = job_state(db, job_id)
    assert at_kill.status == "running"
    assert 5 <= at_kill.chunks_done < ROWS // CHUNK
    svc.start()
    wait_until(db, job_id, finished, timeout=240)
    assert_applied_exactly_once(db, job_id)
    assert "Recovering" in (tmp_path / "serve.log").read_text() or job_state(db, job_id).chunks_done == ROWS // CHUNK
    db.dispose()


@pytest.mark.skipif(POSTGRES_URL is None, reason="needs CLIENTDOCK_TEST_POSTGRES_URL (CI sets it)")
def test_dead_workers_job_is_picked_up_by_another(tmp_path: Path, request: pytest.FixtureRequest, served: list[Service]) -> None:
    url, pg_name = new_database_url("postgres", tmp_path, request)
    try:
        common = {
            "CLIENTDOCK_DATABASE_URL": url, "CLIENTDOCK_DATA_DIR": str(tmp_path / "data"), "CLIENTDOCK_CHUNK_SIZE": str(CHUNK),
            "CLIENTDOCK_HEARTBEAT_SECONDS": "0.5", "CLIENTDOCK_WORKER_DEAD_AFTER": "3",
        }  # fmt: skip
        workers = {name: Service({**common, "CLIENTDOCK_EXECUTOR_ID": name}, tmp_path / f"{name}.log") for name in ("wa", "wb")}
        served.extend(workers.values())
        for worker in workers.values():
            worker.start()
        db = Database(url)
        tenant = make_tenant(db)
        job_id = enqueue(db, tmp_path / "data", tenant.id)
        wait_until(db, job_id, lambda j: j.chunks_done >= 3, timeout=120)
        with db.session() as session:
            owner = session.scalar(
                text("SELECT executor_id FROM dbos.workflow_status WHERE workflow_uuid = :w"), {"w": job_state(db, job_id).workflow_id}
            )
        assert owner in workers
        workers[owner].kill9()
        wait_until(db, job_id, finished, timeout=240)
        assert_applied_exactly_once(db, job_id)
        with db.session() as session:
            final_owner = session.scalar(
                text("SELECT executor_id FROM dbos.workflow_status WHERE workflow_uuid = :w"), {"w": job_state(db, job_id).workflow_id}
            )
        assert final_owner != owner
        db.dispose()
    finally:
        for svc in served:
            svc.stop()
        if pg_name:
            pg_drop(pg_name)


#: Longer than DBOS's own retries of a chunk step last (3 attempts, 1 s and 2 s apart).
OUTAGE_SECONDS = 8
#: Enough chunks that the job is still running when the outage ends, however fast the machine.
OUTAGE_ROWS = 60_000


@pytest.mark.skipif(POSTGRES_URL is None, reason="needs CLIENTDOCK_TEST_POSTGRES_URL (CI sets it)")
def test_a_running_import_waits_out_a_database_outage(tmp_path: Path, request: pytest.FixtureRequest, served: list[Service]) -> None:
    """Every connection to the database is ended and none is taken for a while, as a PostgreSQL
    restart does: the running chunk waits for the database and the import ends as if nothing had
    happened. Before, the step's three attempts were spent in ~3 s and the job failed
    (``python -m bench soak --terminate-connections --outage 10`` found it)."""
    assert POSTGRES_URL
    url, pg_name = new_database_url("postgres", tmp_path, request)
    name = url.rsplit("/", 1)[1]
    try:
        env = {"CLIENTDOCK_DATABASE_URL": url, "CLIENTDOCK_DATA_DIR": str(tmp_path / "data"), "CLIENTDOCK_CHUNK_SIZE": str(CHUNK)}
        svc = Service(env, tmp_path / "serve.log")
        served.append(svc)
        svc.start()
        db = Database(url)
        tenant = make_tenant(db)
        job_id = enqueue(db, tmp_path / "data", tenant.id, rows=OUTAGE_ROWS)
        wait_until(db, job_id, lambda j: j.chunks_done >= 1, timeout=120)
        db.dispose()
        cut_at = utcnow()
        with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
            admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
            try:
                admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
                time.sleep(OUTAGE_SECONDS)  # the outage itself, not a timed assertion
            finally:
                admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')
        job = wait_until(db, job_id, finished, timeout=300)
        assert_applied_exactly_once(db, job_id, OUTAGE_ROWS)
        # The outage fell while the job ran (it ended after the database came back). Whether it hit a
        # chunk's own transaction (``database_unreachable_retrying`` in the log) or DBOS's checkpoint
        # between two chunks (DBOS waits those out itself) depends on the moment; both must end well.
        assert job.finished_at is not None
        assert job.finished_at > cut_at + timedelta(seconds=OUTAGE_SECONDS)
        db.dispose()
    finally:
        for each in served:
            each.stop()
        if pg_name:
            pg_drop(pg_name)
