"""The job runner on DBOS: runs, progress, per-tenant queueing, cancel, concurrency."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from clientdock.db import Database
from clientdock.imports.respond import wanted_wait
from clientdock.jobs import staging
from clientdock.settings import Settings
from tests.conftest import TenantInfo
from tests.imports.helpers import finished, job_state, records, start_job, wait_until


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=db_url, chunk_size=50, allow_private_webhooks=True)


def gone(path: Path, timeout: float = 10) -> bool:
    """True once ``path`` no longer exists (the runner removes a job's folder just after the
    transaction that ends the job)."""
    deadline = time.monotonic() + timeout
    while path.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    return not path.exists()


def test_job_runs_in_chunks_with_progress(
    client: TestClient, app: FastAPI, database: Database, settings: Settings, tenant: TenantInfo
) -> None:
    job_id = start_job(app, tenant.id, records(230))
    job = wait_until(database, job_id, finished)
    assert (job.status, job.total, job.done, job.chunks_done, job.created) == ("succeeded", 230, 230, 5, 230)
    body = client.get(tenant.path(f"/imports/{job_id}"), headers=tenant.headers).json()
    assert body["progress"] == {"done": 230, "total": 230, "percent": 100.0}
    assert body["startedAt"]
    assert body["finishedAt"]
    rows = client.get(tenant.path(f"/imports/{job_id}/rows"), params={"pageSize": 1000}, headers=tenant.headers).json()
    assert rows["total"] == 230
    assert sorted(r["index"] for r in rows["items"]) == list(range(230))
    assert gone(staging.job_dir(settings.data_dir, job_id))  # the staged copy of the input is not kept


def test_duplicates_across_chunks_fail_the_later_row(client: TestClient, app: FastAPI, database: Database, tenant: TenantInfo) -> None:
    items = records(120)
    items[110].fields["email"] = "R3@FIRM.co"
    job = wait_until(database, start_job(app, tenant.id, items), finished)
    assert (job.created, job.failed) == (119, 1)


def test_cancel_mid_run(client: TestClient, app: FastAPI, database: Database, tenant: TenantInfo) -> None:
    job_id = start_job(app, tenant.id, records(20000))  # long enough to be mid-run however fast the machine
    wait_until(database, job_id, lambda j: j.chunks_done >= 1)
    response = client.post(tenant.path(f"/imports/{job_id}/cancel"), headers=tenant.headers)
    assert response.status_code == 200
    job = wait_until(database, job_id, finished)
    assert job.status == "cancelled"
    assert 0 < job.done < 20000
    total = client.get(tenant.path("/clients"), headers=tenant.headers).json()["total"]
    assert total == job.created == job.done
    assert client.post(tenant.path(f"/imports/{job_id}/cancel"), headers=tenant.headers).status_code == 409


def test_cancelling_a_queued_job_ends_it_at_once_and_drops_its_input(
    client: TestClient, app: FastAPI, database: Database, settings: Settings, tenant: TenantInfo
) -> None:
    running = start_job(app, tenant.id, records(6000, prefix="first"))
    queued = start_job(app, tenant.id, records(10, prefix="second"))
    blobs = app.state.engine.blobs  # the local folder on SQLite, the database on PostgreSQL
    assert blobs.get_bytes(staging.records_key(queued))
    body = client.post(tenant.path(f"/imports/{queued}/cancel"), headers=tenant.headers).json()
    assert body["status"] == "cancelled"
    assert blobs.get_bytes(staging.records_key(queued)) is None
    assert not staging.job_dir(settings.data_dir, queued).exists()
    client.post(tenant.path(f"/imports/{running}/cancel"), headers=tenant.headers)
    wait_until(database, running, finished)
    assert job_state(database, queued).done == 0
    assert client.get(tenant.path("/clients"), params={"search": "second"}, headers=tenant.headers).json()["total"] == 0


def test_two_jobs_of_one_tenant_on_the_same_clients(client: TestClient, app: FastAPI, database: Database, tenant: TenantInfo) -> None:
    first = start_job(app, tenant.id, records(1500, note="first"))
    second = start_job(app, tenant.id, records(1500, note="second"))
    seen_queued = client.get(tenant.path(f"/imports/{second}"), headers=tenant.headers).json()
    assert seen_queued["status"] == "queued"
    # 1 once the first has started (a running job is not in the queue), 2 while it waits too
    assert seen_queued["queuePosition"] in (1, 2)
    one = wait_until(database, first, finished)
    two = wait_until(database, second, finished)
    assert (one.status, two.status) == ("succeeded", "succeeded")
    assert one.created + two.created == 1500
    assert two.updated + one.updated + two.created + one.created == 3000
    listing = client.get(tenant.path("/clients"), params={"pageSize": 1}, headers=tenant.headers).json()
    assert listing["total"] == 1500
    notes = {c["note"] for c in client.get(tenant.path("/clients"), params={"pageSize": 500}, headers=tenant.headers).json()["items"]}
    assert notes == {"second"}
    assert one.finished_at is not None
    assert two.started_at is not None
    assert two.started_at >= one.finished_at


def test_other_tenant_cannot_see_jobs(
    client: TestClient, app: FastAPI, database: Database, tenant: TenantInfo, other_tenant: TenantInfo
) -> None:
    job_id = start_job(app, tenant.id, records(3))
    wait_until(database, job_id, finished)
    assert client.get(other_tenant.path(f"/imports/{job_id}"), headers=other_tenant.headers).status_code == 404
    assert client.post(other_tenant.path(f"/imports/{job_id}/undo"), headers=other_tenant.headers).status_code == 404
    assert client.get(other_tenant.path("/imports"), headers=other_tenant.headers).json()["total"] == 0
    assert client.get(tenant.path("/imports/nope"), headers=tenant.headers).status_code == 404


@pytest.mark.parametrize(
    ("prefer", "expected"),
    [
        (None, (10.0, None)),
        ("respond-async", (0.0, "respond-async")),
        ("wait=3", (3.0, "wait=3")),
        ("handling=lenient, wait=5", (5.0, "wait=5")),
        ("wait=999", (60.0, "wait=999")),
    ],
)
def test_prefer_header(prefer: str | None, expected: tuple[float, str | None]) -> None:
    assert wanted_wait(prefer, 10.0) == expected
