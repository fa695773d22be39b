"""Text as the firm wrote it (issue 14), through the real endpoints on both databases: strict
decoding refuses a mixed or wrongly declared file before anything is written (existing clients
untouched), an empty file is refused as empty, a bare CR is a line break, and invisible format
characters leave names and emails on every door."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import BACKENDS, TenantInfo
from tests.imports.csv_support import CORPUS, CsvService, csv_bytes, export_records, running_service, xlsx_bytes


@pytest.fixture(scope="module", params=BACKENDS)
def csv_service(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CsvService]:
    yield from running_service(request, tmp_path_factory)


HEADER = ["firstName", "lastName", "email", "company"]
MUELLER = ["Jürgen", "Müller", "juergen.mueller@example.de", "Müller & Söhne GmbH"]


def mixed_file(*, filler: int = 0) -> bytes:
    """UTF-8 rows, ``filler`` more, then two pasted cp1252 rows and a last UTF-8 row."""
    head = csv_bytes([HEADER, MUELLER, ["Zoë", "Brontë", "zoe@example.co.uk", "Brontë Ltd"]])
    more = csv_bytes([[f"Ann{n}", "Ålund", f"ann{n}@example.se", "Ålund AB"] for n in range(filler)])
    pasted = csv_bytes([["Renée", "Lefèvre", "renee@example.fr", "Lefèvre – Conseil"], ["José", "Núñez", "jose@example.es", "Núñez y Cía"]])
    return head + more + pasted.decode("utf-8").encode("cp1252") + csv_bytes([["Ingrid", "Øst", "ingrid@example.dk", "Øst ApS"]])


def problem(response: Any) -> dict[str, Any]:
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    return body


def snapshot(service: CsvService, tenant: TenantInfo) -> tuple[int, int, dict[str, dict[str, Any]]]:
    return service.count_clients(tenant), service.count_jobs(tenant), service.by_email(tenant)


def imported(service: CsvService, tenant: TenantInfo, content: bytes, filename: str = "clients.csv", **kwargs: Any) -> dict[str, Any]:
    response = service.upload(tenant, content, filename, **kwargs)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


# --- strict decoding ------------------------------------------------------------------------


def test_a_mixed_file_is_refused_naming_its_lines_and_existing_clients_stay_as_they_were(csv_service: CsvService) -> None:
    tenant = csv_service.tenant()
    imported(csv_service, tenant, csv_bytes([HEADER, MUELLER]))
    before = snapshot(csv_service, tenant)

    for dry_run in ("false", "true"):
        response = csv_service.upload(tenant, mixed_file(), data={"dryRun": dry_run})
        assert response.status_code == 400, response.text
        body = problem(response)
        assert [(error["field"], error["row"]) for error in body["errors"]] == [("encoding", 4), ("encoding", 5)]
        assert "lines 4 and 5" in body["detail"]
        assert "encoding field" in body["detail"]

    assert snapshot(csv_service, tenant) == before  # no job, no client written, Müller not turned into MÃ¼ller
    assert before[2]["juergen.mueller@example.de"]["lastName"] == "Müller"


def test_a_large_mixed_file_is_refused_before_any_row_is_applied(csv_service: CsvService) -> None:
    """The pasted rows sit past the sniffed head and the first read chunks; their line is exact."""
    tenant = csv_service.tenant()
    response = csv_service.upload(tenant, mixed_file(filler=30_000))
    assert response.status_code == 400, response.text
    assert [error["row"] for error in problem(response)["errors"]] == [30_004, 30_005]
    assert (csv_service.count_clients(tenant), csv_service.count_jobs(tenant)) == (0, 0)


def test_an_explicit_encoding_is_honoured_strictly(csv_service: CsvService) -> None:
    tenant = csv_service.tenant()
    cp1252 = csv_bytes([HEADER, ["Zoë", "Brontë", "zoe@example.co.uk", "Weiß € Partner"]], encoding="cp1252")
    refused = csv_service.upload(tenant, cp1252, data={"encoding": "utf-8"})
    assert refused.status_code == 400
    body = problem(refused)
    assert [(error["field"], error["row"]) for error in body["errors"]] == [("encoding", 2)]
    assert "not valid utf-8 (the encoding given)" in body["detail"]
    assert (csv_service.count_clients(tenant), csv_service.count_jobs(tenant)) == (0, 0)

    job = imported(csv_service, tenant, cp1252, data={"encoding": "cp1252"})
    assert job["summary"]["encoding"] == "cp1252"
    assert csv_service.by_email(tenant)["zoe@example.co.uk"]["company"] == "Weiß € Partner"


def test_a_windows_1252_file_is_detected_and_stored_as_written(csv_service: CsvService) -> None:
    tenant = csv_service.tenant()
    job = imported(csv_service, tenant, (CORPUS / "clients/windows1252_clients.csv").read_bytes())
    assert (job["summary"]["encoding"], job["counts"]["created"]) == ("cp1252", 5)
    stored = csv_service.by_email(tenant)
    assert stored["juergen.weiss@example.de"]["company"] == "Weiß € Partner GmbH"
    assert stored["zoe.bronte@example.co.uk"]["note"] == "Prefers “paper” invoices – always"
    assert not any("\ufffd" in str(value) or "Ã" in str(value) for client in stored.values() for value in client.values())


# --- empty files ----------------------------------------------------------------------------


@pytest.mark.parametrize("content", [b"", b"\r\n\r\n", b"   \n\t\n", b"\xef\xbb\xbf", b"\xef\xbb\xbf\r\n  \r\n"])
def test_an_empty_or_blank_only_file_is_refused_as_empty(csv_service: CsvService, content: bytes) -> None:
    tenant = csv_service.tenant()
    response = csv_service.upload(tenant, content)
    assert response.status_code == 400, response.text
    body = problem(response)
    assert body["detail"].startswith("The file is empty")
    assert [(error["field"], error["code"]) for error in body["errors"]] == [("file", "empty")]
    assert "firstName" not in response.text
    assert (csv_service.count_clients(tenant), csv_service.count_jobs(tenant)) == (0, 0)


def test_an_empty_sheet_is_refused_as_empty(csv_service: CsvService) -> None:
    tenant = csv_service.tenant()
    response = csv_service.upload(tenant, xlsx_bytes({"Clients": [["  ", ""], ["", " "]]}), "clients.xlsx")
    assert response.status_code == 400, response.text
    assert "is empty" in problem(response)["detail"]
    assert csv_service.count_jobs(tenant) == 0


# --- bare CR and invisible characters -------------------------------------------------------


def test_a_bare_cr_in_a_quoted_cell_is_stored_as_a_line_break_and_exports_back(csv_service: CsvService) -> None:
    tenant = csv_service.tenant()
    for newline in ("\r\n", "\n", "\r"):
        content = f'firstName,email,company,note{newline}Ada,ada@example.org,"x\r=1+1","one\rtwo"{newline}'.encode()
        imported(csv_service, tenant, content)
        ada = csv_service.by_email(tenant)["ada@example.org"]
        assert (ada["company"], ada["note"]) == ("x\n=1+1", "one\ntwo"), newline
    exported = csv_service.export(tenant)
    again = imported(csv_service, tenant, exported.content, "export.csv")
    assert again["counts"]["unchanged"] == 1


def test_invisible_characters_leave_names_and_emails_in_csv_and_xlsx(csv_service: CsvService) -> None:
    tenant = csv_service.tenant()
    rows = [
        ["\u202eAdam", "Smith\u202c", "\u200eadam@example.org\u200f", "Smith \u2066Holdings\u2069 Ltd"],
        ["\u200bBeth", "Jo\u200bnes", "beth@exam\u200bple.org", "\ufeffJones Ltd"],
    ]
    imported(csv_service, tenant, csv_bytes([HEADER, *rows]))
    stored = csv_service.by_email(tenant)
    assert set(stored) == {"adam@example.org", "beth@example.org"}
    assert [stored["adam@example.org"][name] for name in ("firstName", "lastName", "company")] == ["Adam", "Smith", "Smith Holdings Ltd"]
    assert [stored["beth@example.org"][name] for name in ("firstName", "lastName", "company")] == ["Beth", "Jones", "Jones Ltd"]

    sheet: list[list[str | int | float]] = [[*HEADER]]
    sheet += [[*row] for row in rows]
    again = imported(csv_service, tenant, xlsx_bytes({"Clients": sheet}), "clients.xlsx")
    assert again["counts"]["unchanged"] == 2  # the same people: nothing hidden tells them apart


def test_invisible_characters_leave_names_on_the_json_door_too(csv_service: CsvService) -> None:
    tenant = csv_service.tenant()
    response = csv_service.client.post(
        tenant.path("/clients"),
        json={"firstName": "\u202eEve", "lastName": "\u2066Ng\u2069", "email": "\u200beve@example.org", "company": "Ng\r& Co"},
        headers=tenant.headers,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["firstName"], body["lastName"], body["email"], body["company"]) == ("Eve", "Ng", "eve@example.org", "Ng\n& Co")


def test_a_formula_hidden_behind_a_bidi_control_is_neutralised_on_export(csv_service: CsvService) -> None:
    tenant = csv_service.tenant()
    imported(csv_service, tenant, csv_bytes([HEADER, ['\u202e=HYPERLINK("http://evil.example")', "P", "p@example.org", ""]]))
    assert csv_service.by_email(tenant)["p@example.org"]["firstName"] == '=HYPERLINK("http://evil.example")'
    row = next(record for record in export_records(csv_service.export(tenant)) if record["email"] == "p@example.org")
    assert row["firstName"] == '\'=HYPERLINK("http://evil.example")'
