"""The client pages over HTTP: list, filters, paging, detail, escaping, tenant isolation."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from clientdock.db import Database
from tests.conftest import TenantInfo
from tests.web.helpers import COMPANIES_HOUSE, make_client, set_enrichment

SCRIPT = "<script>alert(1)</script>"


def names(html: str) -> list[str]:
    return re.findall(r'<th scope="row" class="cell-name" data-label="Name"><a href="/clients/\w+">([^<]*)</a>', html)


def test_clients_page_lists_the_tenants_clients(signed_in: TestClient, tenant: TenantInfo, other_tenant: TenantInfo) -> None:
    make_client(signed_in, tenant, name="Grace Hopper", email="grace@navy.test", company="Navy", tags=["vip"])
    make_client(signed_in, other_tenant, name="Not Mine", email="x@beta.test")
    html = signed_in.get("/clients").text
    assert names(html) == ["Grace Hopper"]
    assert "grace@navy.test" in html
    assert "Navy" in html
    assert ">vip</a>" in html
    assert "Active" in html
    assert 'aria-current="page">Clients' in html
    assert ">Imports<" in html
    assert ">Connections<" in html
    assert 'id="notifications"' in html
    assert 'id="toasts"' in html
    assert ">acme<" in html  # the tenant's name in the top bar


def test_search_filters_and_paging(signed_in: TestClient, tenant: TenantInfo) -> None:
    group = signed_in.post(tenant.path("/client-groups"), json={"name": "Payroll"}, headers=tenant.headers).json()
    for n in range(30):
        make_client(signed_in, tenant, name=f"Person {n:02d}", email=f"p{n}@acme.test", tags=["bulk"] if n % 2 else [])
    make_client(signed_in, tenant, name="Hopper Ltd", type="ltd", company="Hopper Ltd", clientGroupId=group["id"], tags=["VIP"])
    assert names(signed_in.get("/clients?search=hopper").text) == ["Hopper Ltd"]
    assert names(signed_in.get("/clients?type=PrivateLimitedCompany").text) == ["Hopper Ltd"]
    assert names(signed_in.get(f"/clients?group={group['id']}").text) == ["Hopper Ltd"]
    assert names(signed_in.get("/clients?tag=vip").text) == ["Hopper Ltd"]
    assert len(names(signed_in.get("/clients?tag=bulk").text)) == 15
    first, second = signed_in.get("/clients").text, signed_in.get("/clients?page=2").text
    assert len(names(first)) == 25
    assert len(names(second)) == 6
    assert "1–25 of 31" in first
    assert 'href="/clients?page=2"' in first
    assert names(signed_in.get("/clients?page=nonsense").text) == names(first)
    empty = signed_in.get("/clients?search=nobody-at-all").text
    assert "No clients match" in empty
    assert "Clear filters" in empty


def test_htmx_asks_for_the_results_alone(signed_in: TestClient, tenant: TenantInfo) -> None:
    make_client(signed_in, tenant, name="Ada Lovelace")
    headers = {"HX-Request": "true", "HX-Target": "client-results"}
    response = signed_in.get("/clients?search=ada", headers=headers)
    assert response.text.lstrip().startswith('<section id="client-results"')
    assert "<html" not in response.text
    assert names(response.text) == ["Ada Lovelace"]
    assert "HX-Request" in response.headers["vary"]


def test_user_data_is_escaped_everywhere(signed_in: TestClient, tenant: TenantInfo) -> None:
    made = make_client(signed_in, tenant, name=SCRIPT, company=SCRIPT, tags=[SCRIPT], note=SCRIPT)
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    for html in (
        signed_in.get("/clients").text,
        signed_in.get(f"/clients/{made['id']}").text,
        signed_in.get("/clients?search=<script>").text,
    ):
        assert SCRIPT not in html
        assert escaped in html


def test_another_tenants_client_is_not_found(signed_in: TestClient, other_tenant: TenantInfo) -> None:
    theirs = make_client(signed_in, other_tenant, name="Secret Client", email="secret@beta.test")
    response = signed_in.get(f"/clients/{theirs['id']}")
    assert response.status_code == 404
    assert "text/html" in response.headers["content-type"]
    assert "Secret Client" not in response.text
    assert "Back to clients" in response.text
    assert signed_in.get("/clients/does-not-exist").status_code == 404


def test_client_page_shows_fields_refs_enrichment_and_history(signed_in: TestClient, tenant: TenantInfo, database: Database) -> None:
    made = make_client(
        signed_in, tenant, name="Hopper Computing", type="ltd", email="office@hopper.test", companyNumber="09876543",
        phone="020 7946 0000", tags=["vip"], externalRefs=[{"source": "xero", "externalId": "c-42"}],
        addresses=[{"type": "registered", "line1": "1 Main Street", "city": "London", "postalCode": "EC1A 1AA"}],
        attributes=[{"class": "crm", "name": "score", "type": "number", "value": "7"}],
    )  # fmt: skip
    signed_in.patch(tenant.path(f"/clients/{made['id']}"), json={"email": "hello@hopper.test"}, headers=tenant.headers)
    set_enrichment(database, made["id"], COMPANIES_HOUSE)
    html = signed_in.get(f"/clients/{made['id']}").text
    for text in ("Hopper Computing", "Private limited company", "09876543", "+442079460000", "xero", "c-42", "1 Main Street",
                 "EC1A 1AA", "score", "Companies House", "HOPPER COMPUTING LTD", "Key dates", "Accounts next due", "31 Jan 2027",
                 "LOVELACE, Ada", "secretary", "History", "Created", "Updated", "office@hopper.test", "hello@hopper.test"):  # fmt: skip
        assert text in html, text
    assert "<code>firstName</code>" not in html, "the page speaks of First name, not of the field"


def test_a_client_without_enrichment_says_what_it_would_get(signed_in: TestClient, tenant: TenantInfo) -> None:
    made = make_client(signed_in, tenant, name="Plain Ltd", type="ltd", companyNumber="01234567")
    html = signed_in.get(f"/clients/{made['id']}").text
    assert "No enrichment yet" in html
    assert "Companies House enrichment is not set up on this server" in html  # no API key in these tests


def test_import_dialog_lists_the_requirements(signed_in: TestClient, tenant: TenantInfo) -> None:
    signed_in.patch(tenant.path("/settings"), json={"importRowLimit": 2500}, headers=tenant.headers)
    html = signed_in.get("/clients").text
    assert '<dialog id="import-dialog"' in html
    assert 'data-open-dialog="import-dialog"' in html
    for text in ("Import clients", "CSV or spreadsheet", "At most 2,500 records", "No scripts or macros",
                 "Required columns: a name and an email",
                 'href="/clients/import/template.csv"', 'enctype="multipart/form-data"'):  # fmt: skip
        assert text in html, text


def test_imports_and_connections_show_empty_states(signed_in: TestClient) -> None:
    assert "No imports yet" in signed_in.get("/imports").text
    assert "No partner apps yet" in signed_in.get("/connections").text


def test_static_assets_are_served(client: TestClient) -> None:
    htmx = client.get("/static/htmx.min.js")
    assert htmx.status_code == 200
    assert "htmx" in htmx.text[:200]
    assert client.get("/static/app.css").status_code == 200
    assert client.get("/static/app.js").status_code == 200


def test_pages_stay_out_of_the_openapi_description(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "/clients" not in paths
    assert "/" not in paths
    assert "/sign-out" not in paths
