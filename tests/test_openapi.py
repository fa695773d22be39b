"""The OpenAPI description: valid, every error answer documented as problem details, one
short operationId per operation, and the documented error bodies are the ones sent."""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openapi_spec_validator import validate

from clientdock.app import create_app
from clientdock.db import Database
from clientdock.problems import PROBLEM, Problem, ProblemError
from clientdock.settings import Settings
from tests.conftest import TenantInfo

METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
PUBLIC = {"healthz", "import_template", "connection_callback"}  # the operations that need no API key (the callback: its state)
PROBLEM_CONTENT = {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}

Operation = tuple[str, str, dict[str, Any]]


@pytest.fixture(scope="module")
def spec() -> Iterator[dict[str, Any]]:
    """``/openapi.json`` of an app on an (empty) SQLite file: describing the API reads no table."""
    directory = Path(tempfile.mkdtemp(prefix="clientdock-openapi-"))
    url = f"sqlite:///{directory / 'openapi.db'}"
    database = Database(url)
    try:
        app = create_app(Settings(data_dir=directory / "data", database_url=url), database)
        response = TestClient(app).get("/openapi.json")  # no lifespan: the job engine stays off
        assert response.status_code == 200
        yield response.json()
    finally:
        database.dispose()
        shutil.rmtree(directory, ignore_errors=True)


def operations(spec: dict[str, Any]) -> list[Operation]:
    return [(method, path, op) for path, item in spec["paths"].items() for method, op in item.items() if method in METHODS]


def test_the_description_is_valid_openapi(spec: dict[str, Any]) -> None:
    validate(spec)


def test_operation_ids_are_unique_function_names(spec: dict[str, Any]) -> None:
    ids: dict[str, list[str]] = {}
    for method, path, op in operations(spec):
        ids.setdefault(op["operationId"], []).append(f"{method.upper()} {path}")
    duplicates = {op_id: where for op_id, where in ids.items() if len(where) > 1}
    assert duplicates == {}, f"rename the route functions: {duplicates}"
    assert [op_id for op_id in ids if not re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", op_id)] == []


def test_every_link_leads_to_an_operation_and_fills_its_path(spec: dict[str, Any]) -> None:
    by_id = {op["operationId"]: (path, op) for _method, path, op in operations(spec)}
    linked = 0
    for _method, _path, op in operations(spec):
        for status, response in op["responses"].items():
            for name, link in response.get("links", {}).items():
                linked += 1
                target_path, target = by_id[link["operationId"]]
                needed = {p["name"] for p in target.get("parameters", []) if p["in"] == "path"}
                assert set(link["parameters"]) == needed, (op["operationId"], status, name)
                # what fills the target's id is in the answer's documented body
                body = response["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
                assert "id" in spec["components"]["schemas"][body]["properties"], (op["operationId"], body)
                assert target_path.count("{") == len(needed)
    assert linked >= 30


def test_every_error_answer_is_a_problem(spec: dict[str, Any]) -> None:
    assert "HTTPValidationError" not in str(spec)
    assert {"HTTPValidationError", "ValidationError"} & set(spec["components"]["schemas"]) == set()
    for method, path, op in operations(spec):
        for status, response in op["responses"].items():
            if int(status) >= 400:
                assert response.get("content") == PROBLEM_CONTENT, f"{method.upper()} {path} {status}"
                assert response.get("description"), f"{method.upper()} {path} {status}"


def test_each_operation_lists_the_errors_it_can_answer(spec: dict[str, Any]) -> None:
    seen_public = set()
    for method, path, op in operations(spec):
        where = f"{method.upper()} {path} ({op['operationId']})"
        errors = {int(status) for status in op["responses"] if int(status) >= 400}
        if op["operationId"] in PUBLIC:
            seen_public.add(op["operationId"])
            assert errors.isdisjoint({401, 403}), where
            continue
        expected = {400, 401, 403, 503}  # 503: the database too busy (clientdock.problems, tests/test_database_busy.py)
        if "{" in path:
            expected.add(404)
        if method == "post":  # Idempotency-Key: still in flight (409), reused with another body (422)
            expected |= {409, 422}
        assert expected <= errors, f"{where}: {sorted(expected - errors)} missing"
        # 502: only the operations that call an outside service (tests/connections/test_bad_gateway.py).
        assert errors <= {400, 401, 403, 404, 409, 413, 415, 422, 429, 502, 503}, where
    assert seen_public == PUBLIC


def test_the_problem_schema_is_the_problem_model(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    assert set(schemas["Problem"]["properties"]) == {field.alias or name for name, field in Problem.model_fields.items()}
    assert set(schemas["Problem"]["required"]) == {"type", "title", "status", "detail", "errors"}
    assert set(schemas["ProblemError"]["properties"]) == {"field", "message", "code", "row"}
    assert set(schemas["ProblemError"]["required"]) == {"field", "message", "code"}
    assert set(ProblemError.model_fields) == set(schemas["ProblemError"]["properties"])


def test_the_error_bodies_sent_are_the_documented_problems(client: TestClient, tenant: TenantInfo, other_tenant: TenantInfo) -> None:
    """Real answers of the app on a real database: each status is documented for its
    operation, and each body has exactly the keys of the Problem schema."""
    spec = client.get("/openapi.json").json()
    keyed = tenant.headers
    groups = tenant.path("/client-groups")
    once = {**keyed, "Idempotency-Key": "k1"}
    assert client.post(groups, json={"name": "Audit"}, headers=once).status_code == 201
    answers = [
        ("get", "/tenants/{tenant}/clients", 401, client.get(tenant.path("/clients"))),
        ("get", "/tenants/{tenant}/clients", 401, client.get(tenant.path("/clients"), headers={"X-API-Key": "nope"})),
        ("get", "/tenants/{tenant}/clients", 403, client.get(other_tenant.path("/clients"), headers=keyed)),
        ("get", "/tenants/{tenant}/clients", 400, client.get(tenant.path("/clients"), params={"pageSize": "many"}, headers=keyed)),
        ("get", "/tenants/{tenant}/clients/{client_id}", 404, client.get(tenant.path("/clients/0f0e0d0c"), headers=keyed)),
        ("post", "/tenants/{tenant}/clients", 400, client.post(tenant.path("/clients"), content=b"{", headers=keyed)),
        ("post", "/tenants/{tenant}/client-groups", 409, client.post(groups, json={"name": "Audit"}, headers=keyed)),
        ("post", "/tenants/{tenant}/client-groups", 422, client.post(groups, json={"name": "Tax"}, headers=once)),
    ]
    problem = spec["components"]["schemas"]["Problem"]
    located = spec["components"]["schemas"]["ProblemError"]
    for method, path, status, response in answers:
        where = f"{method.upper()} {path} -> {response.status_code} {response.text[:300]}"
        assert response.status_code == status, where
        assert str(status) in spec["paths"][path][method]["responses"], where
        assert response.headers["content-type"] == PROBLEM, where
        body = response.json()
        assert set(problem["required"]) <= set(body) <= set(problem["properties"]), where
        assert Problem.model_validate(body).status == status, where
        for error in body["errors"]:
            assert set(located["required"]) <= set(error) <= set(located["properties"]), where
    assert any(error["field"] for _, _, _, response in answers for error in response.json()["errors"])
