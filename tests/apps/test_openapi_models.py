"""The partner-app routes declare their answers: ``/openapi.json`` names a schema for each JSON
answer, and the real answers (on a real database) match those schemas exactly: every key
declared, every required key present, every value of the declared type."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator

from tests.apps.helpers import JOHN, Key, assign, push, register
from tests.conftest import TenantInfo

METHODS = {"get", "put", "post", "delete", "patch"}
PREFIXES = ("/platform/", "/v3/apps", "/business/")


@pytest.fixture
def spec(api: TestClient) -> dict[str, Any]:
    response = api.get("/openapi.json")
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


def answer_schema(spec: dict[str, Any], method: str, path: str, status: int) -> dict[str, Any]:
    schema: dict[str, Any] = spec["paths"][path][method]["responses"][str(status)]["content"]["application/json"]["schema"]
    return schema


def assert_matches(spec: dict[str, Any], method: str, path: str, status: int, body: Any) -> None:
    """``body`` is valid against the declared answer, read strictly (no undeclared key)."""
    schema = {**answer_schema(spec, method, path, status), "components": closed(copy.deepcopy(spec["components"]))}
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
            "register_app", "list_apps", "get_app", "rotate_app_credentials", "create_app_assignment", "list_app_assignments",
            "get_app_assignment", "delete_app_assignment", "import_via_app", "get_app_import",
        ]
    )  # fmt: skip


def test_the_import_documents_both_hybrid_answers(spec: dict[str, Any]) -> None:
    path = "/business/clients/v1/apps/{app_code_name}/import"
    assert answer_schema(spec, "post", path, 201) == answer_schema(spec, "post", path, 202) == {"$ref": "#/components/schemas/AppImportJob"}
    job = spec["components"]["schemas"]["AppImportJob"]
    assert {"app_code_name", "business_uid", "import_params", "data", "jobId", "links"} <= set(job["required"])
    assert "rows" not in job["properties"]


def test_real_answers_match_their_schemas(client: TestClient, spec: dict[str, Any], platform: Key, tenant: TenantInfo) -> None:
    body = {"name": "N", "app_code_name": "schemaapp", "app_type": "import_clients", "redirect_uri": "https://example.com/cb"}
    created = client.post("/platform/v1/apps", json=body, headers=platform.headers)
    assert created.status_code == 201
    assert_matches(spec, "post", "/platform/v1/apps", 201, created.json())
    assert "client_secret" in created.json()["data"]
    for path, method, status in [
        ("/platform/v1/apps", "get", 200),
        ("/platform/v1/apps/schemaapp", "get", 200),
        ("/platform/v1/apps/schemaapp/credentials", "post", 200),
    ]:
        response = client.request(method, path, headers=platform.headers)
        assert response.status_code == status, response.text
        assert_matches(spec, method, path.replace("schemaapp", "{app_code_name}"), status, response.json())
    # the secret is shown only when it is issued
    assert "client_secret" not in client.get("/platform/v1/apps/schemaapp", headers=platform.headers).json()["data"]

    assigned = client.post(
        "/v3/apps/app_assignments", json={"app_code_name": "schemaapp", "assignee_uid": tenant.code}, headers=platform.headers
    )
    assert assigned.status_code == 201
    assert_matches(spec, "post", "/v3/apps/app_assignments", 201, assigned.json())
    uid = assigned.json()["data"]["uid"]
    listed = client.get("/v3/apps/app_assignments", headers=tenant.headers)
    assert_matches(spec, "get", "/v3/apps/app_assignments", 200, listed.json())
    assert listed.json()["pageSize"] == 50
    one = client.get(f"/v3/apps/app_assignments/{uid}", headers=platform.headers)
    assert_matches(spec, "get", "/v3/apps/app_assignments/{uid}", 200, one.json())
    deleted = client.delete(f"/v3/apps/app_assignments/{uid}", headers=platform.headers)
    assert (deleted.status_code, deleted.content) == (204, b"")


def test_import_answers_match_their_schema(client: TestClient, spec: dict[str, Any], platform: Key, tenant: TenantInfo) -> None:
    partner = register(client, platform)
    assign(client, platform.headers, partner, tenant.code)
    items = [JOHN, {"first_name": "X", "emial": "x@example.com"}, 5, {"first_name": "NoMail"}]
    done = push(client, partner, partner.acting_for(tenant.code), items, upload_type="bulk")
    assert done.status_code == 201, done.text
    assert_matches(spec, "post", "/business/clients/v1/apps/{app_code_name}/import", 201, done.json())
    status = client.get(done.headers["location"], headers=partner.acting_for(tenant.code))
    assert status.status_code == 200
    assert_matches(spec, "get", "/business/clients/v1/apps/{app_code_name}/imports/{job_id}", 200, status.json())
    # the status endpoint answers the 201's body: nothing added (no ``rows``), nothing dropped
    assert status.json() == done.json()
    assert status.json()["data"][1]["errors"] == [
        {"field": "emial", "message": done.json()["data"][1]["errors"][0]["message"], "code": "unknown", "row": 1}
    ]

    # answered at once (``Prefer: respond-async``): 202 with the job so far
    waiting = client.post(
        partner.import_path,
        json={"import_params": {}, "fields_mapping": JOHN},
        headers={**partner.acting_for(tenant.code), "Prefer": "respond-async"},
    )
    assert waiting.status_code == 202, waiting.text
    assert_matches(spec, "post", "/business/clients/v1/apps/{app_code_name}/import", 202, waiting.json())
    later = client.get(waiting.headers["location"], headers=partner.acting_for(tenant.code))
    assert_matches(spec, "get", "/business/clients/v1/apps/{app_code_name}/imports/{job_id}", 200, later.json())
