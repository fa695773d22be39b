"""Connections end to end: the OAuth round trip against the fake platforms, the listing,
disconnecting, and the S0 import from a connection through the job engine."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from clientdock.connections.models import Connection
from clientdock.db import Database
from tests.conftest import TenantInfo
from tests.contract import assert_documented
from tests.fakes.base import RecordedRequest
from tests.fakes.clock import FakeClock
from tests.fakes.quickbooks import QuickBooksFake
from tests.fakes.xero import XeroFake
from tests.imports.helpers import finished, wait_until

IMPORT = "/clients/import/from-connection"


def authorize(client: TestClient, tenant: TenantInfo, provider: str) -> str:
    response = client.get(tenant.path(f"/connections/{provider}/authorize"), headers=tenant.headers, follow_redirects=False)
    assert response.status_code == 307, response.text
    return response.headers["location"]


def consent(client: TestClient, location: str) -> httpx.Response:
    """The browser at the platform's consent page, then back at our callback."""
    at_platform = httpx.get(location, follow_redirects=False)
    assert at_platform.status_code == 302, at_platform.text
    back = urlsplit(at_platform.headers["location"])
    return client.get(f"{back.path}?{back.query}", follow_redirects=False)  # type: ignore[return-value]


def connect(client: TestClient, tenant: TenantInfo, provider: str) -> list[dict[str, Any]]:
    answer = consent(client, authorize(client, tenant, provider))
    assert answer.status_code == 201, answer.text
    connections: list[dict[str, Any]] = answer.json()["connections"]
    return connections


def form(recorded: RecordedRequest) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(recorded.body).items()}


def import_from(client: TestClient, tenant: TenantInfo, code: str, *, body: Any = None, **params: str) -> httpx.Response:
    query = {"connectionCode": code, **params}
    return client.post(tenant.path(IMPORT), params=query, json=body, headers=tenant.headers)  # type: ignore[return-value]


# --- connecting ------------------------------------------------------------------------------


def test_authorize_redirects_to_the_platform_with_pkce_and_a_state(client: TestClient, tenant: TenantInfo, xero: XeroFake) -> None:
    location = authorize(client, tenant, "xero")
    url = urlsplit(location)
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert location.startswith(f"{xero.base_url}/identity/connect/authorize?")
    assert query["client_id"] == xero.oauth.client_id
    assert query["response_type"] == "code"
    assert query["redirect_uri"] == "http://testserver/connections/xero/callback"
    assert query["scope"].split() == ["offline_access", "accounting.contacts.read"]
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43
    assert len(query["state"]) >= 32
    assert query["state"] != parse_qs(urlsplit(authorize(client, tenant, "xero")).query)["state"][0]


def test_quickbooks_asks_for_the_accounting_scope(client: TestClient, tenant: TenantInfo, quickbooks: QuickBooksFake) -> None:
    query = parse_qs(urlsplit(authorize(client, tenant, "quickbooks")).query)
    assert query["scope"] == ["com.intuit.quickbooks.accounting"]
    assert query["redirect_uri"] == ["http://testserver/connections/quickbooks/callback"]


def test_authorize_needs_the_tenants_own_key(client: TestClient, tenant: TenantInfo, other_tenant: TenantInfo) -> None:
    path = tenant.path("/connections/xero/authorize")
    assert client.get(path, follow_redirects=False).status_code == 401
    assert client.get(path, headers=other_tenant.headers, follow_redirects=False).status_code == 403


def test_an_unknown_or_unconfigured_provider_is_400(client: TestClient, tenant: TenantInfo, app: Any) -> None:
    response = client.get(tenant.path("/connections/sage/authorize"), headers=tenant.headers, follow_redirects=False)
    assert response.status_code == 400
    assert "xero or quickbooks" in response.json()["detail"]
    app.state.settings.xero_client_id = None
    response = client.get(tenant.path("/connections/xero/authorize"), headers=tenant.headers, follow_redirects=False)
    assert response.status_code == 400
    assert "not configured" in response.json()["detail"]


