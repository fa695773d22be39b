"""POST /tenants/{tenant}/clients/import/csv: the S3 rules, the answer, the options, every
refusal and limit (each before anything is written), dry runs, dialects and spreadsheets."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from clientdock.clients.models import ClientChange
from tests.conftest import BACKENDS, TenantInfo, make_tenant
from tests.imports.csv_support import (
    CsvService,
    csv_bytes,
    export_records,
    overridden,
    running_service,
    xlsx_bytes,
)
from tests.imports.helpers import finished, wait_until


@pytest.fixture(scope="module", params=BACKENDS)
def csv_service(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CsvService]:
    yield from running_service(request, tmp_path_factory)


HEADER = ["First Name", "Last Name", "E-mail", "Active", "Type", "Mobile"]
ROWS = [
    ["Maya", "White", "maya@firm.example.org", "yes", "Personal", "+44 7700 900001"],
    ["Ben", "Mwangi", "ben@firm.example.org", "", "", ""],
]


def imported(service: CsvService, tenant: TenantInfo, content: bytes, filename: str = "clients.csv", **kwargs: Any) -> dict[str, Any]:
    response = service.upload(tenant, content, filename, **kwargs)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def errors_of(response: Any) -> dict[str | None, str]:
    return {e["field"]: e["message"] for e in response.json()["errors"]}


# --- the answer ---------------------------------------------------------------------------


def test_upload_answers_201_with_counts_summary_and_rows(csv_service: CsvService) -> None:
    tenant = csv_service.tenant()
    response = csv_service.upload(tenant, csv_bytes([HEADER, *ROWS]))
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["location"] == tenant.path(f"/imports/{body['id']}")
    assert body["door"] == "csv"
    assert body["status"] == "succeeded"
    assert body["counts"] == {"created": 2, "updated": 0, "unchanged": 0, "skipped": 0, "failed": 0}
    assert body["progress"] == {"done": 2, "total": 2, "percent": 100.0}
    summary = body["summary"]
    assert summary["mapping"] == {
        "First Name": "firstName", "Last Name": "lastName", "E-mail": "email", "Active": "active", "Type": "type", "Mobile": "phone"
    }  # fmt: skip
    assert (summary["kind"], summary["encoding"], summary["delimiter"], summary["headerLine"]) == ("csv", "utf-8", ",", 1)
    assert summary["unknownColumns"] == []
    assert "header" not in summary
    assert [(row["index"], row["line"], row["action"]) for row in body["rows"]["items"]] == [(1, 2, "created"), (2, 3, "created")]
    stored = csv_service.by_email(tenant)
    maya = stored["maya@firm.example.org"]
    assert (maya["firstName"], maya["lastName"], maya["name"], maya["active"], maya["type"]) == (
        "Maya",
        "White",
        "Maya White",
        True,
        "Individual",
    )
    assert (maya["phone"], maya["phoneE164"]) == ("+44 7700 900001", "+447700900001")


def test_respond_async_answers_202_and_the_job_finishes(csv_service: CsvService) -> None:
    tenant = csv_service.tenant()
    response = csv_service.upload(tenant, csv_bytes([HEADER, *ROWS]), headers={"Prefer": "respond-async"})
    assert response.status_code == 202
    assert response.headers["preference-applied"] == "respond-async"
    assert response.headers["retry-after"]
    body = response.json()
    assert body["status"] in ("queued", "running", "succeeded")
    assert "rows" not in body or body["status"] == "succeeded"
    assert body["progress"]["total"] == 2
    job = wait_until(csv_service.database, body["id"], finished)
    assert (job.status, job.created) == ("succeeded", 2)
    status = csv_service.client.get(response.headers["location"], headers=tenant.headers).json()
    assert status["summary"]["mapping"]["E-mail"] == "email"


def test_a_failing_row_names_field_and_row_and_the_others_import(csv_service: CsvService) -> None:
    tenant = csv_service.tenant()
    rows = [
        ["firstName", "email", "active", "type", "dateOfBirth"],
        ["Ann", "ann@firm.example.org", "maybe", "", ""],
        ["", "nofirst@firm.example.org", "", "", ""],
        ["Bo", "not-an-email", "", "", ""],
        ["Cy", "cy@firm.example.org", "", "Alien", ""],
        ["Di", "di@firm.example.org", "", "", "31/02/1990"],
        ["Ed", "ed@firm.example.org", "", "", ""],
    ]
    body = imported(csv_service, tenant, csv_bytes(rows))
    assert body["counts"]["created"] == 3
    assert body["counts"]["failed"] == 3
    failed = {row["index"]: row["errors"][0] for row in csv_service.rows(tenant, body["id"], "failed")}
    assert {i: (e["field"], e["code"], e["row"]) for i, e in failed.items()} == {
        1: ("active", "invalid_value", 1),
        2: ("firstName", "missing", 2),
        3: ("email", "invalid", 3),
    }
    # an unknown type and an impossible date of birth are secondary: the row imports, with a warning
    warned = {row["index"]: row["warnings"] for row in csv_service.rows(tenant, body["id"], "warning")}
    assert {i: [(w["field"], w["value"]) for w in ws] for i, ws in warned.items()} == {
        4: [("type", "Alien")],
        5: [("dateOfBirth", "31/02/1990")],
    }


def test_errors_csv_has_the_upload_columns_plus_reason_and_reimports_when_fixed(csv_service: CsvService) -> None:
    tenant = csv_service.tenant()
    rows = [["First Name", "E-mail", "Notes"], ["", "fix.me@firm.example.org", "=cmd|' /C calc'!A0"], ["Ok", "ok@firm.example.org", ""]]
    body = imported(csv_service, tenant, csv_bytes(rows))
    report = csv_service.client.get(tenant.path(f"/imports/{body['id']}/errors.csv"), headers=tenant.headers)
    assert report.status_code == 200
    assert report.headers["content-type"].startswith("text/csv")
    (failed,) = export_records(report)
    assert list(failed) == ["First Name", "E-mail", "Notes", "reason", "warning"]
    assert failed["Notes"] == "'=cmd|' /C calc'!A0"
    assert (failed["reason"], failed["warning"]) == ("First name is required", "")
    failed["First Name"] = "Fixed"
    fixed = csv_bytes([list(failed), list(failed.values())])
    again = imported(csv_service, tenant, fixed, "errors.csv")
    assert again["counts"]["created"] == 1
    assert again["summary"]["unknownColumns"] == ["reason", "warning"]
    assert csv_service.by_email(tenant)["fix.me@firm.example.org"]["note"] == "=cmd|' /C calc'!A0"


# --- S3.3 / S3.4: defaults and matching ---------------------------------------------------


def test_tenant_defaults_fill_empty_cells_and_omitted_columns(csv_service: CsvService) -> None:
    tenant = csv_service.tenant(defaultType="SoleTrader", defaultActive=False, defaultProject="proj-1", defaultDesk="desk-9")
    rows = [["firstName", "email", "project", "active"], ["Ann", "ann@firm.example.org", "", ""], ["Bo", "bo@firm.example.org", "p2", "1"]]
    imported(csv_service, tenant, csv_bytes(rows))
    stored = csv_service.by_email(tenant)
    ann, bo = stored["ann@firm.example.org"], stored["bo@firm.example.org"]
    assert (ann["type"], ann["active"], ann["project"], ann["desk"]) == ("SoleTrader", False, "proj-1", "desk-9")
    assert (bo["project"], bo["active"]) == ("p2", True)
    assert ann["createdAt"]


def test_existing_email_updates_only_the_given_cells(csv_service: CsvService) -> None:
    tenant = csv_service.tenant()
    imported(csv_service, tenant, csv_bytes([["firstName", "lastName", "email", "project"], ["Ann", "Old", "ann@firm.example.org", "p1"]]))
    body = imported(
        csv_service, tenant, csv_bytes([["firstName", "lastName", "email", "project"], ["Ann", "New", "ANN@Firm.Example.org", ""]])
    )
    assert (body["counts"]["updated"], body["counts"]["created"]) == (1, 0)
    (row,) = body["rows"]["items"]
    assert row["changes"] == {
        "lastName": {"before": "Old", "after": "New"},
        "name": {"before": "Ann Old", "after": "Ann New"},
        "email": {"before": "ann@firm.example.org", "after": "ANN@firm.example.org"},
    }
    ann = csv_service.by_email(tenant)["ann@firm.example.org"]
    assert (ann["lastName"], ann["project"], ann["email"]) == ("New", "p1", "ANN@firm.example.org")
    assert csv_service.count_clients(tenant) == 1


def test_a_derived_name_follows_the_merged_parts_and_a_hand_set_name_is_kept(csv_service: CsvService) -> None:
    tenant = csv_service.tenant()
    imported(csv_service, tenant, csv_bytes([["firstName", "lastName", "email"], ["Ada", "Lovelace", "ada@firm.example.org"]]))
    imported(csv_service, tenant, csv_bytes([["firstName", "lastName", "email"], ["Bo", "Byron", "bo@firm.example.org"]]))
    bo_id = csv_service.by_email(tenant)["bo@firm.example.org"]["id"]
    patched = csv_service.client.patch(tenant.path(f"/clients/{bo_id}"), json={"name": "Lord Byron"}, headers=tenant.headers)
    assert patched.status_code == 200, patched.text
    # Only firstName in the file: the name is built from it and the stored last name.
    body = imported(
        csv_service, tenant, csv_bytes([["firstName", "email"], ["Augusta", "ada@firm.example.org"], ["George", "bo@firm.example.org"]])
    )
    assert body["counts"]["updated"] == 2
    stored = csv_service.by_email(tenant)
    ada, bo = stored["ada@firm.example.org"], stored["bo@firm.example.org"]
    assert (ada["name"], ada["firstName"], ada["lastName"]) == ("Augusta Lovelace", "Augusta", "Lovelace")
    assert (bo["name"], bo["firstName"], bo["lastName"]) == ("Lord Byron", "George", "Byron")
    ada_changes = next(r["changes"] for r in body["rows"]["items"] if r["index"] == 1)
    assert ada_changes["name"] == {"before": "Ada Lovelace", "after": "Augusta Lovelace"}


def test_id_column_updates_that_client_and_may_change_its_email(csv_service: CsvService) -> None:
    tenant = csv_service.tenant()
    first = imported(csv_service, tenant, csv_bytes([["firstName", "email"], ["Ann", "ann@old.example.org"]]))
    client_id = first["rows"]["items"][0]["id"]
    body = imported(csv_service, tenant, csv_bytes([["ID", "firstName", "email"], [client_id, "Ann", "ann@new.example.org"]]))
    assert body["counts"]["updated"] == 1
    assert body["rows"]["items"][0]["changes"]["email"] == {"before": "ann@old.example.org", "after": "ann@new.example.org"}
    assert list(csv_service.by_email(tenant)) == ["ann@new.example.org"]


def test_an_unknown_id_is_ignored_with_a_warning(csv_service: CsvService) -> None:
    tenant = csv_service.tenant()
    body = imported(csv_service, tenant, csv_bytes([["ID", "firstName", "email"], ["nope", "Ann", "ann@firm.example.org"]]))
    (row,) = body["rows"]["items"]
    assert row["action"] == "created"
    assert any(message.startswith("id: 'nope' is not a client") for message in row["messages"])
    assert row["warnings"] == [
        {"field": "id", "value": "nope", "message": "'nope' is not a client of this tenant; matched by the other keys"}
    ]


def test_an_id_of_another_tenant_never_touches_that_client(csv_service: CsvService) -> None:
    mine, theirs = csv_service.tenant(), csv_service.tenant()
    other = imported(csv_service, theirs, csv_bytes([["firstName", "email"], ["Zed", "zed@other.example.org"]]))
    other_id = other["rows"]["items"][0]["id"]
    body = imported(csv_service, mine, csv_bytes([["ID", "firstName", "email"], [other_id, "Mine", "mine@firm.example.org"]]))
    assert body["counts"]["created"] == 1
    assert body["rows"]["items"][0]["id"] != other_id
    assert csv_service.by_email(theirs)["zed@other.example.org"]["firstName"] == "Zed"


def test_a_repeated_email_fails_the_later_row_across_chunks(csv_service: CsvService) -> None:
    tenant = csv_service.tenant()
    rows = [["firstName", "email"]] + [[f"P{i}", f"p{i}@firm.example.org"] for i in range(1, 251)] + [["Again", "P7@FIRM.example.org"]]
    with overridden(csv_service.settings, chunk_size=100):
        body = imported(csv_service, tenant, csv_bytes(rows))
    assert (body["counts"]["created"], body["counts"]["failed"]) == (250, 1)
    (failed,) = csv_service.rows(tenant, body["id"], "failed")
    assert (failed["index"], failed["errors"][0]["field"], failed["errors"][0]["code"]) == (251, "email", "duplicate")
    assert "row 7" in failed["errors"][0]["message"]


# --- SPEC decisions: blank and ragged rows, dates, neutralised cells ----------------------


def test_blank_records_are_skipped_and_extra_cells_reported(csv_service: CsvService) -> None:
    tenant = csv_service.tenant()
    content = b"firstName,email\r\n,\r\n  ,\t\r\n\r\nAnn,ann@firm.example.org,surplus,\r\nBo,bo@firm.example.org,,\r\n"
    body = imported(csv_service, tenant, content)
    assert body["counts"]["created"] == 2
    assert body["counts"]["failed"] == 0
    summary = body["summary"]
    assert (summary["records"], summary["blankRecords"], summary["raggedRecords"]) == (4, 2, 1)
    rows = {row["index"]: row for row in body["rows"]["items"]}
    assert set(rows) == {3, 4}
    assert rows[3]["line"] == 5
    assert any("'surplus'" in message for message in rows[3]["messages"])
    assert rows[4]["messages"] == []


@pytest.mark.parametrize(
    ("tenant_order", "values", "order", "decided", "stored"),
    [
        ("DMY", ["01/02/1980", "13/01/1990"], "DMY", "row 2", ["1980-02-01", "1990-01-13"]),
        ("DMY", ["01/02/1980", "12/31/1990"], "MDY", "row 2", ["1980-01-02", "1990-12-31"]),
        ("MDY", ["01/02/1980", "03/04/1990"], "MDY", "tenant", ["1980-01-02", "1990-03-04"]),
        ("DMY", ["01.02.1980", "1990-12-31"], "DMY", "tenant", ["1980-02-01", "1990-12-31"]),
    ],
)
def test_the_whole_column_decides_the_date_order(
    csv_service: CsvService, tenant_order: str, values: list[str], order: str, decided: str, stored: list[str]
) -> None:
    tenant = csv_service.tenant(dateOrder=tenant_order)
    rows = [["firstName", "email", "Date of Birth"]] + [[f"P{i}", f"p{i}@firm.example.org", value] for i, value in enumerate(values)]
    body = imported(csv_service, tenant, csv_bytes(rows))
    used = body["summary"]["dateOrder"]["dateOfBirth"]
    assert used["order"] == order
    assert decided in used["decidedBy"]
    clients = csv_service.by_email(tenant)
    assert [clients[f"p{i}@firm.example.org"]["dateOfBirth"] for i in range(len(values))] == stored


def test_a_date_of_birth_impossible_in_the_columns_order_is_left_out_with_a_warning(csv_service: CsvService) -> None:
    tenant = csv_service.tenant(dateOrder="MDY")
    rows = [["firstName", "email", "dateOfBirth"], ["A", "a@firm.example.org", "25/12/1980"], ["B", "b@firm.example.org", "12/25/1980"]]
    body = imported(csv_service, tenant, csv_bytes(rows))
    assert body["summary"]["dateOrder"]["dateOfBirth"]["order"] == "DMY"
    assert (body["counts"]["created"], body["counts"]["failed"], body["warned"]) == (2, 0, 1)
    (warned,) = csv_service.rows(tenant, body["id"], "warning")
    (warning,) = warned["warnings"]
    assert (warned["index"], warned["action"], warning["field"], warning["value"]) == (2, "created", "dateOfBirth", "12/25/1980")
    assert "day/month/year" in warning["message"]
    assert csv_service.by_email(tenant)["b@firm.example.org"]["dateOfBirth"] is None


def test_created_column_sets_created_at_with_the_column_order(csv_service: CsvService) -> None:
    tenant = csv_service.tenant()
    rows = [
        ["ID", "firstName", "email", "created"],
        ["", "Iso", "iso@firm.example.org", "2024-06-13T15:06:02.802Z"],
        ["", "Us", "us@firm.example.org", "06/13/2024 15:06"],
    ]
    imported(csv_service, tenant, csv_bytes(rows))
    clients = csv_service.by_email(tenant)
    assert clients["iso@firm.example.org"]["createdAt"].startswith("2024-06-13T15:06:02.802")
    assert clients["us@firm.example.org"]["createdAt"].startswith("2024-06-13T15:06:00")


def test_formula_cells_are_stored_as_text_and_our_apostrophe_is_removed(csv_service: CsvService) -> None:
    tenant = csv_service.tenant()
    rows = [["firstName", "lastName", "email", "phone"], ["=1+1", "'=SUM(A1)", "a@firm.example.org", "'+44 20 7946 0000"]]
    imported(csv_service, tenant, csv_bytes(rows))
    client = csv_service.by_email(tenant)["a@firm.example.org"]
    assert (client["firstName"], client["lastName"], client["phone"]) == ("=1+1", "=SUM(A1)", "+44 20 7946 0000")


# --- dialects, encodings, spreadsheets ----------------------------------------------------

DIALECT_ROWS = [
    ["Vorname", "Nachname", "E-Mail-Adresse", "Notizen"],
    ["Jürgen", "Weiß", "jw@firm.example.de", 'Line one\nsaid "hi", then; left|'],
]


@pytest.mark.parametrize(
    ("delimiter", "encoding", "newline", "prefix"),
    [
        (",", "utf-8", "\r\n", b""),
        (";", "utf-8-sig", "\n", b""),
        ("\t", "utf-16", "\r\n", b""),
        ("|", "cp1252", "\r\n", b""),
        (";", "utf-8", "\r\n", b"sep=;\r\n"),
        (",", "latin-1", "\r", b""),
    ],
)
def test_dialects_and_encodings_import_the_same(
    csv_service: CsvService, delimiter: str, encoding: str, newline: str, prefix: bytes
) -> None:
    tenant = csv_service.tenant()
    content = prefix + csv_bytes(DIALECT_ROWS, delimiter=delimiter, encoding=encoding, newline=newline)
    body = imported(csv_service, tenant, content)
    assert body["counts"]["created"] == 1, body
    assert body["summary"]["delimiter"] == delimiter
    client = csv_service.by_email(tenant)["jw@firm.example.de"]
    assert (client["firstName"], client["lastName"], client["note"]) == ("Jürgen", "Weiß", 'Line one\nsaid "hi", then; left|')


def test_encoding_option_and_an_unknown_encoding(csv_service: CsvService) -> None:
    tenant = csv_service.tenant()
    content = csv_bytes([["firstName", "email"], ["Zoë", "zoe@firm.example.org"]], encoding="cp1252")
    body = imported(csv_service, tenant, content, data={"encoding": "latin-1"})
    assert body["summary"]["encoding"] == "iso8859-1"
    assert csv_service.by_email(tenant)["zoe@firm.example.org"]["firstName"] == "Zoë"
    response = csv_service.upload(tenant, content, data={"encoding": "klingon"})
    assert response.status_code == 400
    assert "encoding" in errors_of(response)
    wrong = csv_service.upload(tenant, csv_bytes([["firstName", "email"], ["Zoë", "z@firm.example.org"]]), params={"encoding": "ascii"})
    assert wrong.status_code == 400
    assert "encoding" in errors_of(wrong)


def test_big5_with_its_encoding_names_the_real_header(csv_service: CsvService) -> None:
    from tests.imports.csv_support import CORPUS

    tenant = csv_service.tenant()
    response = csv_service.upload(tenant, (CORPUS / "conformance/messytables/characters.csv").read_bytes(), data={"encoding": "big5"})
    assert response.status_code == 400
    assert "景點編號" in response.json()["detail"]


def test_spreadsheets_import_first_sheet_or_the_named_one_with_serial_dates(csv_service: CsvService) -> None:
    tenant = csv_service.tenant()
    workbook = xlsx_bytes(
        {
            "Clients": [["First Name", "E-mail", "Date of Birth", "Phone"], ["Ann", "ann@firm.example.org", 29281, 447700900001]],
            "More": [["firstName", "email"], ["Bo", "bo@firm.example.org"]],
        }
    )
    body = imported(csv_service, tenant, workbook, "clients.xlsx")
    assert (body["summary"]["kind"], body["summary"]["sheet"]) == ("xlsx", "Clients")
    ann = csv_service.by_email(tenant)["ann@firm.example.org"]
    assert (ann["dateOfBirth"], ann["phone"]) == ("1980-03-01", "447700900001")
    more = imported(csv_service, tenant, workbook, "clients.xlsx", data={"sheet": "More"})
    assert more["counts"]["created"] == 1
    missing = csv_service.upload(tenant, workbook, "clients.xlsx", data={"sheet": "Nope"})
    assert missing.status_code == 400
    assert "sheet" in errors_of(missing)
    assert "'Clients'" in errors_of(missing)["sheet"]


def test_a_workbook_whose_first_sheet_is_empty_says_so(csv_service: CsvService) -> None:
    from tests.imports.csv_support import CORPUS

    tenant = csv_service.tenant()
    content = (CORPUS / "conformance/csvkit/sheets.xlsx").read_bytes()
    first = csv_service.upload(tenant, content, "sheets.xlsx")
    assert first.status_code == 400
    assert "empty" in first.json()["detail"]
    assert "'data'" in first.json()["detail"]
    data = csv_service.upload(tenant, content, "sheets.xlsx", data={"sheet": "data"})
    assert data.status_code == 400
    assert set(errors_of(data)) == {"firstName", "email"}


# --- mapping and required columns ---------------------------------------------------------


def test_an_explicit_mapping_wins_and_can_ignore_a_column(csv_service: CsvService) -> None:
    tenant = csv_service.tenant()
    rows = [["Given", "Mail", "Notes", "Company"], ["Ann", "ann@firm.example.org", "keep out", "Acme"]]
    mapping = {"Given": "firstName", "Mail": "email", "Notes": ""}
    body = imported(csv_service, tenant, csv_bytes(rows), data={"mapping": json.dumps(mapping)})
    assert body["summary"]["mapping"] == {"Given": "firstName", "Mail": "email", "Company": "company"}
    assert body["summary"]["unknownColumns"] == ["Notes"]
    client = csv_service.by_email(tenant)["ann@firm.example.org"]
    assert (client["note"], client["company"]) == (None, "Acme")
    again = imported(csv_service, tenant, csv_bytes(rows), params={"mapping": json.dumps(mapping)})
    assert again["counts"]["unchanged"] == 1


@pytest.mark.parametrize(
    ("mapping", "says"),
    [
        ("{not json", "not valid JSON"),
        ('["Given"]', "JSON object"),
        ('{"Given": 3}', "string"),
        ('{"Given": "favouriteColour"}', "not a client field"),
        ('{"Nope": "firstName"}', "not in the file's header"),
    ],
)
def test_a_bad_mapping_is_400_naming_mapping_and_writes_nothing(csv_service: CsvService, mapping: str, says: str) -> None:
    tenant = csv_service.tenant()
    response = csv_service.upload(tenant, csv_bytes([["Given", "email"], ["Ann", "ann@firm.example.org"]]), data={"mapping": mapping})
    assert response.status_code == 400
    assert "mapping" in errors_of(response)
    assert says in response.json()["detail"]
    assert (csv_service.count_clients(tenant), csv_service.count_jobs(tenant)) == (0, 0)


def test_missing_required_columns_are_400_naming_them(csv_service: CsvService) -> None:
    tenant = csv_service.tenant()
    response = csv_service.upload(tenant, csv_bytes([["Last Name", "Phone"], ["Lee", "0207 946 0000"]]))
    assert response.status_code == 400
    assert errors_of(response) == {
        "firstName": "no column of the file maps to firstName, name or company; one of them is required",
        "email": "no column of the file maps to email, a required column",
    }
    detail = response.json()["detail"]
    assert "'Last Name', 'Phone'" in detail
    assert "firstName for an individual, name (or company) for a company, trust, partnership or other organisation" in detail
    for header in (["First Name", "Phone"], ["Name", "Phone"], ["Company Name", "Phone"]):
        only_email = csv_service.upload(tenant, csv_bytes([header, ["Ann", "0207 946 0000"]]))
        assert set(errors_of(only_email)) == {"email"}, header
    assert (csv_service.count_clients(tenant), csv_service.count_jobs(tenant)) == (0, 0)


# --- limits and refusals: before anything is written --------------------------------------


def test_more_records_than_the_tenant_allows_is_413_naming_limit_and_count(csv_service: CsvService) -> None:
    tenant = csv_service.tenant(importRowLimit=3)
    rows = [["firstName", "email"]] + [[f"P{i}", f"p{i}@firm.example.org"] for i in range(4)]
    response = csv_service.upload(tenant, csv_bytes(rows))
    assert response.status_code == 413
    detail = response.json()["detail"]
    assert "4 records" in detail
    assert "at most 3" in detail
    assert (csv_service.count_clients(tenant), csv_service.count_jobs(tenant)) == (0, 0)
    at_limit = csv_bytes(rows[:4] + [["", ""], ["", ""]])
    assert imported(csv_service, tenant, at_limit)["counts"]["created"] == 3


def test_a_file_over_the_byte_limit_is_413_and_leaves_nothing_behind(csv_service: CsvService) -> None:
    tenant = csv_service.tenant()
    rows = [["firstName", "email"]] + [[f"Person {i}", f"p{i}@firm.example.org"] for i in range(100)]
    with overridden(csv_service.settings, max_upload_bytes=1000):
        response = csv_service.upload(tenant, csv_bytes(rows))
    assert response.status_code == 413
    assert errors_of(response)["file"].startswith("is larger than 1000 bytes")
    assert (csv_service.count_clients(tenant), csv_service.count_jobs(tenant)) == (0, 0)
    assert not list((csv_service.settings.data_dir / "uploads").glob("*"))


def test_a_declared_length_over_the_limit_is_refused_before_reading(csv_service: CsvService) -> None:
    tenant = csv_service.tenant()
    headers = {**tenant.headers, "Content-Type": "multipart/form-data; boundary=xyz", "Content-Length": str(10**10)}
    response = csv_service.client.post(tenant.path("/clients/import/csv"), content=b"--xyz--\r\n", headers=headers)
    assert response.status_code == 413


ZIP = b"PK\x05\x06" + bytes(18)


@pytest.mark.parametrize(
    ("content", "filename", "says"),
    [
        (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(100), "clients.csv", "executable"),
        (b"\x7fELF\x02\x01\x01" + bytes(100), "clients.csv", "executable"),
        (ZIP, "clients.zip", "zip"),
        (b"firstName,email\r\n\x00Ann,ann@firm.example.org\r\n", "clients.csv", "NUL"),
        (b"\x89PNG\r\n\x1a\n" + bytes(40), "clients.png", "PNG"),
        (b"<html><script>alert(1)</script></html>", "clients.csv", "HTML"),
        (b"#!/bin/sh\nrm -rf /\n", "clients.csv", "script"),
    ],
)
def test_files_that_are_not_tables_are_415(csv_service: CsvService, content: bytes, filename: str, says: str) -> None:
    tenant = csv_service.tenant()
    response = csv_service.upload(tenant, content, filename)
    assert response.status_code == 415, response.text
    assert says.lower() in response.json()["detail"].lower()
    assert csv_service.count_jobs(tenant) == 0


def test_a_macro_enabled_workbook_is_415_by_its_name(csv_service: CsvService) -> None:
    tenant = csv_service.tenant()
    workbook = xlsx_bytes({"Clients": [["firstName", "email"], ["Ann", "ann@firm.example.org"]]})
    response = csv_service.upload(tenant, workbook, "clients.xlsm")
    assert response.status_code == 415
    assert "macro" in response.json()["detail"]


@pytest.mark.parametrize(
    ("kwargs", "status", "field"),
    [
        ({"content": b"firstName,email\r\n", "headers": {"Content-Type": "text/csv"}}, 415, "file"),
        ({"data": {"mapping": "{}"}, "files": {"other": ("x.csv", b"a", "text/csv")}}, 400, "file"),
        ({"files": [("file", ("a.csv", b"a", "text/csv")), ("file", ("b.csv", b"b", "text/csv"))]}, 400, "file"),
        ({"files": {"file": ("a.csv", b"", "text/csv")}}, 400, None),
        ({"files": {"file": ("a.csv", b"firstName,email\r\n", "text/csv")}, "data": {"dryRun": "maybe"}}, 400, "dryRun"),
        ({"files": {"file": ("a.csv", b"firstName,email\r\n", "text/csv")}, "data": {"mapping": "x" * 70_000}}, 413, "mapping"),
        ({"content": b"--xyz\r\nnot a part", "headers": {"Content-Type": "multipart/form-data; boundary=xyz"}}, 400, None),
    ],
)
def test_malformed_requests_are_refused(csv_service: CsvService, kwargs: dict[str, Any], status: int, field: str | None) -> None:
    tenant = csv_service.tenant()
    kwargs = dict(kwargs)
    extra_headers = kwargs.pop("headers", {})
    response = csv_service.client.post(tenant.path("/clients/import/csv"), headers={**tenant.headers, **extra_headers}, **kwargs)
    assert response.status_code == status, response.text
    if field:
        assert field in errors_of(response)
    assert csv_service.count_jobs(tenant) == 0
    assert not list((csv_service.settings.data_dir / "uploads").glob("*"))


def test_a_file_with_only_a_header_imports_nothing(csv_service: CsvService) -> None:
    tenant = csv_service.tenant()
    body = imported(csv_service, tenant, b"firstName,email\r\n")
    assert body["counts"] == {"created": 0, "updated": 0, "unchanged": 0, "skipped": 0, "failed": 0}
    assert body["progress"]["total"] == 0


def test_auth_is_checked_before_the_upload(csv_service: CsvService) -> None:
    tenant = csv_service.tenant()
    content = csv_bytes([HEADER, *ROWS])
    path = tenant.path("/clients/import/csv")
    assert csv_service.client.post(path, files={"file": ("a.csv", content)}).status_code == 401
    reader = make_tenant(csv_service.database, code=f"r{tenant.code}", scopes=["clients:read"])
    assert (
        csv_service.client.post(reader.path("/clients/import/csv"), files={"file": ("a.csv", content)}, headers=reader.headers).status_code
        == 403
    )
    other = csv_service.tenant()
    assert csv_service.client.post(path, files={"file": ("a.csv", content)}, headers=other.headers).status_code == 403
    assert csv_service.count_jobs(tenant) == 0


def test_the_same_idempotency_key_replays_the_first_answer(csv_service: CsvService) -> None:
    tenant = csv_service.tenant()
    content = csv_bytes([HEADER, *ROWS])
    # Each send picks a new multipart boundary, as HTTP clients do; the retry still replays.
    first = csv_service.upload(tenant, content, headers={"Idempotency-Key": "upload-1"})
    second = csv_service.upload(tenant, content, headers={"Idempotency-Key": "upload-1"})
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert second.headers["idempotent-replayed"] == "true"
    other_file = csv_service.upload(tenant, csv_bytes([HEADER, *ROWS[:1]]), headers={"Idempotency-Key": "upload-1"})
    assert other_file.status_code == 422
    assert other_file.json()["errors"][0]["field"] == "Idempotency-Key"
    assert csv_service.count_jobs(tenant) == 1


# --- dry run ------------------------------------------------------------------------------


def test_dry_run_writes_nothing_and_shows_what_would_happen(csv_service: CsvService) -> None:
    tenant = csv_service.tenant(dateOrder="MDY")
    imported(
        csv_service,
        tenant,
        csv_bytes([["firstName", "lastName", "email"], ["Ann", "Lee", "ann@firm.example.org"], ["Bo", "Ray", "bo@firm.example.org"]]),
    )
    with csv_service.database.session() as session:
        changes_before = session.scalar(select(func.count()).select_from(ClientChange).where(ClientChange.tenant_id == tenant.id))
    before = csv_service.by_email(tenant)
    rows = [
        ["firstName", "lastName", "email", "dateOfBirth"],
        ["Ann", "Lee-Smith", "ann@firm.example.org", "01/02/1980"],
        ["Bo", "Ray", "bo@firm.example.org", ""],
        ["Cy", "New", "cy@firm.example.org", ""],
        ["", "Nofirst", "x@firm.example.org", ""],
    ]
    body = imported(csv_service, tenant, csv_bytes(rows), data={"dryRun": "true"})
    assert body["dryRun"] is True
    assert body["counts"] == {"created": 1, "updated": 1, "unchanged": 1, "skipped": 0, "failed": 1}
    assert body["summary"]["mapping"] == {"firstName": "firstName", "lastName": "lastName", "email": "email", "dateOfBirth": "dateOfBirth"}
    assert body["summary"]["dateOrder"]["dateOfBirth"]["order"] == "MDY"
    items = {row["index"]: row for row in body["rows"]["items"]}
    assert items[1]["changes"] == {
        "lastName": {"before": "Lee", "after": "Lee-Smith"},
        "name": {"before": "Ann Lee", "after": "Ann Lee-Smith"},
        "dateOfBirth": {"before": None, "after": "1980-01-02"},
    }
    assert [items[i]["action"] for i in (2, 3, 4)] == ["unchanged", "created", "failed"]
    assert csv_service.by_email(tenant) == before
    with csv_service.database.session() as session:
        changes_after = session.scalar(select(func.count()).select_from(ClientChange).where(ClientChange.tenant_id == tenant.id))
    assert changes_after == changes_before
    assert csv_service.client.post(tenant.path(f"/imports/{body['id']}/undo"), headers=tenant.headers).status_code == 409


def test_dry_run_previews_only_the_first_100_rows(csv_service: CsvService) -> None:
    tenant = csv_service.tenant()
    rows = [["firstName", "email"]] + [[f"P{i}", f"p{i}@firm.example.org"] for i in range(150)]
    body = imported(csv_service, tenant, csv_bytes(rows), params={"dryRun": "1"})
    assert body["rows"]["total"] == 150
    assert len(body["rows"]["items"]) == body["rows"]["shown"] == 100
    assert csv_service.count_clients(tenant) == 0


# --- the template ---------------------------------------------------------------------------


def test_the_template_needs_no_key_and_imports_its_example(csv_service: CsvService) -> None:
    tenant = csv_service.tenant()
    response = csv_service.client.get(tenant.path("/clients/import/template.csv"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    (example,) = export_records(response)
    assert list(example)[:9] == ["ID", "firstName", "lastName", "email", "project", "desk", "active", "type", "created"]
    body = imported(csv_service, tenant, response.content, "template.csv")
    assert (body["counts"]["created"], body["summary"]["unknownColumns"]) == (1, [])
    jane = csv_service.by_email(tenant)["jane.doe@example.com"]
    assert (jane["firstName"], jane["company"], jane["tags"]) == ("Jane", "Doe & Daughters Ltd", ["newsletter"])


# --- no input produces a server error -----------------------------------------------------


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    content=st.one_of(
        st.binary(max_size=600),
        st.lists(st.lists(st.text(max_size=8), max_size=4), max_size=5).map(lambda rows: csv_bytes([["firstName", "email"], *rows])),
    ),
    filename=st.sampled_from(["a.csv", "a.xlsx", "a.xls", "a.ods", "a.xlsm", "a", "a.txt"]),
)
def test_no_upload_produces_a_server_error(csv_service: CsvService, content: bytes, filename: str) -> None:
    tenant = csv_service.tenant()
    response = csv_service.upload(tenant, content, filename)
    assert response.status_code in (201, 400, 413, 415), response.text
    if response.status_code != 201:
        assert csv_service.count_jobs(tenant) == 0
