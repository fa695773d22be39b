"""S1.2: POST/GET/DELETE /v3/apps/app_assignments — who may assign an app to which business."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from clientdock.apps import service
from clientdock.db import Database
from clientdock.errors import Conflict
from clientdock.tenants.auth import Principal
from clientdock.tenants.models import ApiKey
from tests.apps.helpers import AppInfo, Key, assign, assign_body, register
from tests.concurrency import run_concurrently
from tests.conftest import TenantInfo, make_tenant
from tests.contract import assert_documented

PATH = "/v3/apps/app_assignments"


@pytest.fixture
def partner(api: TestClient, platform: Key) -> AppInfo:
    return register(api, platform)


def test_platform_assigns_by_business_code(api: TestClient, platform: Key, partner: AppInfo, tenant: TenantInfo) -> None:
    response = api.post(PATH, json=assign_body(partner, tenant.code), headers=platform.headers)
    assert response.status_code == 201, response.text
    data = response.json()["data"]
    assert data["uid"]
    assert {k: data[k] for k in ("app_code_name", "assignee_uid", "assignee_id", "assignee_type", "settings")} == {
        "app_code_name": partner.code, "assignee_uid": tenant.code, "assignee_id": tenant.id, "assignee_type": "business",
        "settings": {"assignment_mode": "internal"},
    }  # fmt: skip
    fetched = api.get(f"{PATH}/{data['uid']}", headers=platform.headers)
    assert fetched.status_code == 200
    assert fetched.json()["data"] == data


def test_platform_assigns_by_business_internal_id(api: TestClient, platform: Key, partner: AppInfo, tenant: TenantInfo) -> None:
    response = api.post(PATH, json=assign_body(partner, tenant.id), headers=platform.headers)
    assert response.status_code == 201
    assert response.json()["data"]["assignee_uid"] == tenant.code


def test_settings_and_assignee_type_default(api: TestClient, platform: Key, partner: AppInfo, tenant: TenantInfo) -> None:
    response = api.post(PATH, json={"app_code_name": partner.code, "assignee_uid": tenant.code}, headers=platform.headers)
    assert response.status_code == 201
    assert response.json()["data"]["settings"] == {"assignment_mode": "internal"}
    assert response.json()["data"]["assignee_type"] == "business"


def test_tenant_admin_assigns_to_its_own_business_only(
    api: TestClient, partner: AppInfo, tenant: TenantInfo, other_tenant: TenantInfo
) -> None:
    own = api.post(PATH, json=assign_body(partner, tenant.code), headers=tenant.headers)
    assert own.status_code == 201
    by_id = api.post(PATH, json=assign_body(partner, other_tenant.id), headers=tenant.headers)
    assert by_id.status_code == 403
    other = api.post(PATH, json=assign_body(partner, other_tenant.code), headers=tenant.headers)
    assert other.status_code == 403
    unknown = api.post(PATH, json=assign_body(partner, "no-such-business"), headers=tenant.headers)
    assert unknown.status_code == 403


def test_tenant_key_without_admin_is_403(api: TestClient, database: Database, partner: AppInfo) -> None:
    writer = make_tenant(database, code="writer", scopes=["clients:read", "clients:write", "imports:write"])
    response = api.post(PATH, json=assign_body(partner, writer.code), headers=writer.headers)
    assert response.status_code == 403
    assert "admin" in response.json()["detail"]
    assert api.get(PATH, headers=writer.headers).status_code == 403


def test_app_keys_cannot_assign(api: TestClient, platform: Key, partner: AppInfo, tenant: TenantInfo) -> None:
    assert api.post(PATH, json=assign_body(partner, tenant.code), headers=partner.headers).status_code == 403
    uid = assign(api, platform.headers, partner, tenant.code)
    assert api.delete(f"{PATH}/{uid}", headers=partner.headers).status_code == 403
    assert api.get(f"{PATH}/{uid}", headers=partner.headers).status_code == 403


def test_no_key_is_401(api: TestClient, platform: Key, partner: AppInfo, tenant: TenantInfo) -> None:
    uid = assign(api, platform.headers, partner, tenant.code)
    assert api.post(PATH, json=assign_body(partner, tenant.code)).status_code == 401
    assert api.get(PATH).status_code == 401
    assert api.get(f"{PATH}/{uid}").status_code == 401
    assert api.delete(f"{PATH}/{uid}").status_code == 401
    assert api.delete(f"{PATH}/{uid}", headers={"X-API-Key": "cdk_000000000000_x"}).status_code == 401


def test_unknown_app_is_404(api: TestClient, platform: Key, tenant: TenantInfo) -> None:
    body = {"app_code_name": "nosuchapp", "assignee_uid": tenant.code, "assignee_type": "business"}
    for headers in (platform.headers, tenant.headers):
        response = api.post(PATH, json=body, headers=headers)
        assert response.status_code == 404
        assert response.json()["errors"][0]["field"] == "app_code_name"
        assert_documented(api, response, "POST", PATH)  # found by tests/test_fuzz.py: the 404 was not in the description


def test_a_nul_character_in_a_looked_up_value_is_a_documented_answer(
    api: TestClient, platform: Key, partner: AppInfo, backend: str
) -> None:
    """Found by tests/test_fuzz.py on PostgreSQL: a NUL in `assignee_uid` made the driver refuse the look-up, a 500.
    PostgreSQL cannot hold a NUL in text, so there it is 400; SQLite looks the value up and finds no business."""
    response = api.post(PATH, json=assign_body(partner, "acme\x00"), headers=platform.headers)
    assert response.status_code == (400 if backend == "postgres" else 404), response.text
    assert_documented(api, response, "POST", PATH)
    if backend == "postgres":
        assert "NUL character" in response.json()["detail"]


def test_unknown_business_is_404_for_the_platform(api: TestClient, platform: Key, partner: AppInfo) -> None:
    response = api.post(PATH, json=assign_body(partner, "no-such-business"), headers=platform.headers)
    assert response.status_code == 404
    assert response.json()["errors"][0]["field"] == "assignee_uid"
    assert_documented(api, response, "POST", PATH)


def test_duplicate_assignment_is_409(api: TestClient, platform: Key, partner: AppInfo, tenant: TenantInfo) -> None:
    assign(api, platform.headers, partner, tenant.code)
    assert api.post(PATH, json=assign_body(partner, tenant.code), headers=platform.headers).status_code == 409
    assert api.post(PATH, json=assign_body(partner, tenant.id), headers=tenant.headers).status_code == 409


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"app_code_name": ""}, "app_code_name"),
        ({"app_code_name": None}, "app_code_name"),
        ({"assignee_uid": ""}, "assignee_uid"),
        ({"assignee_uid": 7}, "assignee_uid"),
        ({"assignee_type": "user"}, "assignee_type"),
        ({"settings": {"assignment_mode": "external"}}, "settings.assignment_mode"),
        ({"settings": {"assignment_mode": "internal", "colour": "red"}}, "settings.colour"),
        ({"settings": "internal"}, "settings"),
        ({"extra": True}, "extra"),
    ],
)
def test_bad_input_is_400_naming_the_field(
    api: TestClient, platform: Key, partner: AppInfo, tenant: TenantInfo, change: dict[str, Any], field: str
) -> None:
    response = api.post(PATH, json=assign_body(partner, tenant.code, **change), headers=platform.headers)
    assert response.status_code == 400, response.text
    assert field in [e["field"] for e in response.json()["errors"]]


@pytest.mark.parametrize("missing", ["app_code_name", "assignee_uid"])
def test_missing_field_is_400(api: TestClient, platform: Key, partner: AppInfo, tenant: TenantInfo, missing: str) -> None:
    body = assign_body(partner, tenant.code)
    del body[missing]
    response = api.post(PATH, json=body, headers=platform.headers)
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == [missing]


def test_delete_is_204_then_404(api: TestClient, platform: Key, partner: AppInfo, tenant: TenantInfo) -> None:
    uid = assign(api, platform.headers, partner, tenant.code)
    response = api.delete(f"{PATH}/{uid}", headers=platform.headers)
    assert response.status_code == 204
    assert response.content == b""
    assert api.delete(f"{PATH}/{uid}", headers=platform.headers).status_code == 404
    assert api.get(f"{PATH}/{uid}", headers=platform.headers).status_code == 404
    assert assign(api, platform.headers, partner, tenant.code) != uid  # can be assigned again


def test_tenant_admin_deletes_only_its_own(
    api: TestClient, platform: Key, partner: AppInfo, tenant: TenantInfo, other_tenant: TenantInfo
) -> None:
    mine = assign(api, platform.headers, partner, tenant.code)
    theirs = assign(api, platform.headers, partner, other_tenant.code)
    # another business's assignment is no more visible than one that does not exist (row-level security on PostgreSQL)
    assert api.get(f"{PATH}/{theirs}", headers=tenant.headers).status_code == 404
    assert api.delete(f"{PATH}/{theirs}", headers=tenant.headers).status_code == 404
    assert api.delete(f"{PATH}/unknown-uid", headers=tenant.headers).status_code == 404
    assert api.delete(f"{PATH}/{mine}", headers=tenant.headers).status_code == 204
    assert api.get(f"{PATH}/{theirs}", headers=platform.headers).status_code == 200


def test_list_by_business(api: TestClient, platform: Key, tenant: TenantInfo, other_tenant: TenantInfo) -> None:
    first, second = register(api, platform), register(api, platform)
    a = assign(api, platform.headers, first, tenant.code)
    b = assign(api, platform.headers, second, tenant.code)
    c = assign(api, platform.headers, first, other_tenant.code)

    def uids(headers: dict[str, str], **params: str) -> list[str]:
        response = api.get(PATH, params=params, headers=headers)
        assert response.status_code == 200, response.text
        assert response.json()["total"] == len(response.json()["data"])
        return [row["uid"] for row in response.json()["data"]]

    assert uids(platform.headers) == [a, b, c]
    assert uids(platform.headers, assignee_uid=tenant.code) == [a, b]
    assert uids(platform.headers, assignee_uid=other_tenant.id) == [c]
    assert uids(platform.headers, app_code_name=first.code) == [a, c]
    assert uids(tenant.headers) == [a, b]
    assert uids(tenant.headers, assignee_uid=tenant.code, app_code_name=second.code) == [b]
    assert api.get(PATH, params={"assignee_uid": other_tenant.code}, headers=tenant.headers).status_code == 403
    nobody = api.get(PATH, params={"assignee_uid": "nobody"}, headers=platform.headers)
    assert nobody.status_code == 404
    assert_documented(api, nobody, "GET", PATH)  # found by tests/test_fuzz.py: the 404 was not in the description
    # an app sees only its own assignments: the businesses it may act for
    assert uids(first.headers) == [a, c]
    assert uids(first.headers, assignee_uid=tenant.code) == [a]
    assert uids(second.headers, assignee_uid=other_tenant.code) == []


def test_concurrent_assignments_make_one(database: Database, api: TestClient, platform: Key, partner: AppInfo, tenant: TenantInfo) -> None:
    with database.session() as session:
        issued = session.scalar(select(ApiKey).where(ApiKey.kind == "platform"))
        assert issued is not None
        principal = Principal("platform", issued.id, None, frozenset())

    def attempt() -> str:
        try:
            with database.session() as session:
                service.assign(
                    session, principal, app_code_name=partner.code, assignee_uid=tenant.code, assignee_type="business", settings=None
                )
        except Conflict:
            return "conflict"
        return "created"

    outcomes = run_concurrently(4, attempt)
    assert sorted(outcomes) == ["conflict", "conflict", "conflict", "created"]
    assert api.get(PATH, headers=platform.headers).json()["total"] == 1