def test_the_callback_creates_one_connection_per_organisation(
    client: TestClient, tenant: TenantInfo, xero: XeroFake, database: Database
) -> None:
    first, second = xero.add_tenant("Hopper Computing"), xero.add_tenant("Lovelace Analytics")
    connections = connect(client, tenant, "xero")
    assert sorted((c["organisationId"], c["organisationName"]) for c in connections) == sorted(
        [(first, "Hopper Computing"), (second, "Lovelace Analytics")]
    )
    assert all(c["code"].startswith("xero-") and len(c["code"]) == 11 for c in connections)
    listed = client.get(tenant.path("/connections"), headers=tenant.headers).json()
    assert listed["total"] == 2
    assert {c["status"] for c in listed["items"]} == {"active"}
    assert form(xero.recorded("token")[-1]).get("code_verifier")
    with database.session() as session:
        rows = list(session.scalars(select(Connection)))
    for row in rows:
        assert row.tokens
        assert "access_token" not in row.tokens
        assert row.tokens.startswith("gAAAA")
    assert "token" not in str(listed).lower().replace("tokenexpires", "")


def test_connecting_again_renews_the_same_connection(client: TestClient, tenant: TenantInfo, xero: XeroFake) -> None:
    xero.add_tenant("Hopper Computing")
    (first,) = connect(client, tenant, "xero")
    (again,) = connect(client, tenant, "xero")
    assert again["code"] == first["code"]


def test_a_quickbooks_connection_is_its_realm(client: TestClient, tenant: TenantInfo, quickbooks: QuickBooksFake) -> None:
    realm = quickbooks.add_company("Craig's Design")
    (connection,) = connect(client, tenant, "quickbooks")
    assert (connection["provider"], connection["organisationId"], connection["organisationName"]) == ("quickbooks", realm, "Craig's Design")


def test_a_forged_or_replayed_state_creates_nothing(client: TestClient, tenant: TenantInfo, xero: XeroFake) -> None:
    xero.add_tenant()
    at_platform = httpx.get(authorize(client, tenant, "xero"), follow_redirects=False)
    back = urlsplit(at_platform.headers["location"])
    code = parse_qs(back.query)["code"][0]
    forged = client.get(f"{back.path}?code={code}&state=not-ours", follow_redirects=False)
    assert forged.status_code == 400
    assert forged.json()["title"] == "Invalid OAuth state"
    assert client.get(f"{back.path}?{back.query}").status_code == 201
    replayed = client.get(f"{back.path}?{back.query}", follow_redirects=False)
    assert replayed.status_code == 400
    assert "already used" in replayed.json()["detail"]
    assert client.get(tenant.path("/connections"), headers=tenant.headers).json()["total"] == 1
    assert len(xero.recorded("token")) == 1


def test_consent_denied_at_the_platform_creates_nothing(client: TestClient, tenant: TenantInfo, xero: XeroFake) -> None:
    xero.add_tenant()
    xero.oauth.deny = True
    answer = consent(client, authorize(client, tenant, "xero"))
    assert answer.status_code == 400
    assert "did not grant access" in answer.json()["detail"]
    assert client.get(tenant.path("/connections"), headers=tenant.headers).json()["total"] == 0
    assert xero.recorded("token") == []


def test_disconnecting_revokes_at_the_platform(client: TestClient, tenant: TenantInfo, xero: XeroFake) -> None:
    xero.add_tenant()
    (connection,) = connect(client, tenant, "xero")
    assert client.delete(tenant.path(f"/connections/{connection['code']}"), headers=tenant.headers).status_code == 204
    assert len(xero.recorded("revocation")) == 1
    (listed,) = client.get(tenant.path("/connections"), headers=tenant.headers).json()["items"]
    assert listed["status"] == "disconnected"
    refused = import_from(client, tenant, connection["code"], importAll="true")
    assert refused.status_code == 409
    search = client.get(tenant.path(f"/connections/{connection['code']}/contacts"), headers=tenant.headers)
    assert search.status_code == 409
    assert_documented(client, search, "GET", "/tenants/{tenant}/connections/{code}/contacts")  # the 409 was not in the description


