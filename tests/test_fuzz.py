"""Fuzz every operation of the OpenAPI description with schemathesis, on SQLite and (when
CLIENTDOCK_TEST_POSTGRES_URL is set) on PostgreSQL.

Every answer must keep the contract the description states (the checks in ``CHECKS``): no
server error; a status the operation documents; the documented media type (problem details
are ``application/problem+json``); a body valid against the documented schema; documented
headers well formed. A failure is a bug of the app or of its description, never of this test.

Bounded and reproducible (docs/reliability.md, "API fuzzing", has the command and its time):
a fixed seed, derandomised generation, no example database (nothing replayed from earlier
runs), ``MAX_EXAMPLES`` generated cases per operation in the fuzzing phase, plus the schema's
explicit examples and the coverage phase (boundary and malformed values, deterministic).

Each operation is called with the credential it is meant for (``CREDENTIALS``), so the fuzzer
reaches the handler rather than stopping at 401/403; the path's tenant and app are the ones
the fixture created, the rest of the request is generated. The description is read from an
app object without starting it; the requests go through a TestClient on a database of their
own (a SQLite file, or a PostgreSQL database made from the suite's template and dropped after).
"""

from __future__ import annotations

import copy
import json
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.routing import Mount

from clientdock.app import create_app
from clientdock.db import Database
from clientdock.settings import Settings
from clientdock.web.routing import PageRoute
from tests.apps.helpers import assign, platform_key, register
from tests.conftest import BACKENDS, TenantInfo, make_tenant, new_database_url, pg_drop

SEED = 17
MAX_EXAMPLES = 50
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance, response_headers_conformance]

#: Which credential each operation is called with, by path prefix (the longest match wins).
#: "tenant": the fixture tenant's key, all scopes (tenant routes, the seed paths whose tenant
#: is the key's, and the partner-app door called with the business's own key);
#: "platform": the platform credential (partner apps, assignments, the operators' views).
CREDENTIALS = {
    "/tenants/": "tenant",
    "/users/": "tenant",
    "/business/clients/v1/apps/": "tenant",
    "/platform/v1/apps": "platform",
    "/v3/apps/app_assignments": "platform",
    "/admin/": "platform",
    "/connections/": "public",  # the OAuth callback: its `state` is the credential
    "/healthz": "public",
}

#: Routes the app serves that are not in the OpenAPI description, hence not fuzzed, and why.
NOT_DESCRIBED = {
    "GET /openapi.json": "FastAPI's own: the description itself",
    "GET /docs": "FastAPI's own: Swagger UI page",
    "GET /docs/oauth2-redirect": "FastAPI's own: Swagger UI page",
    "GET /redoc": "FastAPI's own: ReDoc page",
    "PUT /tenants/{tenant}/settings": "an undocumented alias of PATCH /tenants/{tenant}/settings (the same function), which is fuzzed",
}
#: Whole kinds of routes left out, and why.
NOT_DESCRIBED_KINDS = {
    PageRoute: "the web pages: HTML behind a session cookie and CSRF token, not part of the API contract (tests/web drives them)",
    Mount: "static files of the web pages",
}


def _description() -> dict[str, Any]:
    """The OpenAPI description, from an app object that is never started (its lifespan would
    launch the job engine) on a throwaway directory."""
    directory = Path(tempfile.mkdtemp(prefix="clientdock-fuzz-"))
    url = f"sqlite:///{directory / 'describe.db'}"
    database = Database(url)
    try:
        return create_app(Settings(data_dir=directory / "data", database_url=url), database).openapi()
    finally:
        database.dispose()
        shutil.rmtree(directory, ignore_errors=True)


DESCRIPTION = _description()
CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": SEED,
        "suppress-health-check": ["all"],
        "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
        "phases": {"stateful": {"enabled": False}},
    }
)
schema = schemathesis.openapi.from_dict(copy.deepcopy(DESCRIPTION), config=CONFIG)


