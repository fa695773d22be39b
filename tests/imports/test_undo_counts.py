"""Undo tells its exact counts before it runs (``GET .../undo``), and does what it told:
an older import undone after a newer one, a confirmation whose counts moved, bad expectations."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import TenantInfo
from tests.contract import assert_documented

FIRST = "First name,Last name,Email,Phone\nAda,One,ada@firm.co.uk,\nBen,Two,ben@firm.co.uk,\nCy,Three,cy@firm.co.uk,\n"
SECOND = "First name,Last name,Email,Phone\nAda,One,ada@firm.co.uk,020 7946 0001\nDee,Four,dee@firm.co.uk,\n"


def file_import(client: TestClient, tenant: TenantInfo, content: str) -> dict[str, Any]:
    response = client.post(
        tenant.path("/clients/import/csv"), files={"file": ("clients.csv", content.encode(), "text/csv")}, headers=tenant.headers
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def emails(client: TestClient, tenant: TenantInfo) -> set[str]:
    items = client.get(tenant.path("/clients"), params={"pageSize": 200}, headers=tenant.headers).json()["items"]
    return {c["email"] for c in items}


def preview(client: TestClient, tenant: TenantInfo, job_id: str) -> dict[str, Any]:
    response = client.get(tenant.path(f"/imports/{job_id}/undo"), headers=tenant.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_undoing_an_older_import_after_a_newer_one_tells_who_stays(client: TestClient, tenant: TenantInfo) -> None:
    first = file_import(client, tenant, FIRST)
    second = file_import(client, tenant, SECOND)

    told = preview(client, tenant, first["id"])
    assert told["counts"] == {"deleted": 2, "restored": 0, "leftAlone": 1}
    (kept,) = told["conflicts"]
    assert (kept["field"], kept["reason"], kept["laterJobIds"]) == ("*", "changed by a later import; not deleted", [second["id"]])
    # The preview changed nothing.
    assert emails(client, tenant) == {"ada@firm.co.uk", "ben@firm.co.uk", "cy@firm.co.uk", "dee@firm.co.uk"}
    assert preview(client, tenant, first["id"])["counts"] == told["counts"]

    counts = told["counts"]
    params = {"expectDeleted": counts["deleted"], "expectRestored": counts["restored"], "expectLeftAlone": counts["leftAlone"]}
    done = client.post(tenant.path(f"/imports/{first['id']}/undo"), params=params, headers=tenant.headers)
    assert done.status_code == 200, done.text
    assert done.json()["counts"] == told["counts"]
    assert sorted(done.json()["deleted"]) == sorted(told["deleted"])
    assert emails(client, tenant) == {"ada@firm.co.uk", "dee@firm.co.uk"}


def test_the_newer_import_restores_and_deletes_what_it_said(client: TestClient, tenant: TenantInfo) -> None:
    file_import(client, tenant, FIRST)
    second = file_import(client, tenant, SECOND)
    told = preview(client, tenant, second["id"])
    assert told["counts"] == {"deleted": 1, "restored": 1, "leftAlone": 0}
    assert [r["fields"] for r in told["restored"]] == [["phone"]]
    done = client.post(tenant.path(f"/imports/{second['id']}/undo"), headers=tenant.headers).json()
    assert done["counts"] == told["counts"]
    assert emails(client, tenant) == {"ada@firm.co.uk", "ben@firm.co.uk", "cy@firm.co.uk"}


def test_an_undo_whose_counts_moved_since_the_preview_is_refused_and_changes_nothing(client: TestClient, tenant: TenantInfo) -> None:
    first = file_import(client, tenant, FIRST)
    told = preview(client, tenant, first["id"])
    assert told["counts"] == {"deleted": 3, "restored": 0, "leftAlone": 0}
    file_import(client, tenant, SECOND)  # Ada changes in between

    params = {"expectDeleted": 3, "expectRestored": 0, "expectLeftAlone": 0}
    refused = client.post(tenant.path(f"/imports/{first['id']}/undo"), params=params, headers=tenant.headers)
    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "would now delete 2, restore 0 and leave alone 1 clients; nothing was undone" in refused.json()["detail"]
    assert len(emails(client, tenant)) == 4
    job = client.get(tenant.path(f"/imports/{first['id']}"), headers=tenant.headers).json()
    assert job["undoneAt"] is None


def test_expectations_go_together(client: TestClient, tenant: TenantInfo) -> None:
    first = file_import(client, tenant, FIRST)
    partial = client.post(tenant.path(f"/imports/{first['id']}/undo"), params={"expectDeleted": 3}, headers=tenant.headers)
    assert partial.status_code == 400
    assert "expectDeleted, expectRestored and expectLeftAlone go together" in partial.json()["detail"]
    negative = client.post(
        tenant.path(f"/imports/{first['id']}/undo"),
        params={"expectDeleted": -1, "expectRestored": 0, "expectLeftAlone": 0},
        headers=tenant.headers,
    )
    assert negative.status_code == 400
    assert len(emails(client, tenant)) == 3


def test_a_preview_is_refused_where_undo_is(client: TestClient, tenant: TenantInfo, other_tenant: TenantInfo) -> None:
    first = file_import(client, tenant, FIRST)
    assert client.get(tenant.path("/imports/nosuchjob/undo"), headers=tenant.headers).status_code == 404
    assert client.get(other_tenant.path(f"/imports/{first['id']}/undo"), headers=other_tenant.headers).status_code == 404
    assert client.post(tenant.path(f"/imports/{first['id']}/undo"), headers=tenant.headers).status_code == 200
    again = client.get(tenant.path(f"/imports/{first['id']}/undo"), headers=tenant.headers)
    assert again.status_code == 409
    assert "already undone" in again.json()["detail"]
    assert_documented(client, again, "GET", "/tenants/{tenant}/imports/{job_id}/undo")  # the 409 was not in the description
