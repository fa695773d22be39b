"""Clients CRUD, list filters and paging, groups, tenant settings, history."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from clientdock.clients.models import ClientChange
from clientdock.db import Database
from clientdock.tenants import service as tenants
from tests.conftest import TenantInfo
from tests.contract import assert_documented


def create(client: TestClient, tenant: TenantInfo, **fields: object) -> dict[str, object]:
    response = client.post(tenant.path("/clients"), json=fields, headers=tenant.headers)
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


def test_create_get_patch_delete(client: TestClient, tenant: TenantInfo) -> None:
    made = create(
        client, tenant, firstName="Grace", lastName="Hopper", email="grace@navy.mil", tags=["vip"],
        externalRefs=[{"source": "crm", "externalId": "42"}],
        attributes=[{"class": "crm", "name": "score", "type": "number", "value": "7"}],
        addresses=[{"type": "home", "line1": "1 Main St", "city": "Arlington", "country": "US"}],
    )  # fmt: skip
    assert made["name"] == "Grace Hopper"
    assert made["externalRefs"] == [{"source": "crm", "externalId": "42", "language": None}]
    assert made["attributes"] == [{"class": "crm", "name": "score", "type": "number", "value": 7}]
    got = client.get(tenant.path(f"/clients/{made['id']}"), headers=tenant.headers).json()
    assert got == made
    patched = client.patch(tenant.path(f"/clients/{made['id']}"), json={"note": "admiral"}, headers=tenant.headers).json()
    assert (patched["note"], patched["tags"], patched["email"]) == ("admiral", ["vip"], "grace@navy.mil")
    assert client.delete(tenant.path(f"/clients/{made['id']}"), headers=tenant.headers).status_code == 204
    assert client.get(tenant.path(f"/clients/{made['id']}"), headers=tenant.headers).status_code == 404


def test_external_ref_unique_per_tenant(client: TestClient, tenant: TenantInfo) -> None:
    create(client, tenant, name="A", externalRefs=[{"source": "crm", "externalId": "1"}])
    response = client.post(
        tenant.path("/clients"), json={"name": "B", "externalRefs": [{"source": "crm", "externalId": "1"}]}, headers=tenant.headers
    )
    assert response.status_code == 409
    assert response.json()["errors"][0]["field"] == "sourceId"


def test_create_requires_a_name(client: TestClient, tenant: TenantInfo) -> None:
    response = client.post(tenant.path("/clients"), json={"email": "a@b.co"}, headers=tenant.headers)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "name"


def test_a_nul_character_in_an_id_is_a_documented_answer_on_every_backend(client: TestClient, tenant: TenantInfo, backend: str) -> None:
    """PostgreSQL cannot look up a text holding NUL (the driver refuses it): 400 there, never 500; SQLite finds nothing."""
    response = client.get(tenant.path("/clients/a%00b"), headers=tenant.headers)
    assert response.status_code == (400 if backend == "postgres" else 404), response.text
    assert_documented(client, response, "GET", "/tenants/{tenant}/clients/{client_id}")


def test_a_nul_character_in_an_external_ref_is_400_naming_it(client: TestClient, tenant: TenantInfo) -> None:
    """Found by tests/test_fuzz.py on PostgreSQL: the reference reached COPY, which cannot hold a NUL: a 500."""
    body = {"name": "A", "externalRefs": [{"source": "crm", "externalId": "1\x00"}]}
    response = client.post(tenant.path("/clients"), json=body, headers=tenant.headers)
    assert response.status_code == 400, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["externalRefs[0].externalId"]
    assert "NUL character" in response.json()["errors"][0]["message"]
    assert_documented(client, response, "POST", "/tenants/{tenant}/clients")
    assert client.get(tenant.path("/clients"), headers=tenant.headers).json()["total"] == 0


def test_patch_errors(client: TestClient, tenant: TenantInfo) -> None:
    made = create(client, tenant, name="A", email="a@b.co")
    create(client, tenant, name="B", email="b@b.co")
    assert client.patch(tenant.path("/clients/nope"), json={"name": "x"}, headers=tenant.headers).status_code == 404
    clash = client.patch(tenant.path(f"/clients/{made['id']}"), json={"email": "B@B.CO"}, headers=tenant.headers)
    assert clash.status_code == 409
    assert clash.json()["errors"][0]["field"] == "email"
    assert_documented(client, clash, "PATCH", "/tenants/{tenant}/clients/{client_id}")  # the 409 was not in the description
    bad = client.patch(tenant.path(f"/clients/{made['id']}"), json={"email": "bad@"}, headers=tenant.headers)
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["field"] == "email"


def test_list_search_tag_group_and_paging(client: TestClient, tenant: TenantInfo) -> None:
    group = client.post(tenant.path("/client-groups"), json={"name": "Audit"}, headers=tenant.headers).json()["id"]
    for i in range(7):
        create(
            client,
            tenant,
            name=f"Client {i}",
            email=f"c{i}@firm.co",
            tags=["even"] if i % 2 == 0 else [],
            company="Acme" if i == 3 else None,
        )
    create(client, tenant, name="Grouped", clientGroupId=group)
    listing = client.get(tenant.path("/clients"), params={"pageSize": 3, "page": 2}, headers=tenant.headers).json()
    assert (listing["total"], len(listing["items"]), listing["page"]) == (8, 3, 2)
    assert client.get(tenant.path("/clients"), params={"search": "C5@FIRM"}, headers=tenant.headers).json()["total"] == 1
    assert client.get(tenant.path("/clients"), params={"search": "acme"}, headers=tenant.headers).json()["total"] == 1
    assert client.get(tenant.path("/clients"), params={"tag": "even"}, headers=tenant.headers).json()["total"] == 4
    assert client.get(tenant.path("/clients"), params={"clientGroupId": group}, headers=tenant.headers).json()["total"] == 1
    assert client.get(tenant.path("/clients"), params={"pageSize": 0}, headers=tenant.headers).status_code == 400


def test_groups_have_unassigned_and_reject_duplicates(client: TestClient, tenant: TenantInfo) -> None:
    names = [g["name"] for g in client.get(tenant.path("/client-groups"), headers=tenant.headers).json()["items"]]
    assert names == ["Unassigned"]
    assert client.post(tenant.path("/client-groups"), json={"name": "Unassigned"}, headers=tenant.headers).status_code == 409
    assert client.post(tenant.path("/client-groups"), json={"name": ""}, headers=tenant.headers).status_code == 400


def test_settings_defaults_apply_to_new_clients(client: TestClient, tenant: TenantInfo) -> None:
    defaults = client.get(tenant.path("/settings"), headers=tenant.headers).json()
    assert defaults["defaultType"] == "Individual"
    assert defaults["importRowLimit"] == 5000
    changed = client.patch(
        tenant.path("/settings"), json={"defaultType": "SoleTrader", "defaultActive": False, "defaultProject": "p1", "defaultDesk": "d1"},
        headers=tenant.headers,
    )  # fmt: skip
    assert changed.status_code == 200
    made = create(client, tenant, name="Defaulted")
    assert (made["type"], made["active"], made["project"], made["desk"]) == ("SoleTrader", False, "p1", "d1")


def test_settings_validation(client: TestClient, tenant: TenantInfo) -> None:
    for body, field in (
        ({"defaultType": "Alien"}, "defaultType"),
        ({"importRowLimit": "many"}, "importRowLimit"),
        ({"colour": 1}, "colour"),
    ):
        response = client.patch(tenant.path("/settings"), json=body, headers=tenant.headers)
        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] == field
    assert client.patch(tenant.path("/settings"), json=[1], headers=tenant.headers).status_code == 400


def test_history_records_changes(client: TestClient, tenant: TenantInfo) -> None:
    made = client.post(tenant.path("/clients/upsert"), json={"trackingId": "h", "name": "Before"}, headers=tenant.headers).json()
    client.post(tenant.path("/clients/upsert"), json={"trackingId": "h", "name": "After"}, headers=tenant.headers)
    items = client.get(tenant.path(f"/clients/{made['id']}/history"), headers=tenant.headers).json()["items"]
    assert {"action": "updated", "field": "name", "before": "Before", "after": "After"}.items() <= items[0].items()
    assert items[-1]["action"] == "created"


def test_health_and_openapi(client: TestClient) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    spec = client.get("/openapi.json").json()
    assert "/tenants/{tenant}/clients/upsert" in spec["paths"]
    assert client.get("/docs").status_code == 200


def test_clearing_the_group_puts_a_client_back_in_unassigned(client: TestClient, tenant: TenantInfo) -> None:
    groups = client.get(tenant.path("/client-groups"), headers=tenant.headers).json()["items"]
    unassigned = next(g["id"] for g in groups if g["name"] == "Unassigned")
    audit = client.post(tenant.path("/client-groups"), json={"name": "Audit"}, headers=tenant.headers).json()["id"]
    created = client.post(tenant.path("/clients"), json={"name": "G", "clientGroupId": None}, headers=tenant.headers).json()
    assert created["clientGroupId"] == unassigned
    path = tenant.path(f"/clients/{created['id']}")
    assert client.patch(path, json={"clientGroupId": audit}, headers=tenant.headers).json()["clientGroupId"] == audit
    assert client.patch(path, json={"clientGroupId": None}, headers=tenant.headers).json()["clientGroupId"] == unassigned
    assert client.patch(path, json={"clientGroupId": audit}, headers=tenant.headers).json()["clientGroupId"] == audit
    assert client.patch(path, json={"clientGroupId": ""}, headers=tenant.headers).json()["clientGroupId"] == unassigned


def test_history_says_who_made_each_change(client: TestClient, database: Database, tenant: TenantInfo) -> None:
    with database.session() as session:
        second = tenants.issue_key(session, kind="tenant", tenant_id=tenant.id, scopes=None)
    other_headers = {"X-API-Key": second.key}
    made = client.post(tenant.path("/clients"), json={"name": "Ada"}, headers=tenant.headers).json()
    path = tenant.path(f"/clients/{made['id']}")
    client.patch(path, json={"note": "by the second key"}, headers=other_headers)
    client.post(tenant.path("/clients/upsert"), json={"trackingId": "t", "name": "Bo"}, headers=tenant.headers)
    imported = client.post(
        "/users/bulk/sourceId", json={"users": [{"source": "erp", "sourceId": 1, "fullName": "Cy"}]}, headers=other_headers
    )
    cy = imported.json()["data"][0]["id"]

    items = client.get(f"{path}/history", headers=tenant.headers).json()["items"]
    first_key = items[-1]["actor"]
    assert first_key.startswith("tenant:")
    assert [(i["action"], i["field"], i["actor"]) for i in items] == [
        ("updated", "note", f"tenant:{second.id}"),
        ("created", "*", first_key),
    ]
    cy_history = client.get(tenant.path(f"/clients/{cy}/history"), headers=tenant.headers).json()["items"]
    assert [(i["action"], i["actor"], i["jobId"]) for i in cy_history] == [("created", f"tenant:{second.id}", imported.json()["importId"])]

    assert client.delete(path, headers=other_headers).status_code == 204
    with database.session() as session:
        deleted = session.scalar(select(ClientChange).where(ClientChange.client_id == made["id"], ClientChange.action == "deleted"))
        assert deleted is not None
        assert deleted.actor == f"tenant:{second.id}"


def test_a_client_cannot_be_its_own_parent_or_its_descendant_s_child(client: TestClient, tenant: TenantInfo) -> None:
    def made(name: str, parent: str | None = None) -> str:
        body: dict[str, str] = {"name": name} if parent is None else {"name": name, "parentId": parent}
        response = client.post(tenant.path("/clients"), json=body, headers=tenant.headers)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    top = made("Group plc")
    middle = made("Sub Ltd", top)
    bottom = made("Branch Ltd", middle)
    itself = client.patch(tenant.path(f"/clients/{top}"), json={"parentId": top}, headers=tenant.headers)
    assert itself.status_code == 400
    assert itself.json()["errors"][0] == {"field": "parentId", "message": "cannot be the client itself", "code": "invalid"}
    ring = client.patch(tenant.path(f"/clients/{top}"), json={"parentId": bottom}, headers=tenant.headers)
    assert ring.status_code == 400
    assert ring.json()["errors"][0]["message"] == "is a descendant of this client: parents would form a cycle"
    assert client.get(tenant.path(f"/clients/{top}"), headers=tenant.headers).json()["parentId"] is None
    # Moving a branch elsewhere in the tree is fine.
    other = made("Other plc")
    moved = client.patch(tenant.path(f"/clients/{middle}"), json={"parentId": other}, headers=tenant.headers)
    assert moved.status_code == 200
    assert moved.json()["parentId"] == other
