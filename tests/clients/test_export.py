"""GET /tenants/{tenant}/clients/export.csv: the import's columns, the list's filters,
neutralised cells, and the round trip (re-upload unchanged = every row unchanged; an edited
email updates that client, matched by ID)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from clientdock.clients.export import HEADER, client_rows
from clientdock.clients.repository import ClientFilter
from clientdock.csvsafe import DANGEROUS_LEADS
from clientdock.tenants.context import load_context
from clientdock.tenants.models import Tenant
from tests.conftest import BACKENDS, TenantInfo, make_tenant
from tests.imports.csv_support import CsvService, csv_bytes, export_records, parse_csv, running_service


@pytest.fixture(scope="module", params=BACKENDS)
def csv_service(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CsvService]:
    yield from running_service(request, tmp_path_factory)


PEOPLE = [
    ["firstName", "lastName", "email", "project", "desk", "active", "type", "phone", "company", "tags", "note", "Date of Birth", "created"],
    ["Maya", "White", "maya@firm.example.org", "p1", "d1", "yes", "Personal", "+44 7700 900001", "White & Co", "vip; 2024", "", "", ""],
    ["=1+1", "-minus", "formula@firm.example.org", "", "", "no", "ltd", "@home", "+Plus Ltd", "", 'multi\nline, "quoted"', "", ""],
    ["Zoë", "Brontë", "Zoe@Firm.Example.org", "", "", "", "", "", "", "", "<b>html</b>", "13/02/1990", "2024-06-13T15:06:02.802Z"],
    ["Ben", "Ng", "ben@firm.example.org", "", "", "", "Charity", "", "", "", "", "", ""],
]


def seeded(service: CsvService) -> TenantInfo:
    tenant = service.tenant()
    response = service.upload(tenant, csv_bytes(PEOPLE))
    assert response.status_code == 201, response.text
    assert response.json()["counts"]["created"] == 4
    return tenant


def test_export_has_the_import_columns_first_and_every_client(csv_service: CsvService) -> None:
    tenant = seeded(csv_service)
    response = csv_service.export(tenant)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert f'filename="clients-{tenant.code}-' in response.headers["content-disposition"]
    assert response.text.startswith("\ufeffID,firstName,lastName,email,project,desk,active,type,created,")
    records = export_records(response)
    assert len(records) == 4
    assert list(records[0]) == list(HEADER)
    stored = csv_service.by_email(tenant)
    maya = next(r for r in records if r["email"] == "maya@firm.example.org")
    assert maya["ID"] == stored["maya@firm.example.org"]["id"]
    assert (maya["active"], maya["type"], maya["project"], maya["desk"], maya["tags"]) == ("true", "Individual", "p1", "d1", "vip, 2024")
    assert maya["name"] == ""
    zoe = next(r for r in records if r["email"] == "Zoe@firm.example.org")
    assert (zoe["dateOfBirth"], zoe["created"], zoe["note"]) == ("1990-02-13", "2024-06-13T15:06:02.802000Z", "<b>html</b>")


def test_formula_cells_are_neutralised_with_an_apostrophe(csv_service: CsvService) -> None:
    tenant = seeded(csv_service)
    records = export_records(csv_service.export(tenant))
    formula = next(r for r in records if r["email"] == "formula@firm.example.org")
    assert (formula["firstName"], formula["lastName"], formula["phone"], formula["company"]) == ("'=1+1", "'-minus", "'@home", "'+Plus Ltd")
    maya = next(r for r in records if r["email"] == "maya@firm.example.org")
    assert maya["phone"] == "'+44 7700 900001"
    for record in records:
        assert not any(cell.startswith(DANGEROUS_LEADS) for cell in record.values())
    assert formula["note"] == 'multi\nline, "quoted"'


def test_reuploading_the_export_unchanged_reports_every_row_unchanged(csv_service: CsvService) -> None:
    tenant = seeded(csv_service)
    before = csv_service.by_email(tenant)
    response = csv_service.upload(tenant, csv_service.export(tenant).content, "export.csv")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["counts"] == {"created": 0, "updated": 0, "unchanged": 4, "skipped": 0, "failed": 0}
    assert body["summary"]["unknownColumns"] == []
    # the one phone that is no phone number ("@home") is kept as given, and said so again
    noted = {row["lookupKey"]: row["messages"] for row in body["rows"]["items"] if row["messages"]}
    assert list(noted) == ["formula@firm.example.org"]
    assert noted["formula@firm.example.org"][0].startswith("phone: '@home' is not a phone number that can be read")
    assert csv_service.by_email(tenant) == before


def test_editing_an_email_in_the_export_changes_that_client_matched_by_id(csv_service: CsvService) -> None:
    tenant = seeded(csv_service)
    header, *rows = parse_csv(csv_service.export(tenant).text)
    email, first = header.index("email"), header.index("firstName")
    target = next(row for row in rows if row[email] == "ben@firm.example.org")
    target[email] = "benjamin@new.example.org"
    target[first] = "Benjamin"
    response = csv_service.upload(tenant, csv_bytes([header, *rows]), "edited.csv")
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["counts"]["updated"], body["counts"]["unchanged"], body["counts"]["created"]) == (1, 3, 0)
    (updated,) = [row for row in body["rows"]["items"] if row["action"] == "updated"]
    assert updated["id"] == target[header.index("ID")]
    assert updated["changes"]["email"] == {"before": "ben@firm.example.org", "after": "benjamin@new.example.org"}
    assert updated["changes"]["name"] == {"before": "Ben Ng", "after": "Benjamin Ng"}
    stored = csv_service.by_email(tenant)
    assert "ben@firm.example.org" not in stored
    assert stored["benjamin@new.example.org"]["id"] == target[header.index("ID")]


def test_filters_are_the_lists(csv_service: CsvService) -> None:
    tenant = seeded(csv_service)

    def emails(**params: str) -> set[str]:
        return {r["email"].casefold() for r in export_records(csv_service.export(tenant, **params))}

    def listed(**params: Any) -> set[str]:
        body = csv_service.client.get(tenant.path("/clients"), params={**params, "pageSize": 500}, headers=tenant.headers).json()
        return {c["email"].casefold() for c in body["items"]}

    for params in ({"search": "white"}, {"tag": "vip"}, {"type": "Charity"}, {"search": "nobody"}, {}):
        assert emails(**params) == listed(**params), params
    assert emails(type="Charity") == {"ben@firm.example.org"}
    group = csv_service.client.get(tenant.path("/client-groups"), headers=tenant.headers).json()["items"][0]["id"]
    assert len(emails(clientGroupId=group)) == 4
    assert emails(clientGroupId="nope") == set()


def test_an_empty_tenant_exports_the_header_alone(csv_service: CsvService) -> None:
    tenant = csv_service.tenant()
    response = csv_service.export(tenant)
    assert response.status_code == 200
    assert parse_csv(response.text) == [list(HEADER)]


def test_export_pages_through_every_client_in_order(csv_service: CsvService) -> None:
    tenant = csv_service.tenant()
    rows = [["firstName", "lastName", "email"]] + [["Same", f"{i % 3}", f"p{i}@firm.example.org"] for i in range(23)]
    assert csv_service.upload(tenant, csv_bytes(rows)).json()["counts"]["created"] == 23
    with csv_service.database.session() as session:
        ctx = load_context(session, session.get_one(Tenant, tenant.id))
    paged = list(client_rows(csv_service.database.session, ctx, ClientFilter(), page_size=4))
    whole = export_records(csv_service.export(tenant))
    assert [row[0] for row in paged] == [record["ID"] for record in whole]
    assert len({row[0] for row in paged}) == 23


def test_export_needs_read_access_to_the_tenant(csv_service: CsvService) -> None:
    tenant = seeded(csv_service)
    path = tenant.path("/clients/export.csv")
    assert csv_service.client.get(path).status_code == 401
    assert csv_service.client.get(path, headers=csv_service.tenant().headers).status_code == 403
    writer = make_tenant(csv_service.database, code=f"w{tenant.code}", scopes=["imports:write"])
    assert csv_service.client.get(writer.path("/clients/export.csv"), headers=writer.headers).status_code == 403
