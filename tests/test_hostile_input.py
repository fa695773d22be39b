"""Hostile files and payloads are refused quickly with the right status and a reason, or (where
they are merely odd) imported as they are — never a 500, never a half-written import.

Each case goes through the real HTTP routes on SQLite and PostgreSQL. The sizes are real: the
zip bomb unpacks to 260 MiB (above the 256 MiB allowed), the cell is 10 MB.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import CORPUS, TenantInfo

ENTITIES = "".join(f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(2, 10))
BILLION_LAUGHS = (
    f'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol1 "lol">{ENTITIES}]>'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    '<row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData></worksheet>'
)


def upload(client: TestClient, tenant: TenantInfo, content: bytes, filename: str = "clients.csv") -> tuple[int, dict[str, object]]:
    response = client.post(
        tenant.path("/clients/import/csv"), files={"file": (filename, content, "application/octet-stream")}, headers=tenant.headers
    )
    return response.status_code, response.json()


def a_workbook_with(sheet: bytes | None = None, padding: int = 0) -> bytes:
    """A real workbook of the corpus with its first sheet replaced (or padded with ``padding``
    spaces, written in pieces so the test never holds them)."""
    source = next(path for path in sorted(CORPUS.rglob("*.xlsx")))
    out = io.BytesIO()
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if not item.filename.startswith("xl/worksheets/sheet1"):
                zout.writestr(item, data, compress_type=zipfile.ZIP_DEFLATED)
                continue
            with zout.open(item.filename, "w", force_zip64=True) as entry:
                entry.write(sheet if sheet is not None else data)
                piece = b" " * (1024 * 1024)
                for _ in range(padding // len(piece)):
                    entry.write(piece)
    return out.getvalue()


def clients(client: TestClient, tenant: TenantInfo) -> int:
    total: int = client.get(tenant.path("/clients"), headers=tenant.headers).json()["total"]
    return total


def test_a_zip_bomb_disguised_as_a_workbook_is_413_before_it_is_unpacked(client: TestClient, tenant: TenantInfo) -> None:
    bomb = a_workbook_with(padding=260 * 1024 * 1024)
    assert len(bomb) < 2 * 1024 * 1024  # a small upload...
    status, body = upload(client, tenant, bomb, "clients.xlsx")
    assert status == 413  # ...that would unpack to 260 MiB
    assert "more than the 256 MiB allowed" in str(body["detail"])
    assert clients(client, tenant) == 0


def test_billion_laughs_inside_a_workbook_is_refused_without_expanding(client: TestClient, tenant: TenantInfo) -> None:
    status, body = upload(client, tenant, a_workbook_with(BILLION_LAUGHS.encode()), "clients.xlsx")
    assert status == 400
    assert "The workbook cannot be read" in str(body["detail"])
    assert clients(client, tenant) == 0


def test_a_10_mb_cell_is_413_naming_its_line(client: TestClient, tenant: TenantInfo) -> None:
    status, body = upload(client, tenant, b"firstName,email,note\nAda,ada@firm.co.uk," + b"x" * 10_000_000 + b"\n")
    assert status == 413
    assert body["detail"] == "A cell near line 2 is longer than 131072 characters."


def test_ten_thousand_columns_import_what_is_known_and_say_what_was_not(client: TestClient, tenant: TenantInfo) -> None:
    header = ",".join(["firstName", "email", *(f"extra{i}" for i in range(9998))])
    row = ",".join(["Ada", "ada@firm.co.uk", *("x" for _ in range(9998))])
    status, body = upload(client, tenant, f"{header}\n{row}\n".encode())
    assert status == 201, body
    assert body["counts"] == {"created": 1, "updated": 0, "unchanged": 0, "skipped": 0, "failed": 0}
    assert "9998 column(s) were not imported (unknown)" in " ".join(str(w) for w in body["summary"]["warnings"])  # type: ignore[index]


def test_nul_bytes_make_a_file_binary_415(client: TestClient, tenant: TenantInfo) -> None:
    status, body = upload(client, tenant, b"firstName,email\nA\x00da,ada@firm.co.uk\n")
    assert status == 415
    assert "NUL bytes" in str(body["detail"])


def test_bytes_that_are_not_utf8_are_read_as_the_legacy_encoding_they_are(client: TestClient, tenant: TenantInfo) -> None:
    status, body = upload(client, tenant, "firstName,email\nRenée,renee@firm.co.uk\n".encode("cp1252"))
    assert status == 201, body
    assert body["summary"]["encoding"] != "utf-8"  # type: ignore[index]
    found = client.get(tenant.path("/clients"), headers=tenant.headers).json()["items"][0]
    assert found["firstName"] == "Renée"


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_deeply_nested_json_is_400_on_every_json_door(client: TestClient, tenant: TenantInfo, depth: int) -> None:
    nested = "[" * depth + "]" * depth
    for path, body in ((tenant.path("/clients/upsert"), nested), ("/users/bulk/sourceId", '{"users": ' + nested + "}")):
        response = client.post(path, content=body, headers={**tenant.headers, "content-type": "application/json"})
        assert response.status_code == 400, (path, response.text[:200])
        assert response.headers["content-type"].startswith("application/problem+json")
    assert clients(client, tenant) == 0


def test_an_empty_or_truncated_workbook_is_400_not_500(client: TestClient, tenant: TenantInfo, tmp_path: Path) -> None:
    whole = a_workbook_with()
    for content in (whole[: len(whole) // 2], b"PK\x03\x04" + bytes(100)):
        status, body = upload(client, tenant, content, "clients.xlsx")
        assert status in (400, 415), body
        assert body["detail"]
