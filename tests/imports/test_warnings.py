"""Warnings, not failures, for secondary values (issue 14, point 3), through the file door end
to end: the row imports, the field is left as it was (a phone kept as given), the row carries
``{field, value, message}``; the job counts them (``warned``), ``rows?outcome=warning`` lists
them whatever their action, ``errors.csv`` has a ``warning`` column, and its reasons read as
sentences with the fields' labels. The bulk, single and app doors are tested in their modules."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import BACKENDS, TenantInfo
from tests.imports.csv_support import CsvService, csv_bytes, export_records, running_service


@pytest.fixture(scope="module", params=BACKENDS)
def csv_service(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CsvService]:
    yield from running_service(request, tmp_path_factory)


HEADER = ["First Name", "E-mail", "Date of Birth", "Phone", "Type", "Gender"]
ROWS = [
    ["Ann", "ann@firm.example.org", "03/14", "", "", ""],
    ["Bob", "bob@firm.example.org", "31/02/1980", "", "", ""],
    ["Cy", "cy@firm.example.org", "", "call the office", "", ""],
    ["Di", "di@firm.example.org", "", "", "Spaceship", ""],
    ["Ed", "ed@firm.example.org", "", "", "", "sometimes"],
    ["Flo", "flo@firm.example.org", "14/03/1980", "020 7946 0018", "Trust", "F"],
    ["", "nofirst@firm.example.org", "03/14", "", "", ""],
]


def upload(service: CsvService, tenant: TenantInfo, rows: list[list[str]], **params: str) -> dict[str, Any]:
    response = service.upload(tenant, csv_bytes(rows), params=params)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_secondary_values_warn_and_the_rows_import(csv_service: CsvService) -> None:
    tenant = csv_service.tenant()
    body = upload(csv_service, tenant, [HEADER, *ROWS])
    assert body["counts"] == {"created": 6, "updated": 0, "unchanged": 0, "skipped": 0, "failed": 1}
    assert body["warned"] == 6
    assert body["links"]["warnedRows"] == tenant.path(f"/imports/{body['id']}/rows?outcome=warning")
    warned = {row["index"]: row for row in body["rows"]["items"] if row["warnings"]}
    assert {i: [(w["field"], w["value"]) for w in row["warnings"]] for i, row in warned.items()} == {
        1: [("dateOfBirth", "03/14")],
        2: [("dateOfBirth", "31/02/1980")],
        3: [("phone", "call the office")],
        4: [("type", "Spaceship")],
        5: [("gender", "sometimes")],
        7: [("dateOfBirth", "03/14")],
    }
    assert warned[1]["warnings"][0]["message"] == "'03/14' has no year (use YYYY-MM-DD); the field was left as it was"
    assert warned[1]["messages"] == ["dateOfBirth: '03/14' has no year (use YYYY-MM-DD); the field was left as it was"]
    # the failing row fails for its mandatory field and still tells its warning
    assert (warned[7]["action"], warned[7]["errors"][0]["field"]) == ("failed", "firstName")
    stored = csv_service.by_email(tenant)
    assert [stored[f"{n}@firm.example.org"]["dateOfBirth"] for n in ("ann", "bob", "flo")] == [None, None, "1980-03-14"]
    assert (stored["cy@firm.example.org"]["phone"], stored["cy@firm.example.org"]["phoneE164"]) == ("call the office", None)
    assert (stored["di@firm.example.org"]["type"], stored["ed@firm.example.org"]["gender"]) == ("Individual", None)
    assert (stored["flo@firm.example.org"]["type"], stored["flo@firm.example.org"]["gender"]) == ("Trust", "F")


def test_an_update_leaves_the_stored_value_as_it_was(csv_service: CsvService) -> None:
    tenant = csv_service.tenant()
    upload(csv_service, tenant, [HEADER, ["Ann", "ann@firm.example.org", "14/03/1980", "020 7946 0018", "Trust", "female"]])
    body = upload(csv_service, tenant, [HEADER, ["Ann", "ann@firm.example.org", "03/14", "ring me", "Spaceship", "sometimes"]])
    (row,) = body["rows"]["items"]
    assert (row["action"], body["warned"]) == ("updated", 1)
    assert row["changes"] == {"phone": {"before": "020 7946 0018", "after": "ring me"}}
    assert [w["field"] for w in row["warnings"]] == ["dateOfBirth", "phone", "type", "gender"]
    ann = csv_service.by_email(tenant)["ann@firm.example.org"]
    assert (ann["dateOfBirth"], ann["type"], ann["gender"], ann["phone"], ann["phoneE164"]) == (
        "1980-03-14", "Trust", "female", "ring me", None,
    )  # fmt: skip


def test_mandatory_fields_email_validity_and_duplicates_still_fail(csv_service: CsvService) -> None:
    tenant = csv_service.tenant()
    rows = [
        ["First Name", "E-mail", "Date of Birth"],
        ["", "a@firm.example.org", ""],
        ["Bo", "not-an-email", "03/14"],
        ["Cy", "cy@firm.example.org", ""],
        ["Cy again", "CY@firm.example.org", ""],
    ]
    body = upload(csv_service, tenant, rows)
    assert (body["counts"]["created"], body["counts"]["failed"], body["warned"]) == (1, 3, 1)
    failed = {row["index"]: row["errors"][0]["code"] for row in csv_service.rows(tenant, body["id"], "failed")}
    assert failed == {1: "missing", 2: "invalid", 4: "duplicate"}


def test_a_dry_run_counts_the_rows_with_warnings_and_writes_nothing(csv_service: CsvService) -> None:
    tenant = csv_service.tenant()
    body = upload(csv_service, tenant, [HEADER, *ROWS], dryRun="true")
    assert (body["dryRun"], body["counts"]["created"], body["warned"]) == (True, 6, 6)
    assert csv_service.count_clients(tenant) == 0
    assert len(csv_service.rows(tenant, body["id"], "warning")) == 6
    job = csv_service.client.get(tenant.path(f"/imports/{body['id']}"), headers=tenant.headers).json()
    assert job["warned"] == 6


def test_rows_with_warnings_are_listed_whatever_their_action(csv_service: CsvService) -> None:
    tenant = csv_service.tenant()
    body = upload(csv_service, tenant, [HEADER, *ROWS])
    listed = csv_service.client.get(
        tenant.path(f"/imports/{body['id']}/rows"), params={"outcome": "warning", "pageSize": 2, "page": 3}, headers=tenant.headers
    ).json()
    assert (listed["total"], [row["index"] for row in listed["items"]]) == (6, [5, 7])
    assert [row["action"] for row in csv_service.rows(tenant, body["id"], "warning")] == ["created"] * 5 + ["failed"]
    clean = upload(csv_service, tenant, [["First Name", "E-mail"], ["Gus", "gus@firm.example.org"]])
    assert (clean["warned"], csv_service.rows(tenant, clean["id"], "warning")) == (0, [])


def test_an_unknown_rows_filter_is_400_naming_outcome(csv_service: CsvService) -> None:
    tenant = csv_service.tenant()
    body = upload(csv_service, tenant, [HEADER, *ROWS])
    response = csv_service.client.get(tenant.path(f"/imports/{body['id']}/rows"), params={"outcome": "warnings"}, headers=tenant.headers)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "outcome" in [e["field"] for e in response.json()["errors"]]


def test_the_error_report_lists_failed_and_warned_rows_in_words(csv_service: CsvService) -> None:
    tenant = csv_service.tenant()
    rows = [
        [*HEADER, "Active"],
        ["Ann", "ann@firm.example.org", "03/14", "", "", "", ""],
        ["", "bad@", "", "", "", "", "perhaps"],
        ["Cy", "cy@firm.example.org", "", "", "", "", ""],
        ["Di", "DI@firm.example.org", "31/02/1980", "", "", "", ""],
        ["Di again", "di@firm.example.org", "", "", "", "", ""],
    ]
    body = upload(csv_service, tenant, rows)
    report = csv_service.client.get(tenant.path(f"/imports/{body['id']}/errors.csv"), headers=tenant.headers)
    assert report.status_code == 200
    records = export_records(report)
    assert list(records[0]) == [*HEADER, "Active", "reason", "warning"]
    assert [(r["First Name"], r["reason"], r["warning"]) for r in records] == [
        ("Ann", "", "Date of birth '03/14' has no year (use YYYY-MM-DD); the field was left as it was"),
        ("", "Email 'bad@' is not a valid email address; Active 'perhaps' is not a boolean (use true/false, yes/no, 1/0); "
             "First name is required", ""),
        ("Di", "", "Date of birth '31/02/1980' is not a date in this column's order (DMY: day/month/year); the field was left as it was"),
        ("Di again", "Email is a duplicate (the same email as row 4)", ""),
    ]  # fmt: skip
    assert records[0]["Date of Birth"] == "03/14"


def test_the_error_report_of_a_clean_import_has_only_its_header(csv_service: CsvService) -> None:
    tenant = csv_service.tenant()
    body = upload(csv_service, tenant, [["First Name", "E-mail"], ["Gus", "gus@firm.example.org"]])
    report = csv_service.client.get(tenant.path(f"/imports/{body['id']}/errors.csv"), headers=tenant.headers)
    assert report.text.removeprefix("\ufeff").splitlines() == ["First Name,E-mail,reason,warning"]


def test_the_error_report_of_another_tenants_import_is_404(csv_service: CsvService) -> None:
    mine, theirs = csv_service.tenant(), csv_service.tenant()
    body = upload(csv_service, theirs, [HEADER, *ROWS])
    response = csv_service.client.get(mine.path(f"/imports/{body['id']}/errors.csv"), headers=mine.headers)
    assert response.status_code == 404
    rows = csv_service.client.get(mine.path(f"/imports/{body['id']}/rows"), params={"outcome": "warning"}, headers=mine.headers)
    assert rows.status_code == 404
