"""Undo of a finished import: what it deletes and restores, what it leaves, and when it refuses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx2
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from clientdock.clients.models import ClientChange, ExternalRef
from clientdock.db import Database
from clientdock.settings import Settings
from tests.conftest import TenantInfo
from tests.imports.helpers import finished, records, start_job, wait_until


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    """Small chunks, so an import is still running when the test cancels or undoes it."""
    return Settings(data_dir=tmp_path / "data", database_url=db_url, chunk_size=100, allow_private_webhooks=True)


def bulk(client: TestClient, tenant: TenantInfo, users: list[dict[str, Any]]) -> dict[str, Any]:
    response = client.post("/users/bulk/sourceId", json={"users": users}, headers=tenant.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def undo(client: TestClient, tenant: TenantInfo, job_id: str) -> httpx2.Response:
    return client.post(tenant.path(f"/imports/{job_id}/undo"), headers=tenant.headers)


def clients(client: TestClient, tenant: TenantInfo) -> dict[str, dict[str, Any]]:
    items = client.get(tenant.path("/clients"), params={"pageSize": 200}, headers=tenant.headers).json()["items"]
    return {c["id"]: c for c in items}


def test_undo_deletes_created_clients_with_their_refs_and_frees_their_children(
    client: TestClient, database: Database, tenant: TenantInfo
) -> None:
    keeper = bulk(client, tenant, [{"source": "erp", "sourceId": 1, "fullName": "Keeper"}])
    parent = bulk(client, tenant, [{"source": "erp", "sourceId": 2, "fullName": "Parent Ltd"}])
    parent_id = parent["data"][0]["id"]
    child = bulk(client, tenant, [{"source": "erp", "sourceId": 3, "fullName": "Child", "parent": {"source": "erp", "sourceId": 2}}])
    child_id = child["data"][0]["id"]
    assert clients(client, tenant)[child_id]["parentId"] == parent_id

    result = undo(client, tenant, parent["importId"])

    assert result.status_code == 200, result.text
    body = result.json()
    assert (body["deleted"], body["restored"], body["conflicts"]) == ([parent_id], [], [])
    assert body["job"]["undoneAt"]
    left = clients(client, tenant)
    assert set(left) == {keeper["data"][0]["id"], child_id}
    assert left[child_id]["parentId"] is None
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(ExternalRef).where(ExternalRef.client_id == parent_id)) == 0
        trail = session.execute(select(ClientChange.action, ClientChange.job_id).where(ClientChange.client_id == parent_id)).all()
        assert sorted(trail) == [("created", parent["importId"]), ("undone", parent["importId"])]
    # The freed source id can be imported again as a new client.
    again = bulk(client, tenant, [{"source": "erp", "sourceId": 2, "fullName": "Parent Ltd"}])
    assert again["data"][0]["action"] == "created"


def test_a_client_changed_after_the_import_is_not_deleted(client: TestClient, tenant: TenantInfo) -> None:
    created = bulk(
        client, tenant, [{"source": "erp", "sourceId": 1, "fullName": "Edited"}, {"source": "erp", "sourceId": 2, "fullName": "Untouched"}]
    )
    edited_id, untouched_id = (item["id"] for item in created["data"])
    client.patch(tenant.path(f"/clients/{edited_id}"), json={"note": "called them"}, headers=tenant.headers)

    body = undo(client, tenant, created["importId"]).json()

    assert body["deleted"] == [untouched_id]
    assert body["conflicts"] == [
        {"clientId": edited_id, "field": "*", "reason": "edited after this import; not deleted", "laterJobIds": []}
    ]
    assert body["counts"] == {"deleted": 1, "restored": 0, "leftAlone": 1}
    assert set(clients(client, tenant)) == {edited_id}


def test_undo_restores_only_what_the_import_changed(client: TestClient, tenant: TenantInfo) -> None:
    first = bulk(client, tenant, [{"source": "erp", "sourceId": 1, "fullName": "Ann", "note": "n1", "title": "Ms", "company": "Old"}])
    client_id = first["data"][0]["id"]
    client.patch(tenant.path(f"/clients/{client_id}"), json={"title": "Dr"}, headers=tenant.headers)  # before the import: kept
    second = bulk(client, tenant, [{"source": "erp", "sourceId": 1, "note": "n2", "company": "New"}])

    body = undo(client, tenant, second["importId"]).json()

    assert body["restored"] == [{"clientId": client_id, "fields": ["company", "note"]}]
    assert body["conflicts"] == []
    stored = clients(client, tenant)[client_id]
    assert (stored["note"], stored["company"], stored["title"], stored["name"]) == ("n1", "Old", "Dr", "Ann")


def test_a_cancelled_import_can_be_undone(client: TestClient, app: FastAPI, database: Database, tenant: TenantInfo) -> None:
    job_id = start_job(app, tenant.id, records(20000))
    wait_until(database, job_id, lambda job: job.chunks_done >= 1)
    client.post(tenant.path(f"/imports/{job_id}/cancel"), headers=tenant.headers)
    job = wait_until(database, job_id, finished)
    assert job.status == "cancelled"
    assert 0 < job.created < 20000

    body = undo(client, tenant, job_id).json()

    assert len(body["deleted"]) == job.created
    assert client.get(tenant.path("/clients"), headers=tenant.headers).json()["total"] == 0


def test_undo_is_refused_while_running_for_a_dry_run_twice_and_across_tenants(
    client: TestClient, app: FastAPI, database: Database, tenant: TenantInfo, other_tenant: TenantInfo
) -> None:
    running = start_job(app, tenant.id, records(20000))
    refused = undo(client, tenant, running)
    assert refused.status_code == 409
    assert "only a finished import can be undone" in refused.json()["detail"]
    wait_until(database, running, finished)

    dry = client.post(
        tenant.path("/clients/import/csv"),
        files={"file": ("c.csv", b"firstName,email\nAda,ada@firm.co.uk\n", "text/csv")},
        data={"dryRun": "true"},
        headers=tenant.headers,
    ).json()
    assert undo(client, tenant, dry["id"]).status_code == 409

    assert undo(client, other_tenant, running).status_code == 404  # another tenant's import does not exist for them
    assert undo(client, tenant, running).status_code == 200
    second = undo(client, tenant, running)
    assert second.status_code == 409
    assert "already undone" in second.json()["detail"]
    assert undo(client, tenant, "nosuchjob").status_code == 404


def test_imports_can_be_undone_newest_first(client: TestClient, tenant: TenantInfo) -> None:
    first = bulk(client, tenant, [{"source": "erp", "sourceId": 1, "fullName": "Ann", "note": "v1"}])
    client_id = first["data"][0]["id"]
    second = bulk(client, tenant, [{"source": "erp", "sourceId": 1, "note": "v2"}])

    assert undo(client, tenant, second["importId"]).json()["restored"] == [{"clientId": client_id, "fields": ["note"]}]
    body = undo(client, tenant, first["importId"]).json()

    assert (body["deleted"], body["conflicts"]) == ([client_id], [])
    assert clients(client, tenant) == {}
    history = client.get(tenant.path(f"/clients/{client_id}/history"), headers=tenant.headers)
    assert history.status_code == 404  # the client is gone


def test_undo_is_audited_under_the_undone_import(client: TestClient, tenant: TenantInfo) -> None:
    first = bulk(client, tenant, [{"source": "erp", "sourceId": 1, "fullName": "Ann", "note": "v1"}])
    client_id = first["data"][0]["id"]
    second = bulk(client, tenant, [{"source": "erp", "sourceId": 1, "note": "v2"}])
    undo(client, tenant, second["importId"])
    history = client.get(tenant.path(f"/clients/{client_id}/history"), headers=tenant.headers).json()["items"]
    latest = history[0]
    assert (latest["action"], latest["field"], latest["before"], latest["after"], latest["jobId"]) == (
        "undone", "note", "v2", "v1", second["importId"]
    )  # fmt: skip
    assert latest["actor"] == history[-1]["actor"]  # the key that undid it, as the one that imported
    assert latest["actor"].startswith("tenant:")