def test_another_tenants_connection_is_not_found(client: TestClient, tenant: TenantInfo, other_tenant: TenantInfo, xero: XeroFake) -> None:
    xero.add_tenant()
    (connection,) = connect(client, tenant, "xero")
    assert client.delete(other_tenant.path(f"/connections/{connection['code']}"), headers=other_tenant.headers).status_code == 404
    assert import_from(client, other_tenant, connection["code"], importAll="true").status_code == 404


# --- importing -------------------------------------------------------------------------------


@pytest.fixture
def xero_connection(client: TestClient, tenant: TenantInfo, xero: XeroFake) -> tuple[str, str]:
    organisation = xero.add_tenant("Hopper Computing")
    (connection,) = connect(client, tenant, "xero")
    return str(connection["code"]), organisation


def test_import_all_brings_every_contact_in_and_again_changes_nothing(
    client: TestClient, tenant: TenantInfo, xero: XeroFake, xero_connection: tuple[str, str]
) -> None:
    code, organisation = xero_connection
    contacts = xero.generate_contacts(organisation, 120)
    response = import_from(client, tenant, code, importAll="true")
    assert response.status_code == 201, response.text
    job = response.json()
    assert (job["door"], job["status"], job["progress"]["total"]) == ("connection", "succeeded", 120)
    assert job["counts"]["created"] + job["counts"]["failed"] == 120
    assert job["counts"]["failed"] == 0, [r["messages"] for r in job["rows"]["items"] if r["action"] == "failed"]

    listed = client.get(tenant.path("/clients"), params={"pageSize": 500}, headers=tenant.headers).json()
    assert listed["total"] == 120
    refs = {r["externalId"] for c in listed["items"] for r in c["externalRefs"] if r["source"] == code}
    assert refs == {c["ContactID"] for c in contacts}
    archived = {c["ContactID"] for c in contacts if c.get("ContactStatus") == "ARCHIVED"}
    inactive = {r["externalId"] for c in listed["items"] if not c["active"] for r in c["externalRefs"]}
    assert inactive == archived

    again = import_from(client, tenant, code, importAll="true").json()
    assert again["counts"] == {"created": 0, "updated": 0, "unchanged": 120, "skipped": 0, "failed": 0}
    (item,) = [c for c in client.get(tenant.path("/connections"), headers=tenant.headers).json()["items"]]
    assert item["lastImportId"] == again["id"]
    assert item["lastImportedAt"]


def test_import_by_ids_names_the_ids_the_platform_lacks(
    client: TestClient, tenant: TenantInfo, xero: XeroFake, xero_connection: tuple[str, str]
) -> None:
    code, organisation = xero_connection
    contacts = xero.generate_contacts(organisation, 5)
    wanted = [contacts[0]["ContactID"], contacts[3]["ContactID"], "00000000-0000-0000-0000-000000000000"]
    response = import_from(client, tenant, code, body={"externalIds": wanted})
    assert response.status_code == 201, response.text
    job = response.json()
    assert job["counts"]["created"] == 2
    assert job["counts"]["failed"] == 1
    (failed,) = [r for r in job["rows"]["items"] if r["action"] == "failed"]
    assert "00000000-0000-0000-0000-000000000000" in failed["messages"][0]
    assert len(xero.recorded("contacts")) == 1  # one call with the ids filter


def test_since_last_asks_only_for_what_changed(
    client: TestClient, tenant: TenantInfo, xero: XeroFake, clock: FakeClock, xero_connection: tuple[str, str]
) -> None:
    code, organisation = xero_connection
    contacts = xero.generate_contacts(organisation, 10)
    assert import_from(client, tenant, code, importAll="true").json()["counts"]["created"] == 10
    clock.advance(120)
    xero.touch(organisation, contacts[2]["ContactID"], EmailAddress="changed@hopper.example")
    job = import_from(client, tenant, code, importAll="true", since="last").json()
    assert job["progress"]["total"] == 1
    assert job["counts"]["updated"] == 1
    assert xero.recorded("contacts")[-1].headers.get("if-modified-since")


