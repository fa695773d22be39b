"""``GET /admin/workers`` and ``GET /admin/queues``: the platform credential sees every worker
with what it runs, and every tenant's queue in order; a tenant key is refused (403), no key 401.

No worker runs here: the workers are heartbeat rows, a running job is a workflow marked PENDING
on one of them, as DBOS marks what a worker has taken (``tests.jobs.helpers``).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from clientdock.app import create_app
from clientdock.db import Database
from clientdock.jobs.engine import JobEngine
from clientdock.settings import Settings
from tests.apps.helpers import Key, platform_key
from tests.conftest import TenantInfo
from tests.jobs.helpers import enqueue, heartbeat, place


@pytest.fixture
def app(settings: Settings, database: Database) -> FastAPI:
    return create_app(settings.model_copy(update={"start_workers": False}), database)


@pytest.fixture
def api(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def platform(database: Database) -> Key:
    return platform_key(database)


def engine_of(app: FastAPI) -> JobEngine:
    engine: JobEngine = app.state.engine
    return engine


@pytest.mark.parametrize("path", ["/admin/workers", "/admin/queues"])
def test_only_the_platform_credential_may_look(api: TestClient, tenant: TenantInfo, path: str) -> None:
    assert api.get(path).status_code == 401
    refused = api.get(path, headers=tenant.headers)
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert api.get(path, headers={"X-API-Key": "cdk_not_a_key"}).status_code == 401


def test_workers_with_their_liveness_and_running_jobs(
    app: FastAPI, api: TestClient, database: Database, settings: Settings, tenant: TenantInfo, platform: Key
) -> None:
    heartbeat(database, "wa", concurrency=2)
    heartbeat(database, "wb", seconds_ago=settings.worker_dead_after + 60)
    running = enqueue(database, engine_of(app), settings, tenant.id)
    place(database, running, "wa")
    enqueue(database, engine_of(app), settings, tenant.id)  # queued: on no worker

    body = api.get("/admin/workers", headers=platform.headers).json()

    assert (body["total"], body["deadAfterSeconds"]) == (2, settings.worker_dead_after)
    wa, wb = body["items"]
    assert (wa["executorId"], wa["hostname"], wa["pid"], wa["concurrency"], wa["alive"]) == ("wa", "host-wa", 4242, 2, True)
    assert wa["runningJobs"] == [{"id": running.id, "tenant": tenant.code, "door": "bulk", "status": "running", "done": 0, "total": 3}]
    assert (wb["executorId"], wb["alive"], wb["runningJobs"]) == ("wb", False, [])
    assert wb["heartbeatAt"] < wa["heartbeatAt"]
    assert set(wa) == {"executorId", "hostname", "pid", "startedAt", "heartbeatAt", "alive", "concurrency", "runningJobs"}


def test_no_workers_yet(api: TestClient, platform: Key) -> None:
    assert api.get("/admin/workers", headers=platform.headers).json()["items"] == []


def test_a_worker_before_the_job_tables_exist(app: FastAPI, database: Database, platform: Key) -> None:
    """A new database on which the job engine has made no table yet (no lifespan here): a worker, no jobs."""
    heartbeat(database, "wa")
    api = TestClient(app, raise_server_exceptions=False)
    try:
        workers = api.get("/admin/workers", headers=platform.headers)
        assert workers.status_code == 200
        assert [(w["executorId"], w["runningJobs"]) for w in workers.json()["items"]] == [("wa", [])]
        assert api.get("/admin/queues", headers=platform.headers).json() == {"items": [], "total": 0, "counts": {"running": 0, "queued": 0}}
    finally:
        api.close()


def test_queues_per_tenant_running_then_queued_in_order(
    app: FastAPI, api: TestClient, database: Database, settings: Settings, tenant: TenantInfo, other_tenant: TenantInfo, platform: Key
) -> None:
    engine = engine_of(app)
    running = enqueue(database, engine, settings, tenant.id)
    place(database, running, "wa")
    queued = [enqueue(database, engine, settings, tenant.id) for _ in range(2)]
    theirs = enqueue(database, engine, settings, other_tenant.id)
    ended = enqueue(database, engine, settings, other_tenant.id)
    assert api.post(other_tenant.path(f"/imports/{ended.id}/cancel"), headers=other_tenant.headers).status_code == 200

    body = api.get("/admin/queues", headers=platform.headers).json()

    assert (body["total"], body["counts"]) == (2, {"running": 1, "queued": 3})
    ours, others = body["items"]
    assert (ours["tenant"], ours["counts"]) == (tenant.code, {"running": 1, "queued": 2})
    assert [(j["id"], j["status"], j["executorId"], j["queuePosition"]) for j in ours["running"]] == [(running.id, "running", "wa", None)]
    assert [(j["id"], j["queuePosition"], j["executorId"]) for j in ours["queued"]] == [(queued[0].id, 1, None), (queued[1].id, 2, None)]
    assert (others["tenant"], others["running"], [(j["id"], j["queuePosition"]) for j in others["queued"]]) == (
        other_tenant.code, [], [(theirs.id, 1)],
    )  # fmt: skip
    assert set(ours["queued"][0]) == {"id", "door", "status", "done", "total", "createdAt", "startedAt", "queuePosition", "executorId"}
