"""A platform or the register failing while a request waits is a documented 502 (problem details).

Each route that calls Xero, QuickBooks Online or Companies House in the request is driven to
its 502 by a fake that fails every call (retries included); the answer must be one the OpenAPI
description documents (``tests/contract.py``). The description lists 502 on those routes only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from clientdock.settings import Settings
from tests.conftest import TenantInfo
from tests.connections.test_connections import authorize, connect
from tests.contract import assert_documented
from tests.fakes.base import FakePlatform
from tests.fakes.companies_house import CompaniesHouseFake
from tests.fakes.quickbooks import QuickBooksFake
from tests.fakes.xero import XeroFake

#: Every operation that calls an outside service while the request waits (method, path, operationId).
CALLS_OUTSIDE = {
    ("GET", "/connections/{provider}/callback", "connection_callback"),
    ("GET", "/tenants/{tenant}/connections/{code}/contacts", "search_connection_contacts"),
    ("POST", "/tenants/{tenant}/clients/{client_id}/enrich", "enrich_client"),
}
EVERY_CALL = 50  # more than the attempts of any call (CLIENTDOCK_PROVIDER_ATTEMPTS)


@pytest.fixture
def settings(tmp_path: Path, db_url: str, xero: XeroFake, quickbooks: QuickBooksFake, register: CompaniesHouseFake) -> Settings:
    return Settings(
        data_dir=tmp_path / "data", database_url=db_url, sync_wait_seconds=10, public_url="http://testserver",
        provider_backoff_seconds=0.01, provider_timeout_seconds=5, **xero.settings(), **quickbooks.settings(), **register.settings(),
    )  # fmt: skip


def give_an_organisation(fake: XeroFake | QuickBooksFake) -> None:
    """The platform has one organisation (a Xero tenant, a QuickBooks company) to connect to."""
    if isinstance(fake, QuickBooksFake):
        fake.add_company("Craig's Design")
    else:
        fake.add_tenant()


def assert_bad_gateway(client: TestClient, answer: Any, method: str, path: str, fake: FakePlatform) -> None:
    assert answer.status_code == 502, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["status"] == 502
    assert fake.total_calls() > 0  # the fake was asked, and failed
    assert_documented(client, answer, method, path)


@pytest.mark.parametrize("provider", ["xero", "quickbooks"])
def test_the_callback_is_a_documented_502_when_the_platform_fails_the_exchange(
    client: TestClient, tenant: TenantInfo, provider: str, request: pytest.FixtureRequest
) -> None:
    fake: XeroFake | QuickBooksFake = request.getfixturevalue(provider)
    give_an_organisation(fake)
    at_platform = httpx.get(authorize(client, tenant, provider), follow_redirects=False)
    back = urlsplit(at_platform.headers["location"])
    fake.fail_next(EVERY_CALL, status=500, endpoint="token")
    answer = client.get(f"{back.path}?{back.query}", follow_redirects=False)
    assert_bad_gateway(client, answer, "GET", "/connections/{provider}/callback", fake)
    assert client.get(tenant.path("/connections"), headers=tenant.headers).json()["total"] == 0


@pytest.mark.parametrize(("provider", "endpoint"), [("xero", "contacts"), ("quickbooks", "query")])
def test_searching_the_platforms_contacts_is_a_documented_502_when_it_fails(
    client: TestClient, tenant: TenantInfo, provider: str, endpoint: str, request: pytest.FixtureRequest
) -> None:
    fake: XeroFake | QuickBooksFake = request.getfixturevalue(provider)
    give_an_organisation(fake)
    (connection,) = connect(client, tenant, provider)
    fake.fail_next(EVERY_CALL, status=503, endpoint=endpoint)
    answer = client.get(tenant.path(f"/connections/{connection['code']}/contacts"), params={"search": "a"}, headers=tenant.headers)
    assert_bad_gateway(client, answer, "GET", "/tenants/{tenant}/connections/{code}/contacts", fake)


def test_enriching_a_client_is_a_documented_502_when_companies_house_fails(
    client: TestClient, tenant: TenantInfo, register: CompaniesHouseFake
) -> None:
    made = client.post(tenant.path("/clients"), json={"name": "Iwoca", "type": "ltd", "companyNumber": "7798925"}, headers=tenant.headers)
    assert made.status_code == 201, made.text
    register.fail_next(EVERY_CALL, status=500)
    answer = client.post(tenant.path(f"/clients/{made.json()['id']}/enrich"), headers=tenant.headers)
    assert_bad_gateway(client, answer, "POST", "/tenants/{tenant}/clients/{client_id}/enrich", register)


def test_only_the_operations_that_call_an_outside_service_document_502(client: TestClient) -> None:
    paths: dict[str, dict[str, Any]] = client.get("/openapi.json").json()["paths"]
    documenting = {
        (method.upper(), path, operation["operationId"])
        for path, operations in paths.items()
        for method, operation in operations.items()
        if "502" in operation.get("responses", {})
    }
    assert documenting == CALLS_OUTSIDE
    for method, path, _ in CALLS_OUTSIDE:
        documented = paths[path][method.lower()]["responses"]["502"]
        assert documented["content"] == {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
        assert documented["description"].startswith("Bad gateway: ")
