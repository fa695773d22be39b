"""S1.1: POST /platform/v1/apps — the platform registers partner apps; GET lists them."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from clientdock.apps import service
from clientdock.db import Database
from clientdock.errors import Conflict
from clientdock.tenants.models import ApiKey
from tests.apps.helpers import CALLBACK, Key, app_body, register
from tests.concurrency import run_concurrently
from tests.conftest import TenantInfo


def test_register_returns_the_app_and_its_credentials_once(api: TestClient, platform: Key, database: Database) -> None:
    body = app_body(app_code_name="crm-sync_1")
    response = api.post("/platform/v1/apps", json=body, headers=platform.headers)

    assert response.status_code == 201, response.text
    data = response.json()["data"]
    assert set(data) == {"uid", "name", "app_code_name", "app_type", "redirect_uri", "client_id", "client_secret", "created_at"}
    assert (data["name"], data["app_code_name"], data["app_type"], data["redirect_uri"]) == (
        "Test Import Clients App", "crm-sync_1", "import_clients", CALLBACK,
    )  # fmt: skip
    assert data["client_id"].startswith("cda_")
    with database.session() as session:
        key = session.query(ApiKey).filter(ApiKey.app_id == data["uid"]).one()
        assert key.kind == "app"
        assert data["client_secret"] not in (key.secret_hash, key.prefix)
    listed = api.get("/platform/v1/apps", headers=platform.headers).json()
    assert listed["total"] == 1
    assert "client_secret" not in listed["data"][0]
    assert listed["data"][0] == {k: v for k, v in data.items() if k != "client_secret"}
    one = api.get("/platform/v1/apps/crm-sync_1", headers=platform.headers)
    assert one.status_code == 200
    assert "client_secret" not in one.json()["data"]


def test_the_secret_is_an_api_key_of_the_app(api: TestClient, platform: Key, tenant: TenantInfo) -> None:
    app = register(api, platform)
    # a valid key (not 401) that may not manage apps, nor touch a tenant's data
    assert api.get("/platform/v1/apps", headers=app.headers).status_code == 403
    assert api.get(tenant.path("/clients"), headers=app.headers).status_code == 403
    assert api.get(tenant.path("/clients"), headers={"Authorization": f"Bearer {app.secret}"}).status_code == 403


def test_taken_code_is_409(api: TestClient, platform: Key) -> None:
    body = app_body()
    assert api.post("/platform/v1/apps", json=body, headers=platform.headers).status_code == 201
    again = api.post("/platform/v1/apps", json={**body, "name": "Another"}, headers=platform.headers)
    assert again.status_code == 409
    assert "already exists" in again.json()["detail"]
    assert again.json()["errors"][0]["field"] == "app_code_name"
    assert api.get("/platform/v1/apps", headers=platform.headers).json()["total"] == 1


def test_concurrent_registrations_of_one_code_make_one_app(database: Database) -> None:
    def attempt() -> str:
        try:
            with database.session() as session:
                service.register_app(session, name="Race", app_code_name="raced", app_type="import_clients", redirect_uri=CALLBACK)
        except Conflict:
            return "conflict"
        return "created"

    outcomes = run_concurrently(4, attempt)
    assert sorted(outcomes) == ["conflict", "conflict", "conflict", "created"]


def test_unique_constraint_backs_the_check(database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """Even when the pre-check passes (a concurrent writer got in between), the constraint answers 409."""
    with database.session() as session:
        service.register_app(session, name="A", app_code_name="dup", app_type="other", redirect_uri=CALLBACK)
    monkeypatch.setattr(service, "find_app", lambda _session, _code: None)
    with database.session() as session, pytest.raises(Conflict):
        service.register_app(session, name="B", app_code_name="dup", app_type="other", redirect_uri=CALLBACK)
    with database.session() as session:
        assert session.query(ApiKey).filter(ApiKey.kind == "app").count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 256}, "name"),
        ({"name": None}, "name"),
        ({"app_code_name": ""}, "app_code_name"),
        ({"app_code_name": "Has Space"}, "app_code_name"),
        ({"app_code_name": "UPPER"}, "app_code_name"),
        ({"app_code_name": "-leading"}, "app_code_name"),
        ({"app_code_name": "a/b"}, "app_code_name"),
        ({"app_code_name": "x" * 65}, "app_code_name"),
        ({"app_code_name": 42}, "app_code_name"),
        ({"app_type": "mystery"}, "app_type"),
        ({"app_type": ""}, "app_type"),
        ({"redirect_uri": "example.com/callback"}, "redirect_uri"),
        ({"redirect_uri": "/callback"}, "redirect_uri"),
        ({"redirect_uri": "ftp://example.com/cb"}, "redirect_uri"),
        ({"redirect_uri": "javascript:alert(1)"}, "redirect_uri"),
        ({"redirect_uri": "https://"}, "redirect_uri"),
        ({"redirect_uri": "https://example.com/cb#frag"}, "redirect_uri"),
        ({"redirect_uri": "https://example.com:port/cb"}, "redirect_uri"),
        ({"redirect_uri": "https://exa mple.com/cb"}, "redirect_uri"),
        ({"redirect_uri": ""}, "redirect_uri"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
def test_bad_input_is_400_naming_the_field(api: TestClient, platform: Key, change: dict[str, Any], field: str) -> None:
    response = api.post("/platform/v1/apps", json=app_body(**change), headers=platform.headers)
    assert response.status_code == 400, response.text
    assert field in [e["field"] for e in response.json()["errors"]]
    assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("missing", ["name", "app_code_name", "app_type", "redirect_uri"])
def test_missing_field_is_400_naming_it(api: TestClient, platform: Key, missing: str) -> None:
    body = app_body()
    del body[missing]
    response = api.post("/platform/v1/apps", json=body, headers=platform.headers)
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == [missing]


def test_every_bad_field_is_named_at_once(api: TestClient, platform: Key) -> None:
    body = {"name": " ", "app_code_name": "BAD!", "app_type": "x", "redirect_uri": "nope"}
    response = api.post("/platform/v1/apps", json=body, headers=platform.headers)
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["name", "app_code_name", "app_type", "redirect_uri"]


@pytest.mark.parametrize("app_type", sorted(service.APP_TYPES))
def test_documented_app_types_are_accepted(api: TestClient, platform: Key, app_type: str) -> None:
    response = api.post("/platform/v1/apps", json=app_body(app_type=app_type), headers=platform.headers)
    assert response.status_code == 201
    assert response.json()["data"]["app_type"] == app_type


def test_http_redirect_uri_is_accepted(api: TestClient, platform: Key) -> None:
    uri = "http://localhost:8080/oauth/cb?x=1"
    response = api.post("/platform/v1/apps", json=app_body(redirect_uri=uri), headers=platform.headers)
    assert response.status_code == 201
    assert response.json()["data"]["redirect_uri"] == uri


def test_only_the_platform_key_manages_apps(api: TestClient, platform: Key, tenant: TenantInfo) -> None:
    app = register(api, platform)
    for headers, status in (({}, 401), ({"X-API-Key": "cdk_000000000000_nope"}, 401), (tenant.headers, 403), (app.headers, 403)):
        assert api.post("/platform/v1/apps", json=app_body(), headers=headers).status_code == status
        assert api.get("/platform/v1/apps", headers=headers).status_code == status
        assert api.get(f"/platform/v1/apps/{app.code}", headers=headers).status_code == status
        assert api.post(f"/platform/v1/apps/{app.code}/credentials", headers=headers).status_code == status
    assert api.get("/platform/v1/apps", headers=platform.headers).json()["total"] == 1


def test_unknown_app_is_404(api: TestClient, platform: Key) -> None:
    assert api.get("/platform/v1/apps/nope", headers=platform.headers).status_code == 404
    assert api.post("/platform/v1/apps/nope/credentials", headers=platform.headers).status_code == 404


def test_list_is_paged(api: TestClient, platform: Key) -> None:
    codes = [register(api, platform, app_code_name=f"app{i}").code for i in range(5)]
    first = api.get("/platform/v1/apps", params={"pageSize": 2}, headers=platform.headers).json()
    last = api.get("/platform/v1/apps", params={"pageSize": 2, "page": 3}, headers=platform.headers).json()
    assert (first["total"], first["page"], first["pageSize"]) == (5, 1, 2)
    assert [a["app_code_name"] for a in first["data"]] == codes[:2]
    assert [a["app_code_name"] for a in last["data"]] == codes[4:]


def test_rotating_the_secret_revokes_the_old_one(api: TestClient, platform: Key, tenant: TenantInfo) -> None:
    app = register(api, platform)
    response = api.post(f"/platform/v1/apps/{app.code}/credentials", headers=platform.headers)
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["client_id"] == app.client_id
    assert data["client_secret"] != app.secret
    listing = "/v3/apps/app_assignments"
    assert api.get(listing, headers=app.headers).status_code == 401
    assert api.get(listing, headers={"X-API-Key": data["client_secret"]}).status_code == 200
