"""The notification and webhook routes declare their answers: ``/openapi.json`` names a schema
for each JSON answer, and the real answers (on a real database) match those schemas exactly:
every key declared, every required key present, every value of the declared type."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator

from clientdock.db import Database
from tests.conftest import TenantInfo
from tests.notify.helpers import Receiver, finish_job, register

METHODS = {"get", "put", "post", "delete", "patch"}
PREFIXES = ("/tenants/{tenant}/notifications", "/tenants/{tenant}/webhooks")


@pytest.fixture
def spec(client: TestClient) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def closed(node: Any) -> Any:
    """The schemas with no room for undeclared keys (``additionalProperties: false`` on each object with properties)."""
    if isinstance(node, dict):
        out = {key: closed(value) for key, value in node.items()}
        if "properties" in node:
            out["additionalProperties"] = False
        return out
    if isinstance(node, list):
        return [closed(value) for value in node]
    return node


def assert_matches(spec: dict[str, Any], method: str, path: str, status: int, body: Any) -> None:
    """``body`` is valid against the declared answer, read strictly (no undeclared key)."""
    declared = spec["paths"][path][method]["responses"][str(status)]["content"]["application/json"]["schema"]
    schema = {**declared, "components": closed(copy.deepcopy(spec["components"]))}
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in Draft202012Validator(schema).iter_errors(body)]
    assert errors == [], f"{method.upper()} {path} {status}"


def test_every_json_answer_has_a_named_schema(spec: dict[str, Any]) -> None:
    seen = []
    for path, item in spec["paths"].items():
        if not path.startswith(PREFIXES):
            continue
        for method, op in item.items():
            if method not in METHODS:
                continue
            seen.append(op["operationId"])
            answers = {status: answer for status, answer in op["responses"].items() if status.startswith("2")}
            assert answers, f"{method.upper()} {path}"
            for status, answer in answers.items():
                if status == "204":
                    assert "content" not in answer, f"{method.upper()} {path}"
                    continue
                schema = answer["content"]["application/json"]["schema"]
                assert set(schema) == {"$ref"}, f"{method.upper()} {path} {status}: {schema}"
                name = schema["$ref"].removeprefix("#/components/schemas/")
                assert spec["components"]["schemas"][name].get("properties"), name
    assert sorted(seen) == sorted(
        [
            "list_notifications", "mark_all_notifications_read", "mark_notification_read", "list_webhooks", "create_webhook",
            "delete_webhook", "list_webhook_deliveries",
        ]
    )  # fmt: skip


def test_real_answers_match_their_schemas(
    client: TestClient, database: Database, spec: dict[str, Any], tenant: TenantInfo, receiver: Receiver
) -> None:
    hook = register(client, tenant, receiver.url)
    assert_matches(spec, "post", "/tenants/{tenant}/webhooks", 201, hook)
    finish_job(database, tenant.id, job_id="j1", created=2)
    finish_job(database, tenant.id, "import.failed", job_id="j2", status="failed", failed=1)

    notes = client.get(tenant.path("/notifications"), headers=tenant.headers)
    assert_matches(spec, "get", "/tenants/{tenant}/notifications", 200, notes.json())
    assert notes.json()["unreadCount"] == 2
    first = notes.json()["items"][0]["id"]
    read = client.post(tenant.path(f"/notifications/{first}/read"), headers=tenant.headers)
    assert_matches(spec, "post", "/tenants/{tenant}/notifications/{notification_id}/read", 200, read.json())
    assert read.json()["readAt"] is not None
    read_all = client.post(tenant.path("/notifications/read-all"), headers=tenant.headers)
    assert_matches(spec, "post", "/tenants/{tenant}/notifications/read-all", 200, read_all.json())
    assert read_all.json() == {"updated": 1, "unreadCount": 0}

    hooks = client.get(tenant.path("/webhooks"), headers=tenant.headers)
    assert_matches(spec, "get", "/tenants/{tenant}/webhooks", 200, hooks.json())
    assert "secret" not in hooks.json()["items"][0]
    deliveries = client.get(tenant.path(f"/webhooks/{hook['id']}/deliveries"), headers=tenant.headers)
    assert_matches(spec, "get", "/tenants/{tenant}/webhooks/{webhook_id}/deliveries", 200, deliveries.json())
    assert len(deliveries.json()["items"]) == 2
    deleted = client.delete(tenant.path(f"/webhooks/{hook['id']}"), headers=tenant.headers)
    assert (deleted.status_code, deleted.content) == (204, b"")