@pytest.mark.parametrize(
    ("params", "body", "field"),
    [
        ({}, None, "connectionCode"),
        ({"connectionCode": "xero-000000", "importAll": "maybe"}, None, "importAll"),
        ({"connectionCode": "xero-000000"}, None, "externalIds"),
        ({"connectionCode": "xero-000000"}, {"externalIds": []}, "externalIds"),
        ({"connectionCode": "xero-000000"}, {"externalIds": [""]}, "externalIds[0]"),
        ({"connectionCode": "xero-000000", "importAll": "true", "since": "yesterday"}, None, "since"),
    ],
)
def test_a_bad_request_is_400_naming_the_field_and_calls_nobody(
    client: TestClient, tenant: TenantInfo, xero: XeroFake, params: dict[str, str], body: Any, field: str
) -> None:
    response = client.post(tenant.path(IMPORT), params=params, json=body, headers=tenant.headers)
    assert response.status_code == 400, response.text
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert xero.total_calls() == 0


def test_an_unknown_connection_is_404_and_calls_nobody(client: TestClient, tenant: TenantInfo, xero: XeroFake) -> None:
    response = import_from(client, tenant, "xero-ffffff", importAll="true")
    assert response.status_code == 404
    assert xero.total_calls() == 0


def test_the_import_needs_a_key(client: TestClient, tenant: TenantInfo, other_tenant: TenantInfo) -> None:
    path = tenant.path(IMPORT) + "?connectionCode=x&importAll=true"
    assert client.post(path).status_code == 401
    assert client.post(path, headers=other_tenant.headers).status_code == 403


def test_a_slow_platform_gets_the_202_answer(
    client: TestClient, tenant: TenantInfo, xero: XeroFake, database: Database, xero_connection: tuple[str, str]
) -> None:
    code, organisation = xero_connection
    xero.generate_contacts(organisation, 3)
    xero.slow_next(1, 3.0, endpoint="contacts")
    response = client.post(
        tenant.path(IMPORT), params={"connectionCode": code, "importAll": "true"}, headers={**tenant.headers, "Prefer": "wait=1"}
    )
    assert response.status_code == 202
    assert response.headers["location"] == tenant.path(f"/imports/{response.json()['id']}")
    job = wait_until(database, response.json()["id"], finished)
    assert (job.status, job.created) == ("succeeded", 3)


def test_an_expired_access_token_is_refreshed_and_the_new_one_kept(
    client: TestClient, tenant: TenantInfo, xero: XeroFake, clock: FakeClock, database: Database, xero_connection: tuple[str, str]
) -> None:
    code, organisation = xero_connection
    xero.generate_contacts(organisation, 4)
    with database.session() as session:
        before = session.scalars(select(Connection.tokens)).one()
    clock.advance(3600)
    response = import_from(client, tenant, code, importAll="true")
    assert response.json()["counts"]["created"] == 4
    assert form(xero.recorded("token")[-1])["grant_type"] == "refresh_token"
    with database.session() as session:
        assert session.scalars(select(Connection.tokens)).one() != before


def test_a_throttled_platform_is_waited_for(
    client: TestClient, tenant: TenantInfo, xero: XeroFake, xero_connection: tuple[str, str]
) -> None:
    code, organisation = xero_connection
    xero.generate_contacts(organisation, 3)
    xero.throttle_next(1, retry_after=1, endpoint="contacts")
    xero.fail_next(1, status=503, endpoint="contacts")
    job = import_from(client, tenant, code, importAll="true").json()
    assert (job["status"], job["counts"]["created"]) == ("succeeded", 3)
    assert xero.count_status(429, "contacts") == 1
    assert xero.count_status(503, "contacts") == 1


def test_quickbooks_customers_come_in(client: TestClient, tenant: TenantInfo, quickbooks: QuickBooksFake) -> None:
    realm = quickbooks.add_company("Craig's Design")
    customers = quickbooks.generate_customers(realm, 30)
    (connection,) = connect(client, tenant, "quickbooks")
    job = import_from(client, tenant, connection["code"], importAll="true").json()
    assert job["status"] == "succeeded", job
    assert job["counts"]["created"] == len(customers), [r["messages"] for r in job["rows"]["items"] if r["action"] == "failed"]


