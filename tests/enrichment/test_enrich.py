"""Enrichment from Companies House through the API, against the fake register on loopback."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from clientdock.db import Database
from clientdock.imports import enrich as enrich_door
from tests.conftest import TenantInfo
from tests.contract import assert_documented
from tests.fakes.companies_house import CompaniesHouseFake
from tests.imports.helpers import finished, wait_until
from tests.web.helpers import csrf_token, make_user, sign_in


def make_client(client: TestClient, tenant: TenantInfo, **fields: Any) -> dict[str, Any]:
    response = client.post(tenant.path("/clients"), json=fields, headers=tenant.headers)
    assert response.status_code == 201, response.text
    made: dict[str, Any] = response.json()
    return made


def enrich(client: TestClient, tenant: TenantInfo, client_id: str, **params: str) -> Any:
    return client.post(tenant.path(f"/clients/{client_id}/enrich"), params=params, headers=tenant.headers)


def test_a_company_gets_its_register_data_key_dates_and_officers(client: TestClient, tenant: TenantInfo) -> None:
    made = make_client(
        client, tenant, name="Iwoca", type="ltd", companyNumber="7798925", contacts=[{"firstName": "Kept", "source": "xero"}]
    )
    response = enrich(client, tenant, made["id"])
    assert response.status_code == 200, response.text
    body = response.json()
    register = body["companiesHouse"]
    assert (register["registeredName"], register["companyStatus"], register["companyNumber"]) == ("IWOCA LTD", "active", "07798925")
    assert register["registeredOfficeAddress"]["postalCode"]
    assert register["sicCodes"]
    assert all(code["code"] for code in register["sicCodes"])
    assert register["fetchedAt"]
    assert set(body["keyDates"]) >= {"accountsNextDue", "accountsOverdue", "confirmationStatementNextDue", "confirmationStatementOverdue"}
    officers = [c for c in body["contacts"] if c["source"] == "companies-house"]
    assert len(officers) == 8  # the 6 resigned officers are left out
    assert (officers[0]["lastName"], officers[0]["firstName"]) == ("Ashford", "Alexander James")
    assert {"firstName": "Kept", "source": "xero"}.items() <= next(c for c in body["contacts"] if c["source"] == "xero").items()
    assert body["companyNumber"] == "7798925"  # the firm's own value stays without overwrite
    assert body["company"] == "IWOCA LTD"

    history = client.get(tenant.path(f"/clients/{made['id']}/history"), headers=tenant.headers).json()["items"]
    assert {"enrichment", "contacts"} <= {change["field"] for change in history if change["jobId"]}


def test_overwrite_replaces_the_firms_number_with_the_registers(client: TestClient, tenant: TenantInfo) -> None:
    made = make_client(client, tenant, name="Iwoca", type="ltd", companyNumber="7798925")
    assert enrich(client, tenant, made["id"], overwrite="true").json()["companyNumber"] == "07798925"


def test_re_enriching_is_answered_from_the_cache(client: TestClient, tenant: TenantInfo, register: CompaniesHouseFake) -> None:
    made = make_client(client, tenant, name="Iwoca", type="ltd", companyNumber="07798925")
    assert enrich(client, tenant, made["id"]).status_code == 200
    calls = register.total_calls()
    assert enrich(client, tenant, made["id"]).status_code == 200
    assert register.total_calls() == calls


def test_a_number_the_register_does_not_know_is_recorded_not_failed(client: TestClient, tenant: TenantInfo) -> None:
    made = make_client(client, tenant, name="Ghost Ltd", type="ltd", companyNumber="99999999")
    body = enrich(client, tenant, made["id"]).json()
    assert body["companiesHouse"]["notFound"] is True
    assert body["keyDates"] is None


def test_a_client_without_a_number_is_found_by_its_exact_name(client: TestClient, tenant: TenantInfo) -> None:
    made = make_client(client, tenant, name="Iwoca Limited", type="ltd")
    body = enrich(client, tenant, made["id"]).json()
    assert body["companyNumber"] == "07798925"
    assert body["companiesHouse"]["registeredName"] == "IWOCA LTD"


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        ({"name": "Nobody Trading Ltd", "type": "ltd"}, "no company number"),
        ({"name": "X", "companyNumber": "ZZ12345678"}, "not a company number"),
    ],
)
def test_a_client_the_register_cannot_identify_is_400_naming_the_number(
    client: TestClient, tenant: TenantInfo, fields: dict[str, str], why: str
) -> None:
    made = make_client(client, tenant, **fields)
    response = enrich(client, tenant, made["id"])
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["companyNumber"]
    assert why in response.json()["detail"]


def test_enrichment_needs_a_key_and_the_clients_tenant(client: TestClient, tenant: TenantInfo, other_tenant: TenantInfo, app: Any) -> None:
    made = make_client(client, tenant, name="Iwoca", companyNumber="07798925")
    assert client.post(tenant.path(f"/clients/{made['id']}/enrich"), headers=other_tenant.headers).status_code == 403
    assert enrich(client, other_tenant, made["id"]).status_code == 404  # not a client of theirs
    app.state.settings.companies_house_api_key = None
    refused = enrich(client, tenant, made["id"])
    assert refused.status_code == 400
    assert "not configured" in refused.json()["detail"]


def test_several_clients_are_enriched_as_a_job(client: TestClient, tenant: TenantInfo, register: CompaniesHouseFake) -> None:
    ids = [make_client(client, tenant, name=f"C{i}", type="ltd", companyNumber="07798925" if i else "00006402")["id"] for i in range(3)]
    nobody = make_client(client, tenant, name="Nobody Trading Ltd")["id"]
    response = client.post(tenant.path("/clients/enrich"), json={"clientIds": [*ids, nobody]}, headers=tenant.headers)
    assert response.status_code == 201, response.text
    job = response.json()
    assert (job["door"], job["status"]) == ("enrich", "succeeded")
    assert job["counts"]["updated"] == 3
    assert job["counts"]["failed"] == 1
    (failed,) = [r for r in job["rows"]["items"] if r["action"] == "failed"]
    assert "no company number" in failed["messages"][0]

    by_filter = client.post(tenant.path("/clients/enrich"), json={"filter": {"type": "PrivateLimitedCompany"}}, headers=tenant.headers)
    assert by_filter.json()["counts"]["unchanged"] == 3


@pytest.mark.parametrize(
    ("body", "field"),
    [(None, "clientIds"), ({"clientIds": []}, "clientIds"), ({"clientIds": ["nope"]}, "clientIds"), ({"filter": {"x": 1}}, "filter"),
     ({"filter": {"search": "zzz"}}, "filter"), ({"clientIds": ["a"], "filter": {}}, "clientIds")],
)  # fmt: skip
def test_a_bad_enrich_request_is_400_and_asks_nobody(
    client: TestClient, tenant: TenantInfo, register: CompaniesHouseFake, body: Any, field: str
) -> None:
    response = client.post(tenant.path("/clients/enrich"), json=body, headers=tenant.headers)
    assert response.status_code == 400, response.text
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert register.total_calls() == 0


def test_more_clients_than_the_limit_is_a_documented_413(client: TestClient, tenant: TenantInfo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(enrich_door, "MAX_CLIENTS", 2)  # the limit is 10,000: three clients stand for 10,001
    ids = [make_client(client, tenant, name=f"Firm {n}", type="ltd")["id"] for n in range(3)]
    response = client.post(tenant.path("/clients/enrich"), json={"clientIds": ids}, headers=tenant.headers)
    assert response.status_code == 413, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["clientIds"]
    assert_documented(client, response, "POST", "/tenants/{tenant}/clients/enrich")  # the 413 was not in the description


def test_a_bulk_import_asked_to_enrich_enriches_the_companies_it_created(
    client: TestClient, tenant: TenantInfo, database: Database
) -> None:
    users = [
        {"source": "erp", "sourceId": 1, "fullName": "Iwoca", "type": "ltd", "companyNumber": "07798925"},
        {"source": "erp", "sourceId": 2, "fullName": "Ada Lovelace", "email": "ada@example.org"},
    ]
    response = client.post("/users/bulk/sourceId", params={"enrich": "companies-house"}, json={"users": users}, headers=tenant.headers)
    assert response.status_code == 200, response.text
    jobs = client.get(tenant.path("/imports"), params={"door": "enrich"}, headers=tenant.headers).json()["items"]
    (job,) = jobs
    done = wait_until(database, job["id"], finished)
    assert (done.status, done.updated) == ("succeeded", 1)
    company = response.json()["data"][0]["id"]
    assert client.get(tenant.path(f"/clients/{company}"), headers=tenant.headers).json()["companiesHouse"]["registeredName"] == "IWOCA LTD"


def test_an_import_cannot_ask_for_an_unknown_enrichment(client: TestClient, tenant: TenantInfo) -> None:
    response = client.post("/users/bulk/sourceId", params={"enrich": "dun-and-bradstreet"}, json={"users": []}, headers=tenant.headers)
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["enrich"]


def test_the_client_page_enriches_and_shows_what_the_register_said(client: TestClient, tenant: TenantInfo, database: Database) -> None:
    user = make_user(database, tenant)
    assert sign_in(client, user.email, user.password).status_code == 303
    made = make_client(client, tenant, name="Fixture Co", type="ltd", companyNumber="6402")
    page = client.get(f"/clients/{made['id']}").text
    assert "Enrich from Companies House" in page
    assert client.post(f"/clients/{made['id']}/enrich", data={}, follow_redirects=False).status_code == 403  # no CSRF token
    done = client.post(f"/clients/{made['id']}/enrich", data={"csrf_token": csrf_token(page)}, follow_redirects=False)
    assert (done.status_code, done.headers["location"]) == (303, f"/clients/{made['id']}")
    html = client.get(f"/clients/{made['id']}").text
    assert "Refresh from Companies House" in html
    assert "Key dates" in html
    assert "— overdue" in html  # the register's fixture company is late with its accounts
    assert '{"' not in html.split("section-enrichment")[1].split("</section>")[0]  # no raw JSON in the card


def test_clients_can_be_listed_by_their_key_dates(client: TestClient, tenant: TenantInfo, database: Database) -> None:
    late = make_client(client, tenant, name="Fixture Co", type="ltd", companyNumber="00006402")
    current = make_client(client, tenant, name="Iwoca", type="ltd", companyNumber="07798925")
    make_client(client, tenant, name="Never Enriched Ltd", type="ltd")
    for made in (late, current):
        assert enrich(client, tenant, made["id"]).status_code == 200

    def listed(due: str) -> list[str]:
        body = client.get(tenant.path("/clients"), params={"due": due}, headers=tenant.headers).json()
        return [c["id"] for c in body["items"]]

    assert listed("accounts-overdue") == [late["id"]]
    assert set(listed("confirmation-due-30d")) == {late["id"], current["id"]}  # both statements were due years ago
    assert client.get(tenant.path("/clients"), params={"due": "soon"}, headers=tenant.headers).status_code == 400

    user = make_user(database, tenant)
    assert sign_in(client, user.email, user.password).status_code == 303
    page = client.get("/clients", params={"due": "accounts-overdue"}).text
    assert "Fixture Co" in page
    assert "Iwoca" not in page


def test_a_csv_import_asked_to_enrich_enriches_the_companies_it_created(client: TestClient, tenant: TenantInfo, database: Database) -> None:
    csv = "firstName,email,type,companyNumber,name\nIva,iva@iwoca.example,ltd,07798925,Iwoca\nAda,ada@example.org,,,\n"
    response = client.post(
        tenant.path("/clients/import/csv"), params={"enrich": "companies-house"}, headers=tenant.headers,
        files={"file": ("clients.csv", csv.encode(), "text/csv")},
    )  # fmt: skip
    assert response.status_code == 201, response.text
    assert response.json()["counts"]["created"] == 2
    (job,) = client.get(tenant.path("/imports"), params={"door": "enrich"}, headers=tenant.headers).json()["items"]
    done = wait_until(database, job["id"], finished)
    assert (done.status, done.updated) == ("succeeded", 1)
    refused = client.post(
        tenant.path("/clients/import/csv"), params={"enrich": "everything"}, headers=tenant.headers,
        files={"file": ("clients.csv", csv.encode(), "text/csv")},
    )  # fmt: skip
    assert [e["field"] for e in refused.json()["errors"]] == ["enrich"]
