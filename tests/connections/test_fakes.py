"""The loopback fakes behave like the real platforms (FACTS.md section 5), checked with raw HTTP."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from tests.fakes.base import s256
from tests.fakes.clock import FakeClock
from tests.fakes.data import generate_qbo_customers, generate_xero_contacts
from tests.fakes.quickbooks import QueryError, QuickBooksFake, parse_query
from tests.fakes.xero import NOT_FOUND_TEXT, XeroFake, parse_xero_date

REDIRECT = "https://app.example/callback"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def xero(clock: FakeClock) -> Iterator[XeroFake]:
    fake = XeroFake(clock)
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def qbo(clock: FakeClock) -> Iterator[QuickBooksFake]:
    fake = QuickBooksFake(clock)
    fake.start()
    yield fake
    fake.stop()


def authorize_params(client_id: str, verifier: str, scope: str, **extra: str) -> dict[str, str]:
    return {
        "client_id": client_id,
        "response_type": "code",
        "redirect_uri": REDIRECT,
        "scope": scope,
        "state": "s-1",
        "code_challenge": s256(verifier),
        "code_challenge_method": "S256",
        **extra,
    }


def redirect_query(answer: httpx.Response) -> dict[str, str]:
    assert answer.status_code == 302, answer.text
    return {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["location"]).query).items()}


XERO_SCOPE = "offline_access accounting.contacts.read"
XERO_BASIC = ("xero-test-client", "xero-test-secret")


def xero_api(xero: XeroFake, token: str, tenant: str | None, path: str = "/api.xro/2.0/Contacts", **params: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    if tenant is not None:
        headers["xero-tenant-id"] = tenant
    return httpx.get(f"{xero.base_url}{path}", params=params, headers=headers)


# --- Xero OAuth ------------------------------------------------------------------------------------


def test_xero_consent_validates_the_request(xero: XeroFake) -> None:
    xero.add_tenant()
    url = f"{xero.base_url}/identity/connect/authorize"
    verifier = secrets.token_urlsafe(40)
    for bad in (
        {"client_id": "someone-else"},
        {"response_type": "token"},
        {"code_challenge_method": "plain"},
        {"scope": "accounting.contacts.read"},  # no offline_access
    ):
        answer = httpx.get(url, params={**authorize_params("xero-test-client", verifier, XERO_SCOPE), **bad})
        assert answer.status_code == 400, bad
    assert len(xero.oauth.authorize_requests) == 4
    assert xero.calls["authorize"] == 4

    xero.oauth.deny = True
    denied = redirect_query(httpx.get(url, params=authorize_params("xero-test-client", verifier, XERO_SCOPE)))
    assert denied == {"error": "access_denied", "state": "s-1"}


def test_xero_token_endpoint_code_once_pkce_and_client_auth(xero: XeroFake) -> None:
    xero.add_tenant()
    verifier = secrets.token_urlsafe(40)
    consent = httpx.get(f"{xero.base_url}/identity/connect/authorize", params=authorize_params("xero-test-client", verifier, XERO_SCOPE))
    code = redirect_query(consent)["code"]
    token_url = f"{xero.base_url}/connect/token"
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier}

    wrong_client = httpx.post(token_url, data=form, auth=("xero-test-client", "nope"))
    assert (wrong_client.status_code, wrong_client.json()) == (401, {"error": "invalid_client"})
    first = httpx.post(token_url, data=form, auth=XERO_BASIC)
    assert first.status_code == 200
    body = first.json()
    assert body["expires_in"] == 1800
    assert body["token_type"] == "Bearer"
    assert body["refresh_token"]
    again = httpx.post(token_url, data=form, auth=XERO_BASIC)
    assert (again.status_code, again.json()) == (400, {"error": "invalid_grant"})

    consent = httpx.get(f"{xero.base_url}/identity/connect/authorize", params=authorize_params("xero-test-client", verifier, XERO_SCOPE))
    bad_verifier = {**form, "code": redirect_query(consent)["code"], "code_verifier": secrets.token_urlsafe(40)}
    assert httpx.post(token_url, data=bad_verifier, auth=XERO_BASIC).json() == {"error": "invalid_grant"}


def test_xero_refresh_rotates_with_a_30_minute_grace(xero: XeroFake, clock: FakeClock) -> None:
    tenant = xero.add_tenant()
    issued = xero.issue_tokens([tenant])
    token_url = f"{xero.base_url}/connect/token"

    def refresh(token: str) -> httpx.Response:
        return httpx.post(token_url, data={"grant_type": "refresh_token", "refresh_token": token}, auth=XERO_BASIC)

    new = refresh(issued["refresh_token"]).json()
    assert new["refresh_token"] != issued["refresh_token"]
    clock.advance(29 * 60)
    assert refresh(issued["refresh_token"]).status_code == 200
    clock.advance(2 * 60)
    dead = refresh(issued["refresh_token"])
    assert (dead.status_code, dead.json()) == (400, {"error": "invalid_grant"})
    assert refresh(new["refresh_token"]).status_code == 200

    revoked = httpx.post(f"{xero.base_url}/connect/revocation", data={"token": new["refresh_token"]}, auth=XERO_BASIC)
    assert revoked.status_code == 200
    assert refresh(new["refresh_token"]).json() == {"error": "invalid_grant"}


def test_xero_connections_list_and_delete(xero: XeroFake) -> None:
    first, second = xero.add_tenant("One Ltd"), xero.add_tenant("Two LLP")
    token = xero.issue_tokens([first, second])["access_token"]
    listed = xero_api(xero, token, None, "/connections").json()
    assert {(c["tenantId"], c["tenantName"], c["tenantType"]) for c in listed} == {
        (first, "One Ltd", "ORGANISATION"),
        (second, "Two LLP", "ORGANISATION"),
    }
    assert set(listed[0]) == {"id", "authEventId", "tenantId", "tenantType", "tenantName", "createdDateUtc", "updatedDateUtc"}
    gone = next(c["id"] for c in listed if c["tenantId"] == first)
    assert httpx.delete(f"{xero.base_url}/connections/{gone}", headers={"Authorization": f"Bearer {token}"}).status_code == 204
    assert httpx.delete(f"{xero.base_url}/connections/{gone}", headers={"Authorization": f"Bearer {token}"}).status_code == 404
    assert xero_api(xero, token, first).status_code == 403
    assert xero_api(xero, token, second).status_code == 200


# --- Xero contacts ---------------------------------------------------------------------------------


def test_xero_auth_failures_have_the_real_bodies(xero: XeroFake, clock: FakeClock) -> None:
    tenant = xero.add_tenant()
    token = xero.issue_tokens([tenant])["access_token"]
    missing = xero_api(xero, token, None)
    assert missing.status_code == 403
    assert missing.json()["Detail"] == "AuthenticationUnsuccessful"
    assert xero_api(xero, token, "fe79f7dd-b6d4-4a92-ba7b-538af6289c58").status_code == 403
    clock.advance(1800)
    expired = xero_api(xero, token, tenant)
    assert expired.status_code == 401
    body = expired.json()
    assert body["Title"] == "Unauthorized"
    assert body["Status"] == 401
    assert re.fullmatch(r"TokenExpired: token expired at \d\d/\d\d/\d{4} \d\d:\d\d:\d\d", body["Detail"])
    assert set(body) == {"Type", "Title", "Status", "Detail", "Instance", "Extensions"}


def test_xero_paging_archived_ids_and_modified_since(xero: XeroFake, clock: FakeClock) -> None:
    tenant = xero.add_tenant()
    contacts = xero.generate_contacts(tenant, 250, seed=4)
    examples = xero.seed_examples(tenant)
    token = xero.issue_tokens([tenant])["access_token"]
    active = [c for c in [*contacts, *examples] if c["ContactStatus"] != "ARCHIVED"]

    first = xero_api(xero, token, tenant, page=1).json()
    assert set(first) >= {"Id", "Status", "ProviderName", "DateTimeUTC", "pagination", "Contacts"}
    assert re.fullmatch(r"/Date\(\d+\)/", first["DateTimeUTC"])
    assert first["pagination"] == {"page": 1, "pageSize": 100, "pageCount": 3, "itemCount": len(active)}
    assert len(first["Contacts"]) == 100
    past = xero_api(xero, token, tenant, page=9, pageSize=100).json()
    assert past["Contacts"] == []
    capped = xero_api(xero, token, tenant, page=1, pageSize=5000, includeArchived="true").json()
    assert capped["pagination"]["pageSize"] == 1000
    assert len(capped["Contacts"]) == 253
    assert all(re.fullmatch(r"/Date\(\d+\+0000\)/", c["UpdatedDateUTC"]) for c in capped["Contacts"])

    archived = next(c["ContactID"] for c in contacts if c["ContactStatus"] == "ARCHIVED")
    ids = f"{contacts[0]['ContactID']},{archived}"
    assert [c["ContactID"] for c in xero_api(xero, token, tenant, IDs=ids).json()["Contacts"]] == [contacts[0]["ContactID"]]
    assert len(xero_api(xero, token, tenant, IDs=ids, includeArchived="true").json()["Contacts"]) == 2
    assert xero_api(xero, token, tenant, IDs="nope").status_code == 400

    since = clock()
    clock.advance(5)
    xero.touch(tenant, contacts[1]["ContactID"])
    changed = httpx.get(
        f"{xero.base_url}/api.xro/2.0/Contacts",
        headers={"Authorization": f"Bearer {token}", "xero-tenant-id": tenant, "If-Modified-Since": since.isoformat()},
    ).json()["Contacts"]
    assert [c["ContactID"] for c in changed] == [contacts[1]["ContactID"]]
    assert parse_xero_date(changed[0]["UpdatedDateUTC"]) > since

    by_where = xero_api(xero, token, tenant, where='ContactStatus=="ARCHIVED"', includeArchived="true").json()["Contacts"]
    assert by_where
    assert all(c["ContactStatus"] == "ARCHIVED" for c in by_where)
    assert xero_api(xero, token, tenant, searchTerm="KAT.WARREN").json()["Contacts"][0]["Name"] == "Katherine Warren"


def test_xero_one_contact_and_the_plain_text_404(xero: XeroFake) -> None:
    tenant = xero.add_tenant()
    xero.seed_examples(tenant)
    token = xero.issue_tokens([tenant])["access_token"]
    one = xero_api(xero, token, tenant, "/api.xro/2.0/Contacts/8138a266-fb42-49b2-a104-014b7045753d").json()
    assert one["Contacts"][0]["Name"] == "Acme Parts Co."
    assert xero_api(xero, token, tenant, "/api.xro/2.0/Contacts/SB2").json()["Contacts"][0]["ContactNumber"] == "SB2"
    missing = xero_api(xero, token, tenant, "/api.xro/2.0/Contacts/00000000-0000-0000-0000-000000000000")
    assert (missing.status_code, missing.text, missing.headers["content-type"].split(";")[0]) == (404, NOT_FOUND_TEXT, "text/plain")


def test_xero_rate_limits_per_tenant(clock: FakeClock) -> None:
    with XeroFake(clock, per_minute=3) as fake:
        assert isinstance(fake, XeroFake)
        tenant, other = fake.add_tenant(), fake.add_tenant()
        token = fake.issue_tokens([tenant, other])["access_token"]
        answers = [xero_api(fake, token, tenant, page=1) for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert [a.headers["X-MinLimit-Remaining"] for a in answers[:3]] == ["2", "1", "0"]
        assert all("X-DayLimit-Remaining" in a.headers and "X-AppMinLimit-Remaining" in a.headers for a in answers)
        assert answers[3].headers["Retry-After"] == "60"
        assert answers[3].headers["X-Rate-Limit-Problem"] == "minute"
        assert xero_api(fake, token, other, page=1).status_code == 200  # per tenant
        clock.advance(60)
        assert xero_api(fake, token, tenant, page=1).status_code == 200


def test_xero_switches_and_counters(xero: XeroFake) -> None:
    tenant = xero.add_tenant()
    token = xero.issue_tokens([tenant])["access_token"]
    xero.fail_next(2, status=503)
    xero.throttle_next(1, retry_after=9, endpoint="contacts")
    statuses = [xero_api(xero, token, tenant).status_code for _ in range(4)]
    assert statuses == [503, 503, 429, 200]
    assert xero.recorded("contacts")[2].status == 429
    assert xero.calls["contacts"] == 4
    assert xero.total_calls() == 4


# --- QuickBooks ------------------------------------------------------------------------------------

QBO_BASIC = ("qbo-test-client", "qbo-test-secret")


def qbo_query(qbo: QuickBooksFake, token: str, realm: str, query: str) -> httpx.Response:
    return httpx.get(
        f"{qbo.base_url}/v3/company/{realm}/query",
        params={"query": query, "minorversion": "40"},
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
    )


def test_qbo_consent_redirect_carries_the_realm_and_tokens_last_an_hour(qbo: QuickBooksFake) -> None:
    realm = qbo.add_company()
    verifier = secrets.token_urlsafe(40)
    consent = httpx.get(
        f"{qbo.base_url}/connect/oauth2", params=authorize_params("qbo-test-client", verifier, "com.intuit.quickbooks.accounting")
    )
    params = redirect_query(consent)
    assert params["realmId"] == realm
    assert params["state"] == "s-1"
    form = {"grant_type": "authorization_code", "code": params["code"], "redirect_uri": REDIRECT, "code_verifier": verifier}
    body = httpx.post(f"{qbo.base_url}/oauth2/v1/tokens/bearer", data=form, auth=QBO_BASIC).json()
    assert body["expires_in"] == 3600
    assert body["x_refresh_token_expires_in"] == 8726400
    refreshed = httpx.post(
        f"{qbo.base_url}/oauth2/v1/tokens/bearer",
        data={"grant_type": "refresh_token", "refresh_token": body["refresh_token"]},
        auth=QBO_BASIC,
    ).json()
    assert refreshed["refresh_token"] != body["refresh_token"]
    qbo.oauth.deny = True
    denied = httpx.get(
        f"{qbo.base_url}/connect/oauth2", params=authorize_params("qbo-test-client", verifier, "com.intuit.quickbooks.accounting")
    )
    assert redirect_query(denied)["error"] == "access_denied"


def test_qbo_query_grammar(qbo: QuickBooksFake) -> None:
    realm = qbo.add_company()
    qbo.seed_examples(realm)
    generated = qbo.generate_customers(realm, 1200, seed=9)
    token = qbo.issue_tokens(realm)["access_token"]
    active = [c for c in generated if c["Active"]]

    def ids(query: str) -> list[str]:
        answer = qbo_query(qbo, token, realm, query)
        assert answer.status_code == 200, answer.text
        return [c["Id"] for c in answer.json()["QueryResponse"].get("Customer", [])]

    assert ids("SELECT * FROM Customer WHERE Id IN ('1', '2', '29')") == ["1", "2", "29"]
    page = qbo_query(qbo, token, realm, "select * from Customer startposition 2 maxresults 3").json()["QueryResponse"]
    assert (page["startPosition"], page["maxResults"], [c["Id"] for c in page["Customer"]]) == (2, 3, ["2", "29", "67"])
    assert len(ids("select * from Customer MAXRESULTS 5000")) == 1000
    assert len(ids("select * from Customer")) == 100
    total = qbo_query(qbo, token, realm, "select count(*) from Customer").json()
    assert total["QueryResponse"] == {"totalCount": len(active) + 4}
    everyone = qbo_query(qbo, token, realm, "select count(*) from Customer where Active in (true, false)").json()
    assert everyone["QueryResponse"]["totalCount"] == 1204
    empty = qbo_query(qbo, token, realm, "select * from Customer STARTPOSITION 5000").json()
    assert empty["QueryResponse"] == {}
    assert "time" in empty
    assert ids("select * from Customer where Metadata.LastUpdatedTime > '2015-03-01' and Metadata.LastUpdatedTime < '2016-01-01'") == [
        "1",
        "29",
        "67",
    ]
    assert ids("select * from Customer where DisplayName LIKE 'Amy%'") == ["1"]
    assert ids("select * from Customer where Active = false MAXRESULTS 1000") == [c["Id"] for c in generated if not c["Active"]]
    expected = sorted((c["Id"] for c in active if int(c["Id"]) > 1290), key=int, reverse=True)
    assert ids("select * from Customer where Id > '1290' ORDERBY Id DESC") == expected
    by_name = ids("select * from Customer where Id in ('1', '2', '29') orderby DisplayName desc")
    assert by_name == ["29", "2", "1"]

    for bad in ("select from Customer", "select * from Customer where", "select * from Customer where Id ! '1'", "select * Customer"):
        answer = qbo_query(qbo, token, realm, bad)
        assert answer.status_code == 400, bad
        error = answer.json()["Fault"]["Error"][0]
        assert (error["code"], error["Message"]) == ("4000", "Error parsing query")
        assert answer.json()["Fault"]["type"] == "ValidationFault"
    assert qbo_query(qbo, token, realm, "select * from customer").json()["Fault"]["Error"][0]["code"] == "4001"


def test_qbo_parser_unit() -> None:
    query = parse_query("SeLeCt * FrOm Customer Where Active IN (true,false) AND Metadata.LastUpdatedTime >= '2020-01-01' MAXRESULTS 7")
    assert query.entity == "Customer"
    assert query.max_results == 7
    assert query.start == 1
    assert [(c.prop, c.op) for c in query.where] == [("Active", "IN"), ("Metadata.LastUpdatedTime", ">=")]
    with pytest.raises(QueryError):
        parse_query("select * from Customer where Name = 'x' OR Name = 'y'")


def test_qbo_read_one_and_faults(qbo: QuickBooksFake, clock: FakeClock) -> None:
    realm = qbo.add_company()
    qbo.seed_examples(realm)
    inactive = qbo.add_customers(realm, [{"Id": "500", "DisplayName": "Gone", "Active": False}])[0]
    token = qbo.issue_tokens(realm)["access_token"]
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    one = httpx.get(f"{qbo.base_url}/v3/company/{realm}/customer/2?minorversion=75", headers=headers).json()
    assert one["Customer"]["DisplayName"] == "Bill's Windsurf Shop"
    for missing in ("404", inactive["Id"]):
        answer = httpx.get(f"{qbo.base_url}/v3/company/{realm}/customer/{missing}", headers=headers)
        assert answer.status_code == 400
        assert answer.json()["Fault"]["Error"][0]["code"] == "610"
    clock.advance(3600)
    expired = httpx.get(f"{qbo.base_url}/v3/company/{realm}/customer/2", headers=headers)
    assert expired.status_code == 401
    fault = expired.json()["fault"]
    assert fault["type"] == "AUTHENTICATION"
    assert fault["error"][0]["code"] == "3200"
    assert isinstance(expired.json()["time"], int)


def test_qbo_throttles_per_realm_without_retry_after(clock: FakeClock) -> None:
    with QuickBooksFake(clock, per_minute=2) as fake:
        assert isinstance(fake, QuickBooksFake)
        realm = fake.add_company()
        token = fake.issue_tokens(realm)["access_token"]
        answers = [qbo_query(fake, token, realm, "select * from Customer") for _ in range(3)]
        assert [a.status_code for a in answers] == [200, 200, 429]
        assert "Retry-After" not in answers[2].headers
        error = answers[2].json()["Fault"]
        assert error["type"] == "SERVICE"
        assert error["Error"][0]["code"] == "3001"
        fake.throttle_xml = True
        assert '<Error code="3001">' in qbo_query(fake, token, realm, "select * from Customer").text
        clock.advance(60)
        assert qbo_query(fake, token, realm, "select * from Customer").status_code == 200
        assert [r.query["minorversion"] for r in fake.recorded("query")][0] == "40"


# --- seed data ---------------------------------------------------------------------------------------


def test_generated_contacts_look_real() -> None:
    contacts = generate_xero_contacts(400, seed=1)
    assert generate_xero_contacts(400, seed=1) == contacts
    names = [c["Name"] for c in contacts]
    assert any(re.search(r"\b(Ltd|Limited|PLC|LLP)$", n) for n in names)
    assert any(c["CompanyNumber"].strip() for c in contacts)
    assert {c["ContactStatus"] for c in contacts} == {"ACTIVE", "ARCHIVED"}
    assert {a["AddressType"] for c in contacts for a in c["Addresses"]} == {"STREET", "POBOX"}
    assert any(p["PhoneCountryCode"] == "44" and p["PhoneAreaCode"] for c in contacts for p in c["Phones"])
    assert any(c["ContactPersons"] for c in contacts)
    assert len({c["ContactID"] for c in contacts}) == 400

    customers = generate_qbo_customers(400, seed=1)
    assert len({c["DisplayName"] for c in customers}) == 400
    assert {c["Active"] for c in customers} == {True, False}
    assert any(c.get("CompanyName", "").endswith(("Ltd", "Limited", "PLC", "LLP")) for c in customers)
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d-07:00", c["MetaData"]["LastUpdatedTime"]) for c in customers)


def test_redirect_uri_is_kept_as_given(xero: XeroFake) -> None:
    xero.add_tenant()
    verifier = secrets.token_urlsafe(40)
    params = authorize_params("xero-test-client", verifier, XERO_SCOPE, redirect_uri="https://app.example/cb?x=1")
    answer = httpx.get(f"{xero.base_url}/identity/connect/authorize?{urlencode(params)}")
    assert answer.headers["location"].startswith("https://app.example/cb?x=1&code=")