def test_the_platforms_contacts_can_be_searched_to_pick_some(
    client: TestClient, tenant: TenantInfo, xero: XeroFake, xero_connection: tuple[str, str]
) -> None:
    code, organisation = xero_connection
    xero.generate_contacts(organisation, 20)
    (quill,) = xero.add_contacts(organisation, [{"Name": "Zebedee Quill Ltd", "EmailAddress": "zq@quill.example"}])
    found = client.get(tenant.path(f"/connections/{code}/contacts"), params={"search": "quill"}, headers=tenant.headers).json()
    assert found["items"] == [{"externalId": quill["ContactID"], "name": "Zebedee Quill Ltd", "email": "zq@quill.example", "active": True}]
    every = client.get(tenant.path(f"/connections/{code}/contacts"), params={"limit": 5}, headers=tenant.headers).json()
    assert every["total"] == 5
    assert client.get(tenant.path("/connections/xero-ffffff/contacts"), headers=tenant.headers).status_code == 404
    too_long = client.get(tenant.path(f"/connections/{code}/contacts"), params={"search": "x" * 101}, headers=tenant.headers)
    assert too_long.status_code == 400


def test_quickbooks_customers_can_be_searched(client: TestClient, tenant: TenantInfo, quickbooks: QuickBooksFake) -> None:
    realm = quickbooks.add_company("Craig's Design")
    quickbooks.seed_examples(realm)
    (connection,) = connect(client, tenant, "quickbooks")
    found = client.get(tenant.path(f"/connections/{connection['code']}/contacts"), params={"search": "windsurf"}, headers=tenant.headers)
    assert found.status_code == 200, found.text
    assert [c["name"] for c in found.json()["items"]] == ["Bill's Windsurf Shop"]


def test_organisations_of_one_grant_share_its_rotating_refresh_token(
    client: TestClient, tenant: TenantInfo, xero: XeroFake, clock: FakeClock
) -> None:
    first, second = xero.add_tenant("Hopper Computing"), xero.add_tenant("Lovelace Analytics")
    xero.generate_contacts(first, 3)
    xero.generate_contacts(second, 2, seed=7)
    by_org = {c["organisationId"]: c["code"] for c in connect(client, tenant, "xero")}
    clock.advance(3600)  # the access token has expired: the first import refreshes (the refresh token rotates)
    assert import_from(client, tenant, by_org[first], importAll="true").json()["counts"]["created"] == 3
    clock.advance(3 * 3600)  # long past the old refresh token's 30-minute grace
    second_import = import_from(client, tenant, by_org[second], importAll="true").json()
    assert (second_import["status"], second_import["counts"]["created"]) == ("succeeded", 2)

    assert client.delete(tenant.path(f"/connections/{by_org[first]}"), headers=tenant.headers).status_code == 204
    assert xero.recorded("revocation") == []  # the grant still serves the other organisation
    assert len(xero.recorded("connections.delete")) == 1
    again = import_from(client, tenant, by_org[second], importAll="true").json()
    assert (again["status"], again["counts"]["unchanged"]) == ("succeeded", 2)


def test_asking_a_connection_import_to_enrich_without_companies_house_is_400(
    client: TestClient, tenant: TenantInfo, xero: XeroFake, xero_connection: tuple[str, str]
) -> None:
    code, organisation = xero_connection
    xero.generate_contacts(organisation, 2)
    calls = xero.total_calls()
    response = import_from(client, tenant, code, importAll="true", enrichFromCompaniesHouse="true")
    assert response.status_code == 400
    assert "not configured" in response.json()["detail"]
    assert xero.total_calls() == calls
    bad = import_from(client, tenant, code, importAll="true", enrichFromCompaniesHouse="perhaps")
    assert [e["field"] for e in bad.json()["errors"]] == ["enrichFromCompaniesHouse"]
