"""In-app notifications: what job_finished records, listing, paging, unread, marking read."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from clientdock.db import Database, utcnow
from clientdock.notify import service
from clientdock.notify.models import Notification
from tests.conftest import TenantInfo, make_tenant
from tests.notify.helpers import finish_job


def _seed(database: Database, tenant_id: str, count: int) -> list[str]:
    """``count`` notifications one minute apart, oldest first; returns their ids."""
    start = utcnow() - timedelta(hours=1)
    with database.session() as session:
        rows = [
            Notification(tenant_id=tenant_id, kind="note", title=f"n{i}", body="", data={}, created_at=start + timedelta(minutes=i))
            for i in range(count)
        ]
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]


def test_job_finished_records_a_notification(client: TestClient, database: Database, tenant: TenantInfo) -> None:
    finish_job(database, tenant.id, job_id="j42", created=3, updated=1, failed=2, unchanged=4)

    body = client.get(tenant.path("/notifications"), headers=tenant.headers).json()

    assert body["total"] == 1
    assert body["unreadCount"] == 1
    item = body["items"][0]
    assert item["kind"] == "import.completed"
    assert item["title"] == "Import finished: 3 created, 1 updated, 2 failed"
    assert "4 unchanged" in item["body"]
    assert item["read"] is False
    assert item["readAt"] is None
    assert item["data"]["jobId"] == "j42"
    assert item["data"]["counts"] == {"created": 3, "updated": 1, "unchanged": 4, "skipped": 0, "failed": 2}
    assert item["data"]["links"] == {"job": "/tenants/acme/imports/j42", "errors": "/tenants/acme/imports/j42/errors.csv"}


def test_failed_job_says_so(client: TestClient, database: Database, tenant: TenantInfo) -> None:
    payload = {"jobId": "j1", "door": "csv", "status": "failed", "counts": {"failed": 7}, "links": {}, "error": "bad file"}
    with database.session() as session:
        service.job_finished(session, tenant.id, "import.failed", payload)

    item = client.get(tenant.path("/notifications"), headers=tenant.headers).json()["items"][0]

    assert item["kind"] == "import.failed"
    assert item["title"] == "Import failed: 0 created, 0 updated, 7 failed"
    assert "bad file" in item["body"]


def test_job_finished_refuses_an_unknown_event(database: Database, tenant: TenantInfo) -> None:
    with database.session() as session, pytest.raises(ValueError, match="unknown event"):
        service.job_finished(session, tenant.id, "import.exploded", {})


def test_list_is_newest_first_and_paged(client: TestClient, database: Database, tenant: TenantInfo) -> None:
    ids = _seed(database, tenant.id, 5)

    pages = [
        client.get(tenant.path("/notifications"), params={"page": page, "pageSize": 2}, headers=tenant.headers).json() for page in (1, 2, 3)
    ]

    assert [item["id"] for page in pages for item in page["items"]] == list(reversed(ids))
    assert [len(page["items"]) for page in pages] == [2, 2, 1]
    assert {(page["total"], page["pageSize"], page["unreadCount"]) for page in pages} == {(5, 2, 5)}


def test_unread_filter_and_marking_read(client: TestClient, database: Database, tenant: TenantInfo) -> None:
    ids = _seed(database, tenant.id, 4)

    first = client.post(tenant.path(f"/notifications/{ids[0]}/read"), headers=tenant.headers)
    again = client.post(tenant.path(f"/notifications/{ids[0]}/read"), headers=tenant.headers)
    client.post(tenant.path(f"/notifications/{ids[2]}/read"), headers=tenant.headers)
    unread = client.get(tenant.path("/notifications"), params={"unread": "true"}, headers=tenant.headers).json()
    everything = client.get(tenant.path("/notifications"), headers=tenant.headers).json()

    assert first.status_code == 200
    assert first.json()["read"] is True
    assert again.json()["readAt"] == first.json()["readAt"]  # marking twice keeps the first time
    assert [item["id"] for item in unread["items"]] == [ids[3], ids[1]]
    assert (unread["total"], unread["unreadCount"]) == (2, 2)
    assert (everything["total"], everything["unreadCount"]) == (4, 2)


def test_read_all(client: TestClient, database: Database, tenant: TenantInfo, other_tenant: TenantInfo) -> None:
    _seed(database, tenant.id, 3)
    _seed(database, other_tenant.id, 2)

    first = client.post(tenant.path("/notifications/read-all"), headers=tenant.headers)
    second = client.post(tenant.path("/notifications/read-all"), headers=tenant.headers)
    mine = client.get(tenant.path("/notifications"), headers=tenant.headers).json()
    theirs = client.get(other_tenant.path("/notifications"), headers=other_tenant.headers).json()

    assert first.status_code == 200
    assert first.json() == {"updated": 3, "unreadCount": 0}
    assert second.json() == {"updated": 0, "unreadCount": 0}
    assert all(item["read"] for item in mine["items"])
    assert theirs["unreadCount"] == 2


def test_unknown_notification_is_404(client: TestClient, tenant: TenantInfo) -> None:
    response = client.post(tenant.path("/notifications/nope/read"), headers=tenant.headers)

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_tenants_cannot_see_or_mark_each_others(
    client: TestClient, database: Database, tenant: TenantInfo, other_tenant: TenantInfo
) -> None:
    (theirs,) = _seed(database, tenant.id, 1)

    on_their_path = client.get(tenant.path("/notifications"), headers=other_tenant.headers)
    mark_on_their_path = client.post(tenant.path(f"/notifications/{theirs}/read"), headers=other_tenant.headers)
    mark_on_own_path = client.post(other_tenant.path(f"/notifications/{theirs}/read"), headers=other_tenant.headers)
    read_all_on_own_path = client.post(other_tenant.path("/notifications/read-all"), headers=other_tenant.headers)
    own_list = client.get(other_tenant.path("/notifications"), headers=other_tenant.headers).json()

    assert on_their_path.status_code == 403
    assert mark_on_their_path.status_code == 403
    assert mark_on_own_path.status_code == 404
    assert read_all_on_own_path.json()["updated"] == 0
    assert own_list["total"] == 0
    assert client.get(tenant.path("/notifications"), headers=tenant.headers).json()["unreadCount"] == 1


def test_scopes(client: TestClient, database: Database) -> None:
    reader = make_tenant(database, scopes=["clients:read"])
    (note,) = _seed(database, reader.id, 1)

    listed = client.get(reader.path("/notifications"), headers=reader.headers)
    marked = client.post(reader.path(f"/notifications/{note}/read"), headers=reader.headers)
    anonymous = client.get(reader.path("/notifications"))

    assert listed.status_code == 200
    assert marked.status_code == 403
    assert anonymous.status_code == 401
