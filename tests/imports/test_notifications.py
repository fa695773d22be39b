"""Every door's import tells the business how it ended: an in-app notification and the
subscribed webhooks, exactly once; dry runs and doors that opted out stay quiet."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from clientdock.db import Database
from clientdock.imports import service
from clientdock.imports.bulk import BULK_POLICY
from clientdock.jobs.models import ImportJob
from clientdock.notify.webhooks import verify
from clientdock.settings import Settings
from clientdock.tenants.context import load_context
from clientdock.tenants.models import Tenant
from tests.conftest import TenantInfo
from tests.imports.helpers import finished, records, start_job, wait_until
from tests.notify.helpers import Receiver, register

CSV = b"firstName,lastName,email\nAda,Lovelace,ada@firm.co.uk\nAlan,Turing,not-an-email\n"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


def notifications(client: TestClient, tenant: TenantInfo) -> list[dict[str, Any]]:
    body = client.get(tenant.path("/notifications"), headers=tenant.headers).json()
    items: list[dict[str, Any]] = body["items"]
    return items


def received(receiver: Receiver, count: int, timeout: float = 15) -> list[dict[str, Any]]:
    """The webhook bodies the receiver got, once it has ``count`` of them (the delivery worker
    runs in the background)."""
    deadline = time.monotonic() + timeout
    while len(receiver.requests) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return [json.loads(request.body) for request in receiver.requests]


def test_a_csv_upload_notifies_in_app_and_by_webhook(client: TestClient, tenant: TenantInfo, receiver: Receiver) -> None:
    hook = register(client, tenant, receiver.url)
    upload = client.post(tenant.path("/clients/import/csv"), files={"file": ("clients.csv", CSV, "text/csv")}, headers=tenant.headers)
    assert upload.status_code == 201, upload.text
    job_id = upload.json()["id"]

    (note,) = notifications(client, tenant)
    assert note["kind"] == "import.completed"
    assert note["title"] == "Import finished: 1 created, 0 updated, 1 failed"
    assert note["data"]["jobId"] == job_id
    assert note["data"]["door"] == "csv"
    assert note["data"]["links"] == {
        "job": f"/tenants/acme/imports/{job_id}",
        "errors": f"/tenants/acme/imports/{job_id}/errors.csv",
    }
    (delivery,) = received(receiver, 1)
    assert delivery["event"] == "import.completed"
    assert delivery["data"]["jobId"] == job_id
    assert delivery["data"]["counts"] == {"created": 1, "updated": 0, "unchanged": 0, "skipped": 0, "failed": 1}
    request = receiver.requests[0]
    assert verify(hook["secret"], request.headers, request.body, now=time.time())


def test_a_dry_run_stays_quiet(client: TestClient, tenant: TenantInfo) -> None:
    upload = client.post(
        tenant.path("/clients/import/csv"),
        files={"file": ("clients.csv", CSV, "text/csv")},
        data={"dryRun": "true"},
        headers=tenant.headers,
    )
    assert upload.status_code == 201, upload.text
    assert upload.json()["dryRun"] is True
    assert notifications(client, tenant) == []


def test_a_bulk_call_notifies_as_the_import_it_is_recorded_as(client: TestClient, tenant: TenantInfo) -> None:
    response = client.post(
        "/users/bulk/sourceId", json={"users": [{"source": "erp", "sourceId": 1, "firstName": "A"}]}, headers=tenant.headers
    )
    assert response.status_code == 200, response.text
    (note,) = notifications(client, tenant)
    assert note["data"]["door"] == "bulk"
    assert note["title"] == "Import finished: 1 created, 0 updated, 0 failed"


def test_a_cancelled_queued_job_notifies_once(app: FastAPI, client: TestClient, database: Database, tenant: TenantInfo) -> None:
    running = start_job(app, tenant.id, records(6000, prefix="long"))
    queued = start_job(app, tenant.id, records(3, prefix="next"))
    assert client.post(tenant.path(f"/imports/{queued}/cancel"), headers=tenant.headers).status_code == 200
    client.post(tenant.path(f"/imports/{running}/cancel"), headers=tenant.headers)
    wait_until(database, running, finished)
    wait_until(database, queued, finished)

    by_job = [(n["kind"], n["data"]["jobId"], n["data"]["status"]) for n in notifications(client, tenant)]
    assert by_job.count(("import.completed", queued, "cancelled")) == 1
    assert [job for _, job, _ in by_job].count(running) == 1
    assert any(n["title"].startswith("Import cancelled") for n in notifications(client, tenant))


def test_a_job_that_fails_notifies_import_failed_with_the_error(
    app: FastAPI, client: TestClient, database: Database, settings: Settings, tenant: TenantInfo, receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    def unreadable(db: Database, settings: Settings, job: ImportJob) -> Any:
        raise OSError("the upload is gone")

    monkeypatch.setitem(app.state.engine.stagers, "lost", unreadable)
    register(client, tenant, receiver.url, events=["import.failed"])
    with database.session() as session:
        ctx = load_context(session, session.get_one(Tenant, tenant.id))
        job_id = service.start(session, app.state.engine, settings, ctx, service.NewJob(door="lost", policy=BULK_POLICY)).id

    job = wait_until(database, job_id, finished)

    assert job.status == "failed"
    assert client.get(tenant.path(f"/imports/{job_id}"), headers=tenant.headers).json()["status"] == "failed"
    (note,) = notifications(client, tenant)
    assert note["kind"] == "import.failed"
    assert note["title"].startswith("Import failed")
    assert note["body"].endswith("Error: OSError: the upload is gone")
    (delivery,) = received(receiver, 1)
    assert (delivery["event"], delivery["data"]["jobId"], delivery["data"]["status"]) == ("import.failed", job_id, "failed")
    assert delivery["data"]["error"] == "OSError: the upload is gone"
