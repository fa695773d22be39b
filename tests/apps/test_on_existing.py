"""``onExisting`` at the partner-app door: each value, how it relates to the seed's
``should_override``, and the refusals (another value, a contradiction) before any job."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient

from clientdock.pipeline.existing import SKIPPED, kept_message
from tests.apps.helpers import AppInfo, Key, assign, register
from tests.conftest import TenantInfo

FIRST = {"first_name": "John", "last_name": "Doe", "email": "john.doe@example.com", "phone": "+1234567890"}
AGAIN = {"first_name": "Johnny", "email": "John.Doe@example.com", "phone": "+44 20 7946 0001", "company": "Doe Ltd"}


@pytest.fixture
def partner(client: TestClient, platform: Key, tenant: TenantInfo) -> AppInfo:
    registered = register(client, platform)
    assign(client, platform.headers, registered, tenant.code)
    return registered


def push(
    client: TestClient, partner: AppInfo, tenant: TenantInfo, mapping: dict[str, Any], on_existing: str | None = None,
    **import_params: Any,
) -> httpx2.Response:  # fmt: skip
    params = {"onExisting": on_existing} if on_existing is not None else {}
    body = {"import_params": {"upload_type": "single", **import_params}, "fields_mapping": mapping}
    return client.post(partner.import_path, json=body, params=params, headers=partner.acting_for(tenant.code))


def stored(client: TestClient, tenant: TenantInfo) -> dict[str, Any]:
    (only,) = client.get(tenant.path("/clients"), headers=tenant.headers).json()["items"]
    result: dict[str, Any] = only
    return result


def item_of(response: httpx2.Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    item: dict[str, Any] = response.json()["data"][0]
    return item


def test_fill_empty_writes_only_the_empty_fields(client: TestClient, partner: AppInfo, tenant: TenantInfo) -> None:
    item_of(push(client, partner, tenant, FIRST))
    response = push(client, partner, tenant, AGAIN, "fillEmpty")
    item = item_of(response)
    assert item["action"] == "updated"
    assert item["messages"] == [kept_message(["firstName", "email", "phone"])]
    assert (response.json()["onExisting"], response.json()["import_params"]["should_override"]) == ("fillEmpty", True)
    client_now = stored(client, tenant)
    assert (client_now["firstName"], client_now["phone"], client_now["company"]) == ("John", "+1234567890", "Doe Ltd")
    rows = client.get(tenant.path(f"/imports/{response.json()['id']}/rows"), params={"outcome": "updated"}, headers=tenant.headers)
    assert rows.json()["items"][0]["changes"] == {"company": {"before": None, "after": "Doe Ltd"}}


def test_update_updates_without_should_override(client: TestClient, partner: AppInfo, tenant: TenantInfo) -> None:
    item_of(push(client, partner, tenant, FIRST))
    assert item_of(push(client, partner, tenant, AGAIN, "update"))["action"] == "updated"
    assert stored(client, tenant)["phone"] == "+44 20 7946 0001"


def test_skip_skips_and_agrees_with_should_override_false(client: TestClient, partner: AppInfo, tenant: TenantInfo) -> None:
    item_of(push(client, partner, tenant, FIRST))
    item = item_of(push(client, partner, tenant, AGAIN, "skip", should_override=False))
    assert (item["action"], item["messages"]) == ("skipped", [SKIPPED])
    assert stored(client, tenant)["phone"] == "+1234567890"


def test_without_on_existing_should_override_decides_as_before(client: TestClient, partner: AppInfo, tenant: TenantInfo) -> None:
    item_of(push(client, partner, tenant, FIRST))
    response = push(client, partner, tenant, AGAIN)
    assert (item_of(response)["action"], response.json()["onExisting"]) == ("skipped", "skip")
    response = push(client, partner, tenant, AGAIN, should_override=True)
    assert (item_of(response)["action"], response.json()["onExisting"]) == ("updated", "update")


@pytest.mark.parametrize(
    ("value", "override", "message"),
    [
        ("everything", None, "must be one of update, fillEmpty, skip, not 'everything'"),
        ("skip", True, "skip contradicts import_params.should_override true; send only one of them"),
        ("fillEmpty", False, "fillEmpty contradicts import_params.should_override false; send only one of them"),
        ("update", False, "update contradicts import_params.should_override false; send only one of them"),
    ],
)
def test_another_value_or_a_contradiction_is_400_before_any_job(
    api: TestClient, platform: Key, tenant: TenantInfo, value: str, override: bool | None, message: str
) -> None:
    partner = register(api, platform)
    assign(api, platform.headers, partner, tenant.code)
    params = {} if override is None else {"should_override": override}
    response = push(api, partner, tenant, FIRST, value, **params)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [(e["field"], e["message"]) for e in response.json()["errors"]] == [("onExisting", message)]
    assert api.get(tenant.path("/imports"), headers=tenant.headers).json()["total"] == 0
