"""S1.3: the refusals of POST /business/clients/v1/apps/{app_code_name}/import — 401, 403, 404,
400 naming the field, 413 — with the app's credential and the business's key. Nothing is written."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from clientdock.db import Database
from tests.apps.helpers import JOHN, AppInfo, Key, assign, import_body, push, register
from tests.conftest import TenantInfo, make_tenant
from tests.contract import assert_documented


@pytest.fixture
def partner(api: TestClient, platform: Key, tenant: TenantInfo) -> AppInfo:
    """An import_clients app assigned to the tenant (business) ``acme``."""
    registered = register(api, platform)
    assign(api, platform.headers, registered, tenant.code)
    return registered


def clients_of(api: TestClient, tenant: TenantInfo) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = api.get(tenant.path("/clients"), headers=tenant.headers).json()["items"]
    return items


def test_unknown_app_is_404(api: TestClient, partner: AppInfo, tenant: TenantInfo) -> None:
    for headers in (tenant.headers, partner.acting_for(tenant.code)):
        response = api.post("/business/clients/v1/apps/nosuchapp/import", json=import_body(JOHN), headers=headers)
        assert response.status_code == 404


def test_no_or_bad_key_is_401(api: TestClient, partner: AppInfo, tenant: TenantInfo) -> None:
    assert push(api, partner, {"X-Business-Uid": tenant.code}, JOHN).status_code == 401
    assert push(api, partner, {"X-API-Key": partner.secret + "x", "X-Business-Uid": tenant.code}, JOHN).status_code == 401


def test_platform_key_is_403(api: TestClient, platform: Key, partner: AppInfo, tenant: TenantInfo) -> None:
    assert push(api, partner, {**platform.headers, "X-Business-Uid": tenant.code}, JOHN).status_code == 403


def test_not_assigned_is_403_for_both_credentials(
    api: TestClient, platform: Key, partner: AppInfo, tenant: TenantInfo, other_tenant: TenantInfo
) -> None:
    response = push(api, partner, partner.acting_for(other_tenant.code), JOHN)
    assert response.status_code == 403
    assert "not assigned" in response.json()["detail"]
    assert push(api, partner, other_tenant.headers, JOHN).status_code == 403
    assert push(api, partner, partner.acting_for("no-such-business"), JOHN).status_code == 403
    assert clients_of(api, other_tenant) == []


def test_wrong_app_type_is_403(api: TestClient, platform: Key, tenant: TenantInfo) -> None:
    other = register(api, platform, app_type="export_clients")
    assign(api, platform.headers, other, tenant.code)
    for headers in (other.acting_for(tenant.code), tenant.headers):
        response = push(api, other, headers, JOHN)
        assert response.status_code == 403
        assert "import_clients" in response.json()["detail"]


def test_another_apps_credential_is_403(api: TestClient, platform: Key, partner: AppInfo, tenant: TenantInfo) -> None:
    other = register(api, platform)
    assign(api, platform.headers, other, tenant.code)
    response = push(api, partner, other.acting_for(tenant.code), JOHN)
    assert response.status_code == 403
    assert "another app" in response.json()["detail"]


def test_app_must_say_which_business(api: TestClient, partner: AppInfo) -> None:
    response = push(api, partner, partner.headers, JOHN)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "X-Business-Uid"


def test_business_key_cannot_name_another_business(
    api: TestClient, platform: Key, partner: AppInfo, tenant: TenantInfo, other_tenant: TenantInfo
) -> None:
    assign(api, platform.headers, partner, other_tenant.code)
    headers = {**tenant.headers, "X-Business-Uid": other_tenant.code}
    assert push(api, partner, headers, JOHN).status_code == 403
    assert clients_of(api, other_tenant) == []


def test_business_key_needs_imports_write(api: TestClient, database: Database, platform: Key, partner: AppInfo) -> None:
    reader = make_tenant(database, code="reader", scopes=["clients:read"])
    assign(api, platform.headers, partner, reader.code)
    response = push(api, partner, reader.headers, JOHN)
    assert response.status_code == 403
    assert "imports:write" in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"fields_mapping": JOHN}, "import_params"),
        ({"import_params": {"upload_type": "single"}}, "fields_mapping"),
        ({"import_params": "single", "fields_mapping": JOHN}, "import_params"),
        ({"import_params": {"should_override": "yes"}, "fields_mapping": JOHN}, "import_params.should_override"),
        ({"import_params": {"upload_type": "many"}, "fields_mapping": JOHN}, "import_params.upload_type"),
        ({"import_params": {"send_notifications_when_done": 1}, "fields_mapping": JOHN}, "import_params.send_notifications_when_done"),
        ({"import_params": {"dry_run": True}, "fields_mapping": JOHN}, "import_params.dry_run"),
        ({"import_params": {"upload_type": "single"}, "fields_mapping": [JOHN]}, "fields_mapping"),
        ({"import_params": {"upload_type": "bulk"}, "fields_mapping": JOHN}, "fields_mapping"),
        ({"import_params": {"upload_type": "bulk"}, "fields_mapping": []}, "fields_mapping"),
        ({"import_params": {"upload_type": "single"}, "fields_mapping": {}}, "fields_mapping"),
        ({"import_params": {"upload_type": "single"}, "fields_mapping": "John"}, "fields_mapping"),
        ({"import_params": {"upload_type": "single"}, "fields_mapping": None}, "fields_mapping"),
        ({"import_params": {}, "fields_mapping": JOHN, "extra": 1}, "extra"),
        ([JOHN], "body"),
    ],
)
def test_bad_body_is_400_naming_the_field(api: TestClient, partner: AppInfo, tenant: TenantInfo, body: Any, field: str) -> None:
    for headers in (partner.acting_for(tenant.code), tenant.headers):
        response = api.post(partner.import_path, json=body, headers=headers)
        assert response.status_code == 400, response.text
        assert field in [e["field"] for e in response.json()["errors"]], response.json()
    assert clients_of(api, tenant) == []


def test_broken_json_is_400(api: TestClient, partner: AppInfo, tenant: TenantInfo) -> None:
    headers = {**tenant.headers, "Content-Type": "application/json"}
    assert api.post(partner.import_path, content=b'{"import_params": ', headers=headers).status_code == 400


def test_more_than_1000_items_is_413_before_anything_is_written(api: TestClient, partner: AppInfo, tenant: TenantInfo) -> None:
    items = [{"first_name": f"P{i}", "email": f"p{i}@firm.co"} for i in range(1001)]
    response = push(api, partner, partner.acting_for(tenant.code), items, upload_type="bulk")
    assert response.status_code == 413
    assert response.json()["errors"][0]["field"] == "fields_mapping"
    assert_documented(api, response, "POST", "/business/clients/v1/apps/{app_code_name}/import")  # the 413 was not in the description
    assert api.get(tenant.path("/imports"), headers=tenant.headers).json()["total"] == 0


def test_authority_is_checked_before_the_body(api: TestClient, platform: Key, partner: AppInfo, other_tenant: TenantInfo) -> None:
    bad = {"import_params": {"upload_type": "many"}}
    assert api.post(partner.import_path, json=bad, headers=partner.acting_for(other_tenant.code)).status_code == 403
    assert api.post(partner.import_path, json=bad, headers=other_tenant.headers).status_code == 403
    assert api.post("/business/clients/v1/apps/nosuchapp/import", json=bad, headers=other_tenant.headers).status_code == 404
    assert api.post(partner.import_path, json=bad).status_code == 401