@dataclass(frozen=True)
class Target:
    client: TestClient
    tenant: TenantInfo
    platform_key: str
    app_code: str

    def key_for(self, path: str) -> str | None:
        kind = credential_of(path)
        return {"tenant": self.tenant.key, "platform": self.platform_key}.get(kind)


def credential_of(path: str) -> str:
    matches = [prefix for prefix in CREDENTIALS if path.startswith(prefix)]
    assert matches, f"{path}: add its credential to CREDENTIALS"
    return CREDENTIALS[max(matches, key=len)]


@pytest.fixture(scope="module", params=BACKENDS)
def target(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    """The app on its own fresh database with a tenant, a platform key, and an import_clients
    app assigned to the tenant (so the partner-app door answers past its access checks)."""
    backend = str(request.param)
    directory = tmp_path_factory.mktemp(f"fuzz-{backend}")
    url, pg_name = new_database_url(backend, directory, request)
    database = Database(url)
    try:
        tenant = make_tenant(database, code="fuzz")
        platform = platform_key(database)
        app = create_app(Settings(data_dir=directory / "data", database_url=url, sync_wait_seconds=1), database)
        with TestClient(app, raise_server_exceptions=False) as client:
            partner = register(client, platform, app_code_name="fuzzapp")
            assign(client, platform.headers, partner, tenant.code)
            yield Target(client, tenant, platform.key, partner.code)
    finally:
        database.dispose()
        if pg_name:
            pg_drop(pg_name)


def sendable(kwargs: dict[str, Any]) -> dict[str, Any]:
    """A multipart part generated as a number or null is sent as its text, as an HTTP form
    would send it (httpx can only render text and bytes, and fails mid-request otherwise)."""
    if kwargs.get("files"):
        kwargs["files"] = [
            (name, (part[0], part[1] if isinstance(part[1], str | bytes) else json.dumps(part[1]), *part[2:]))
            for name, part in kwargs["files"]
        ]
    return kwargs


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_every_answer_keeps_the_documented_contract(case: Any, target: Target) -> None:
    path_parameters = case.path_parameters or {}
    if "tenant" in path_parameters:
        path_parameters["tenant"] = target.tenant.code
    if "app_code_name" in path_parameters:
        path_parameters["app_code_name"] = target.app_code
    key = target.key_for(case.path)
    headers = {"X-API-Key": key} if key else {}
    kwargs = sendable(case.as_transport_kwargs(base_url="http://testserver", headers=headers))
    response = target.client.request(**kwargs, follow_redirects=False)  # a 303/307 is itself the documented answer
    response.request.read()  # a streamed body (a multipart upload) is kept for the failure report
    case.validate_response(response, checks=CHECKS, headers=kwargs.get("headers"))


def test_every_operation_has_a_credential() -> None:
    operations = [(path, method) for path, item in DESCRIPTION["paths"].items() for method in item]
    assert operations
    for path, _method in operations:
        assert credential_of(path) in {"tenant", "platform", "public"}


def test_every_route_is_fuzzed_or_says_why_not() -> None:
    """A route the app serves is in the description (so the fuzz test calls it) or is listed
    in NOT_DESCRIBED / NOT_DESCRIBED_KINDS with the reason."""
    directory = Path(tempfile.mkdtemp(prefix="clientdock-fuzz-"))
    url = f"sqlite:///{directory / 'routes.db'}"
    database = Database(url)
    try:
        app = create_app(Settings(data_dir=directory / "data", database_url=url), database)
        described = {f"{method.upper()} {path}" for path, item in DESCRIPTION["paths"].items() for method in item}
        left_out = set()
        for context in iter_route_contexts(app.routes):
            route = context.original_route
            if isinstance(route, tuple(NOT_DESCRIBED_KINDS)):
                continue
            for method in sorted(set(context.methods or ()) - {"HEAD"}):
                name = f"{method} {context.path_format}"
                if name not in described:
                    left_out.add(name)
        assert left_out == set(NOT_DESCRIBED), "describe the route, or say in NOT_DESCRIBED why it is not fuzzed"
    finally:
        database.dispose()
        shutil.rmtree(directory, ignore_errors=True)
