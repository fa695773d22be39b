"""Credentials: 401 without a valid key, 403 for another tenant or a missing scope, isolation."""

from __future__ import annotations

from fastapi.testclient import TestClient

from clientdock.db import Database
from clientdock.tenants import service
from tests.conftest import TenantInfo, make_tenant


def test_missing_key_is_401(client: TestClient, tenant: TenantInfo) -> None:
    response = client.get(tenant.path("/clients"))
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")


def test_unknown_and_malformed_keys_are_401(client: TestClient, tenant: TenantInfo) -> None:
    for key in ("nope", "cdk_000000000000_wrong", tenant.key + "x", ""):
        assert client.get(tenant.path("/clients"), headers={"X-API-Key": key}).status_code == 401


def test_bearer_header_works(client: TestClient, tenant: TenantInfo) -> None:
    response = client.get(tenant.path("/clients"), headers={"Authorization": f"Bearer {tenant.key}"})
    assert response.status_code == 200


def test_revoked_key_is_401(client: TestClient, database: Database, tenant: TenantInfo) -> None:
    with database.session() as session:
        key = service.find_key(session, tenant.key)
        assert key is not None
        service.revoke_key(session, key.id)
    assert client.get(tenant.path("/clients"), headers=tenant.headers).status_code == 401


def test_key_is_stored_hashed(database: Database, tenant: TenantInfo) -> None:
    with database.session() as session:
        key = service.find_key(session, tenant.key)
        assert key is not None
        assert tenant.key not in (key.secret_hash, key.prefix)


def test_other_tenants_key_is_403(client: TestClient, tenant: TenantInfo, other_tenant: TenantInfo) -> None:
    assert client.get(tenant.path("/clients"), headers=other_tenant.headers).status_code == 403
    assert client.get("/tenants/does-not-exist/clients", headers=tenant.headers).status_code == 403


def test_missing_scope_is_403(client: TestClient, database: Database) -> None:
    reader = make_tenant(database, code="reader", scopes=["clients:read"])
    assert client.get(reader.path("/clients"), headers=reader.headers).status_code == 200
    response = client.post(reader.path("/clients/upsert"), json={"trackingId": "a", "name": "A"}, headers=reader.headers)
    assert response.status_code == 403
    assert "clients:write" in response.json()["detail"]


def test_platform_key_cannot_touch_client_data(client: TestClient, database: Database, tenant: TenantInfo) -> None:
    with database.session() as session:
        issued = service.issue_key(session, kind="platform")
    assert client.get(tenant.path("/clients"), headers={"X-API-Key": issued.key}).status_code == 403


def test_tenant_isolation_by_id_and_search(client: TestClient, tenant: TenantInfo, other_tenant: TenantInfo) -> None:
    mine = client.post(tenant.path("/clients/upsert"), json={"trackingId": "s", "name": "Secret Client"}, headers=tenant.headers).json()
    # The other tenant's key cannot read tenant A's client through tenant A's paths...
    assert client.get(tenant.path(f"/clients/{mine['id']}"), headers=other_tenant.headers).status_code == 403
    # ...nor find it through its own paths, by id or by search.
    assert client.get(other_tenant.path(f"/clients/{mine['id']}"), headers=other_tenant.headers).status_code == 404
    found = client.get(other_tenant.path("/clients"), params={"search": "secret"}, headers=other_tenant.headers).json()
    assert found["total"] == 0
    # ...nor write it.
    assert client.patch(other_tenant.path(f"/clients/{mine['id']}"), json={"name": "x"}, headers=other_tenant.headers).status_code == 404
    assert client.delete(other_tenant.path(f"/clients/{mine['id']}"), headers=other_tenant.headers).status_code == 404
    same_tracking = client.post(
        other_tenant.path("/clients/upsert"), json={"trackingId": "s", "name": "Theirs"}, headers=other_tenant.headers
    )
    assert same_tracking.status_code == 201
    assert client.get(tenant.path(f"/clients/{mine['id']}"), headers=tenant.headers).json()["name"] == "Secret Client"
