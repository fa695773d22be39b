"""Organisations through the file door (issue 14, point 1): a row is an individual or an
organisation; the type comes from a Type column or else from the name; an organisation needs a
name and an email, an individual a first name and an email; a full name alone is split."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import BACKENDS
from tests.imports.csv_support import CsvService, csv_bytes, running_service


@pytest.fixture(scope="module", params=BACKENDS)
def csv_service(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CsvService]:
    yield from running_service(request, tmp_path_factory)


def imported(service: CsvService, tenant: Any, rows: list[list[str]], **data: str) -> dict[str, Any]:
    response = service.upload(tenant, csv_bytes(rows), data=data)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def failures(service: CsvService, tenant: Any, body: dict[str, Any]) -> dict[int, list[tuple[str, str, int]]]:
    return {
        row["index"]: [(e["field"], e["message"], e["row"]) for e in row["errors"]]
        for row in service.rows(tenant, body["id"], "failed")
    }  # fmt: skip


def test_a_practice_list_of_companies_trusts_and_partnerships_imports(csv_service: CsvService) -> None:
    tenant = csv_service.tenant()
    rows = [
        ["Client Name", "Client Type", "Email", "Company Number"],
        ["Acme Trading Ltd", "Private limited company", "accounts@acme.example.org", "01234567"],
        ["Hart Family Trust", "Trust", "trustees@hart.example.org", ""],
        ["Bloggs & Co", "Partnership", "jo@bloggs.example.org", ""],
        ["Riverside Food Bank", "Charity", "hello@riverside.example.org", ""],
        ["Smith & Jones", "LLP", "office@smithjones.example.org", "OC123456"],
        ["Jo Bloggs Plumbing", "Sole trader", "jo@plumbing.example.org", ""],
        ["Northern Widgets", "Limited company", "info@widgets.example.org", "07654321"],
    ]
    body = imported(csv_service, tenant, rows)
    assert body["summary"]["mapping"] == {"Client Name": "name", "Client Type": "type", "Email": "email", "Company Number": "companyNumber"}
    assert (body["counts"]["created"], body["counts"]["failed"]) == (7, 0)
    stored = csv_service.by_email(tenant)
    assert {email: (client["name"], client["type"]) for email, client in stored.items()} == {
        "accounts@acme.example.org": ("Acme Trading Ltd", "PrivateLimitedCompany"),
        "trustees@hart.example.org": ("Hart Family Trust", "Trust"),
        "jo@bloggs.example.org": ("Bloggs & Co", "Partnership"),
        "hello@riverside.example.org": ("Riverside Food Bank", "Charity"),
        "office@smithjones.example.org": ("Smith & Jones", "LimitedLiabilityPartnership"),
        "jo@plumbing.example.org": ("Jo Bloggs Plumbing", "SoleTrader"),
        "info@widgets.example.org": ("Northern Widgets", "PrivateLimitedCompany"),
    }
    assert stored["accounts@acme.example.org"]["companyNumber"] == "01234567"
    assert stored["accounts@acme.example.org"]["firstName"] is None


def test_without_a_type_column_the_name_decides_and_people_keep_the_tenant_default(csv_service: CsvService) -> None:
    tenant = csv_service.tenant(defaultType="SoleTrader")
    rows = [
        ["Name", "Email", "Company No"],
        ["Acme Trading Ltd", "acme@firm.example.org", ""],
        ["Acme Holdings PLC", "plc@firm.example.org", ""],
        ["Hart Family Trust", "hart@firm.example.org", ""],
        ["Bloggs & Co", "bloggs@firm.example.org", ""],
        ["Riverside Charity", "river@firm.example.org", ""],
        ["The Corner Shop", "shop@firm.example.org", ""],
        ["Northern Widgets", "widgets@firm.example.org", "07654321"],
    ]
    imported(csv_service, tenant, rows)
    types = {email: client["type"] for email, client in csv_service.by_email(tenant).items()}
    assert types == {
        "acme@firm.example.org": "PrivateLimitedCompany", "plc@firm.example.org": "PublicLimitedCompany",
        "hart@firm.example.org": "Trust", "bloggs@firm.example.org": "Partnership", "river@firm.example.org": "Charity",
        "shop@firm.example.org": "Other", "widgets@firm.example.org": "PrivateLimitedCompany",
    }  # fmt: skip
    people = [["First Name", "Last Name", "Company", "Email"], ["Ada", "Lovelace", "Acme Trading Ltd", "ada@firm.example.org"]]
    imported(csv_service, tenant, people)
    ada = csv_service.by_email(tenant)["ada@firm.example.org"]
    assert (ada["name"], ada["company"], ada["type"]) == ("Ada Lovelace", "Acme Trading Ltd", "SoleTrader")


def test_individuals_and_organisations_mixed_in_one_file(csv_service: CsvService) -> None:
    tenant = csv_service.tenant()
    rows = [
        ["Type", "First Name", "Last Name", "Company Name", "Email"],
        ["Individual", "Ada", "Lovelace", "", "ada@firm.example.org"],
        ["", "Grace", "Hopper", "Navy Ltd", "grace@firm.example.org"],
        ["", "", "", "Acme Trading Ltd", "acme@firm.example.org"],
        ["Trust", "", "", "Hart Family Trust", "hart@firm.example.org"],
        ["", "", "", "Corner Shop", "shop@firm.example.org"],
    ]
    body = imported(csv_service, tenant, rows)
    assert (body["counts"]["created"], body["counts"]["failed"]) == (5, 0)
    stored = {email: (c["type"], c["name"], c["firstName"], c["company"]) for email, c in csv_service.by_email(tenant).items()}
    assert stored == {
        "ada@firm.example.org": ("Individual", "Ada Lovelace", "Ada", None),
        "grace@firm.example.org": ("Individual", "Grace Hopper", "Grace", "Navy Ltd"),
        "acme@firm.example.org": ("PrivateLimitedCompany", "Acme Trading Ltd", None, "Acme Trading Ltd"),
        "hart@firm.example.org": ("Trust", "Hart Family Trust", None, "Hart Family Trust"),
        "shop@firm.example.org": ("Other", "Corner Shop", None, "Corner Shop"),
    }


def test_missing_name_or_email_fails_the_row_naming_field_and_row(csv_service: CsvService) -> None:
    tenant = csv_service.tenant()
    rows = [
        ["Client Name", "Client Type", "Email", "Company Number"],
        ["Acme Trading Ltd", "Private limited company", "accounts@acme.example.org", "01234567"],
        ["", "Private limited company", "nameless@firm.example.org", "01234568"],
        ["Emailless Ltd", "Limited company", "", ""],
        ["", "Trust", "", ""],
        ["", "Individual", "someone@firm.example.org", ""],
        ["Hart Family Trust", "Trust", "not-an-email", ""],
    ]
    body = imported(csv_service, tenant, rows)
    assert (body["counts"]["created"], body["counts"]["failed"]) == (1, 5)
    assert failures(csv_service, tenant, body) == {
        2: [("name", "is required for an organisation (type: private limited company)", 2)],
        3: [("email", "is required", 3)],
        4: [("email", "is required", 4), ("name", "is required for an organisation (type: trust)", 4)],
        5: [("firstName", "is required", 5)],
        6: [("email", "'not-an-email' is not a valid email address", 6)],
    }
    assert csv_service.count_clients(tenant) == 1


def test_an_individual_given_only_a_full_name_is_split(csv_service: CsvService) -> None:
    tenant = csv_service.tenant()
    rows = [
        ["Name", "Type", "Email"],
        ["Ada Lovelace", "Individual", "ada@firm.example.org"],
        ["Hopper, Grace", "Personal", "grace@firm.example.org"],
        ["Dr Jan van der Berg", "Person", "jan@firm.example.org"],
        ["Cher", "Individual", "cher@firm.example.org"],
    ]
    body = imported(csv_service, tenant, rows)
    assert (body["counts"]["created"], body["counts"]["failed"]) == (4, 0)
    stored = {email: (c["title"], c["firstName"], c["lastName"], c["name"]) for email, c in csv_service.by_email(tenant).items()}
    assert stored == {
        "ada@firm.example.org": (None, "Ada", "Lovelace", "Ada Lovelace"),
        "grace@firm.example.org": (None, "Grace", "Hopper", "Grace Hopper"),
        "jan@firm.example.org": ("Dr", "Jan", "van der Berg", "Jan van der Berg"),
        "cher@firm.example.org": (None, "Cher", None, "Cher"),
    }


def test_a_name_beside_an_employer_is_a_person(csv_service: CsvService) -> None:
    tenant = csv_service.tenant()
    imported(csv_service, tenant, [["Name", "Company", "Email"], ["Lovelace, Ada", "Acme Trading Ltd", "ada@firm.example.org"]])
    ada = csv_service.by_email(tenant)["ada@firm.example.org"]
    assert (ada["firstName"], ada["lastName"], ada["company"], ada["type"]) == ("Ada", "Lovelace", "Acme Trading Ltd", "Individual")


def test_a_type_read_from_the_name_does_not_change_an_existing_client(csv_service: CsvService) -> None:
    tenant = csv_service.tenant()
    imported(csv_service, tenant, [["Client Name", "Client Type", "Email"], ["Hart Settlement", "Trust", "hart@firm.example.org"]])
    again = imported(
        csv_service, tenant, [["Client Name", "Email", "Phone"], ["Hart Settlement", "hart@firm.example.org", "020 7946 0000"]]
    )
    assert (again["counts"]["updated"], again["counts"]["failed"]) == (1, 0)
    assert csv_service.by_email(tenant)["hart@firm.example.org"]["type"] == "Trust"
    retyped = imported(csv_service, tenant, [["Client Name", "Type", "Email"], ["Hart Settlement", "Charity", "hart@firm.example.org"]])
    assert retyped["counts"]["updated"] == 1
    assert csv_service.by_email(tenant)["hart@firm.example.org"]["type"] == "Charity"


def test_synonyms_in_five_languages_name_the_organisation(csv_service: CsvService) -> None:
    tenant = csv_service.tenant()
    for position, header in enumerate(("Company Name", "Organisation", "Firma", "Raison sociale", "Empresa", "Bedrijfsnaam", "Company")):
        body = imported(csv_service, tenant, [[header, "E-mail"], [f"Firm {position} Ltd", f"f{position}@firm.example.org"]])
        assert body["summary"]["mapping"] == {header: "company", "E-mail": "email"}, header
    stored = csv_service.by_email(tenant)
    assert {(c["name"], c["type"]) for c in stored.values()} == {(f"Firm {i} Ltd", "PrivateLimitedCompany") for i in range(7)}


def test_the_dry_run_of_a_company_only_file_would_create_them(csv_service: CsvService) -> None:
    tenant = csv_service.tenant()
    rows = [["Company Name", "Email"], ["Acme Trading Ltd", "acme@firm.example.org"], ["", "nobody@firm.example.org"]]
    body = imported(csv_service, tenant, rows, dryRun="true")
    assert (body["counts"]["created"], body["counts"]["failed"]) == (1, 1)
    assert failures(csv_service, tenant, body) == {2: [("firstName", "is required", 2)]}
    assert csv_service.count_clients(tenant) == 0
