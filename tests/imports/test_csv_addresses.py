"""Addresses through the file door (CSV and xlsx): address columns of each type become the
client's ``addresses``, a multi-line Address column is split, a mapping can name address
parts, an update merges by type, and the export writes them back so that re-importing it
changes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import BACKENDS, TenantInfo
from tests.imports.csv_support import CsvService, csv_bytes, export_records, parse_csv, running_service, xlsx_bytes


@pytest.fixture(scope="module", params=BACKENDS)
def csv_service(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CsvService]:
    yield from running_service(request, tmp_path_factory)


def imported(service: CsvService, tenant: TenantInfo, content: bytes, filename: str = "clients.csv", **kwargs: Any) -> dict[str, Any]:
    response = service.upload(tenant, content, filename, **kwargs)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


UK_FILE = [
    ["First Name", "E-mail", "Address", "Billing Address Line 1", "Billing City", "Billing Postcode", "Shipping Country"],
    ["Ann", "ann@firm.example.org", "Flat 2\n10 High Street\nLondon\nSW1A 2AA\nUnited Kingdom", "1 Mill Lane", "Leeds", "LS1 4AP", ""],
    ["Ben", "ben@firm.example.org", "", "", "", "", ""],
    ["Cy", "cy@firm.example.org", "7 Rue Royale", "", "", "", "France"],
]
ANN = [
    {
        "type": "postal",
        "line1": "Flat 2",
        "line2": "10 High Street",
        "line3": "London",
        "postalCode": "SW1A 2AA",
        "country": "United Kingdom",
    },
    {"type": "billing", "line1": "1 Mill Lane", "city": "Leeds", "postalCode": "LS1 4AP"},
]


def test_address_columns_become_the_clients_addresses(csv_service: CsvService) -> None:
    tenant = csv_service.tenant()
    body = imported(csv_service, tenant, csv_bytes(UK_FILE))
    assert body["counts"]["created"] == 3
    assert body["summary"]["mapping"]["Billing Postcode"] == "addresses.billing.postalCode"
    clients = csv_service.by_email(tenant)
    assert clients["ann@firm.example.org"]["addresses"] == ANN
    assert clients["ben@firm.example.org"]["addresses"] == []
    assert clients["cy@firm.example.org"]["addresses"] == [
        {"type": "postal", "line1": "7 Rue Royale"},
        {"type": "shipping", "country": "France"},
    ]


LAYOUTS = {
    "xero": (
        ["ContactName", "EmailAddress", "FirstName", "POAttentionTo", "POAddressLine1", "POAddressLine2", "POCity", "PORegion",
         "POPostalCode", "POCountry", "SAAddressLine1", "SACity", "SAPostalCode"],
        ["Ann Lee", "ann@firm.example.org", "Ann", "Accounts", "PO Box 12", "Mill Lane", "Leeds", "West Yorkshire", "LS1 4AP",
         "United Kingdom", "3 Dock St", "Hull", "HU1 1AA"],
        [{"type": "postal", "line1": "PO Box 12", "line2": "Mill Lane", "city": "Leeds", "region": "West Yorkshire",
          "postalCode": "LS1 4AP", "country": "United Kingdom"},
         {"type": "street", "line1": "3 Dock St", "city": "Hull", "postalCode": "HU1 1AA"}],
    ),
    "quickbooks online": (
        ["Name", "First Name", "Email", "Billing Address Line 1", "Billing Address City", "Billing Address Postal Code",
         "Shipping Address Line 1", "Shipping Address Country"],
        ["Ann Lee", "Ann", "ann@firm.example.org", "1 Mill Lane", "Leeds", "LS1 4AP", "3 Dock St", "United Kingdom"],
        [{"type": "billing", "line1": "1 Mill Lane", "city": "Leeds", "postalCode": "LS1 4AP"},
         {"type": "shipping", "line1": "3 Dock St", "country": "United Kingdom"}],
    ),
    "quickbooks desktop": (
        ["Customer", "First Name", "Email", "Bill to 1", "Bill to 2", "Bill to 3", "Ship to 1"],
        ["Lee Ltd", "Ann", "ann@firm.example.org", "Lee Ltd", "1 Mill Lane", "Leeds LS1 4AP", "3 Dock St"],
        [{"type": "billing", "line1": "Lee Ltd", "line2": "1 Mill Lane", "line3": "Leeds LS1 4AP"},
         {"type": "shipping", "line1": "3 Dock St"}],
    ),
    "sage": (
        ["Account Reference", "Contact Name", "First Name", "Email", "Street1", "Street2", "Town", "County", "Post Code", "Country"],
        ["LEE01", "Ann Lee", "Ann", "ann@firm.example.org", "1 Mill Lane", "Holbeck", "Leeds", "West Yorkshire", "LS11 5AA", "GB"],
        [{"type": "postal", "line1": "1 Mill Lane", "line2": "Holbeck", "city": "Leeds", "region": "West Yorkshire",
          "postalCode": "LS11 5AA", "country": "GB"}],
    ),
    "freeagent": (
        ["Organisation", "First Name", "Last Name", "Email", "Address 1", "Address 2", "Address 3", "Town", "Region", "Postcode",
         "Country"],
        ["Lee Ltd", "Ann", "Lee", "ann@firm.example.org", "Unit 4", "1 Mill Lane", "Holbeck", "Leeds", "West Yorkshire", "LS11 5AA",
         "United Kingdom"],
        [{"type": "postal", "line1": "Unit 4", "line2": "1 Mill Lane", "line3": "Holbeck", "city": "Leeds", "region": "West Yorkshire",
          "postalCode": "LS11 5AA", "country": "United Kingdom"}],
    ),
    "google contacts": (
        ["Given Name", "E-mail 1 - Value", "Address 1 - Type", "Address 1 - Formatted", "Address 1 - Street", "Address 1 - City",
         "Address 1 - Region", "Address 1 - Postal Code", "Address 1 - Country", "Address 1 - Extended Address"],
        ["Ann", "ann@firm.example.org", "Home", "1 Mill Lane\nLeeds LS1 4AP", "1 Mill Lane", "Leeds", "", "LS1 4AP", "United Kingdom",
         "Flat 2"],
        [{"type": "postal", "line1": "1 Mill Lane", "line2": "Flat 2", "city": "Leeds", "postalCode": "LS1 4AP",
          "country": "United Kingdom"}],
    ),
    "outlook": (
        ["First Name", "E-mail Address", "Business Street", "Business Street 2", "Business City", "Business State",
         "Business Postal Code", "Business Country/Region", "Home Street", "Home City", "Home Postal Code", "Other Street"],
        ["Ann", "ann@firm.example.org", "1 Mill Lane", "Floor 2", "Leeds", "West Yorkshire", "LS1 4AP", "United Kingdom",
         "9 Park Rd", "York", "YO1 7HH", "5 Other St"],
        [{"type": "business", "line1": "1 Mill Lane", "line2": "Floor 2", "city": "Leeds", "region": "West Yorkshire",
          "postalCode": "LS1 4AP", "country": "United Kingdom"},
         {"type": "home", "line1": "9 Park Rd", "city": "York", "postalCode": "YO1 7HH"}],
    ),
    "mailchimp": (
        ["Email Address", "First Name", "Last Name", "Address"],
        ["ann@firm.example.org", "Ann", "Lee", "1 Mill Lane  Leeds  West Yorkshire  LS1 4AP  GB"],
        [{"type": "postal", "line1": "1 Mill Lane  Leeds  West Yorkshire  LS1 4AP  GB"}],
    ),
    "hubspot": (
        ["First Name", "Last Name", "Email", "Street Address", "City", "State/Region", "Postal Code", "Country/Region"],
        ["Ann", "Lee", "ann@firm.example.org", "1 Mill Lane", "Leeds", "West Yorkshire", "LS1 4AP", "United Kingdom"],
        [{"type": "postal", "line1": "1 Mill Lane", "city": "Leeds", "region": "West Yorkshire", "postalCode": "LS1 4AP",
          "country": "United Kingdom"}],
    ),
}  # fmt: skip


@pytest.mark.parametrize("tool", list(LAYOUTS))
def test_the_address_columns_of_the_tools_firms_export_from(csv_service: CsvService, tool: str) -> None:
    header, row, addresses = LAYOUTS[tool]
    tenant = csv_service.tenant()
    body = imported(csv_service, tenant, csv_bytes([header, row]))
    assert body["counts"]["created"] == 1, body
    (client,) = csv_service.clients(tenant)
    assert client["addresses"] == addresses


def test_a_continental_file_in_its_own_words(csv_service: CsvService) -> None:
    tenant = csv_service.tenant()
    rows = [
        ["Vorname", "E-Mail-Adresse", "Straße", "Hausnummer", "PLZ", "Ort", "Land"],
        ["Jens", "jens@firm.example.org", "Hauptstr.", "5a", "10115", "Berlin", "Deutschland"],
    ]
    imported(csv_service, tenant, csv_bytes(rows, delimiter=";"))
    (client,) = csv_service.clients(tenant)
    assert client["addresses"] == [
        {"type": "postal", "street": "Hauptstr.", "houseNumber": "5a", "city": "Berlin", "postalCode": "10115", "country": "Deutschland"}
    ]


def test_a_spreadsheet_s_address_columns(csv_service: CsvService) -> None:
    tenant = csv_service.tenant()
    workbook = xlsx_bytes(
        {
            "Clients": [
                ["firstName", "email", "Straat", "Huisnummer", "Postcode", "Plaats"],
                ["Eva", "eva@firm.example.org", "Damrak", 1, "1012 LG", "Amsterdam"],
            ]
        }
    )
    imported(csv_service, tenant, workbook, "clients.xlsx")
    (client,) = csv_service.clients(tenant)
    assert client["addresses"] == [{"type": "postal", "street": "Damrak", "houseNumber": "1", "postalCode": "1012 LG", "city": "Amsterdam"}]


def test_an_explicit_mapping_names_address_parts(csv_service: CsvService) -> None:
    tenant = csv_service.tenant()
    rows = [["Given", "Mail", "Where", "Code"], ["Ann", "ann@firm.example.org", "1 Mill Lane", "LS1 4AP"]]
    mapping = {"Given": "firstName", "Mail": "email", "Where": "addresses.registered.line1", "Code": "addresses.registered.postalCode"}
    body = imported(csv_service, tenant, csv_bytes(rows), data={"mapping": json.dumps(mapping)})
    assert body["summary"]["mapping"] == mapping
    (client,) = csv_service.clients(tenant)
    assert client["addresses"] == [{"type": "registered", "line1": "1 Mill Lane", "postalCode": "LS1 4AP"}]


def test_a_mapping_to_an_address_part_that_does_not_exist_is_400(csv_service: CsvService) -> None:
    tenant = csv_service.tenant()
    rows = [["firstName", "email", "Where"], ["Ann", "ann@firm.example.org", "1 Mill Lane"]]
    response = csv_service.upload(tenant, csv_bytes(rows), data={"mapping": json.dumps({"Where": "addresses.billing.planet"})})
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["field"] == "mapping"
    assert "'addresses.billing.planet' (for column 'Where') is not a client field" in error["message"]
    assert "addresses.<type>.<part> (types postal, street, billing" in error["message"]
    assert csv_service.count_clients(tenant) == 0


def test_a_too_long_address_part_fails_its_row_naming_addresses(csv_service: CsvService) -> None:
    tenant = csv_service.tenant()
    rows = [["firstName", "email", "City"], ["Ann", "ann@firm.example.org", "x" * 300], ["Ben", "ben@firm.example.org", "York"]]
    body = imported(csv_service, tenant, csv_bytes(rows))
    assert (body["counts"]["created"], body["counts"]["failed"]) == (1, 1)
    (failed,) = csv_service.rows(tenant, body["id"], "failed")
    (error,) = failed["errors"]
    assert error["field"] == "addresses"
    assert "item 0 city is 300 characters long" in error["message"]


def test_an_update_merges_by_type_and_leaves_other_addresses_alone(csv_service: CsvService) -> None:
    tenant = csv_service.tenant()
    created = csv_service.client.post(
        tenant.path("/clients"),
        json={
            "firstName": "Ann",
            "email": "ann@firm.example.org",
            "addresses": [
                {"type": "work", "line1": "Office 1", "isDefault": True},
                {"type": "postal", "line1": "Old Rd", "city": "Leeds", "countryCode": "GB"},
            ],
        },  # fmt: skip
        headers=tenant.headers,
    )
    assert created.status_code == 201, created.text
    rows = [["firstName", "email", "Address", "City", "Billing Town"], ["Ann", "ann@firm.example.org", "New Rd", "", "York"]]
    body = imported(csv_service, tenant, csv_bytes(rows))
    assert body["counts"]["updated"] == 1
    (client,) = csv_service.clients(tenant)
    assert client["addresses"] == [
        {"type": "work", "line1": "Office 1", "isDefault": True},
        {"type": "postal", "line1": "New Rd", "city": "Leeds", "countryCode": "GB"},
        {"type": "billing", "city": "York"},
    ]
    assert imported(csv_service, tenant, csv_bytes(rows))["counts"]["unchanged"] == 1


def test_the_export_writes_addresses_back_and_reimports_unchanged(csv_service: CsvService) -> None:
    tenant = csv_service.tenant()
    imported(csv_service, tenant, csv_bytes(UK_FILE))
    other = csv_service.client.post(
        tenant.path("/clients"),
        json={
            "firstName": "Dee",
            "email": "dee@firm.example.org",
            "addresses": [
                {"type": "shipping", "street": "Damrak", "houseNumber": "12A", "city": "Amsterdam", "notes": "Ring twice"},
                {"type": "home", "line1": "=1+1 Formula Rd", "line4": "Line four", "region": "Noord-Holland", "countryCode": "NL"},
                {"type": "shipping", "line1": "A second shipping address"},
                {"type": "work", "line1": "Not a file type"},
                {"line1": "No type at all"},
            ],
        },  # fmt: skip
        headers=tenant.headers,
    )
    assert other.status_code == 201, other.text
    before = {email: client["addresses"] for email, client in csv_service.by_email(tenant).items()}
    export = csv_service.export(tenant)
    header = parse_csv(export.text.lstrip("\ufeff"))[0]
    assert [name for name in header if name.startswith("addresses.")] == [
        "addresses.postal.line1", "addresses.postal.line2", "addresses.postal.line3", "addresses.postal.postalCode",
        "addresses.postal.country", "addresses.billing.line1", "addresses.billing.city", "addresses.billing.postalCode",
        "addresses.shipping.street", "addresses.shipping.houseNumber", "addresses.shipping.city", "addresses.shipping.country",
        "addresses.home.line1", "addresses.home.line4", "addresses.home.region", "addresses.home.countryCode",
    ]  # fmt: skip
    records = {record["email"]: record for record in export_records(export)}
    assert records["ann@firm.example.org"]["addresses.postal.postalCode"] == "SW1A 2AA"
    assert records["dee@firm.example.org"]["addresses.home.line1"] == "'=1+1 Formula Rd"
    assert records["dee@firm.example.org"]["addresses.shipping.street"] == "Damrak"
    body = imported(csv_service, tenant, export.content, "export.csv")
    assert body["counts"] == {"created": 0, "updated": 0, "unchanged": 4, "skipped": 0, "failed": 0}
    assert {email: client["addresses"] for email, client in csv_service.by_email(tenant).items()} == before


def test_an_edited_export_updates_that_address_part_only(csv_service: CsvService) -> None:
    tenant = csv_service.tenant()
    imported(csv_service, tenant, csv_bytes(UK_FILE))
    rows = parse_csv(csv_service.export(tenant).text.lstrip("\ufeff"))
    header = rows[0]
    ann = next(row for row in rows if "ann@firm.example.org" in row)
    ann[header.index("addresses.billing.postalCode")] = "LS2 7EW"
    body = imported(csv_service, tenant, csv_bytes(rows), "export.csv")
    assert (body["counts"]["updated"], body["counts"]["unchanged"]) == (1, 2)
    (updated,) = csv_service.rows(tenant, body["id"], "updated")
    client = csv_service.by_email(tenant)["ann@firm.example.org"]
    assert client["addresses"] == [ANN[0], {**ANN[1], "postalCode": "LS2 7EW"}]
    assert updated["action"] == "updated"


def test_the_template_shows_the_postal_address_columns_and_imports_them(csv_service: CsvService) -> None:
    tenant = csv_service.tenant()
    response = csv_service.client.get(tenant.path("/clients/import/template.csv"))
    assert response.status_code == 200, response.text
    header, example = parse_csv(response.text.lstrip("\ufeff"))
    assert header[-4:] == ["addresses.postal.line1", "addresses.postal.city", "addresses.postal.postalCode", "addresses.postal.country"]
    assert example[-4:] == ["1 High Street", "London", "SW1A 1AA", "United Kingdom"]
    imported(csv_service, tenant, response.content, "template.csv")
    (client,) = csv_service.clients(tenant)
    assert client["addresses"] == [
        {"type": "postal", "line1": "1 High Street", "city": "London", "postalCode": "SW1A 1AA", "country": "United Kingdom"}
    ]
