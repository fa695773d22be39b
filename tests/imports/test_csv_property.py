"""Properties: what goes into a CSV comes out again, whatever the quoting, delimiter,
line ends or encoding, and through the import and the export alike."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clientdock.csvsafe import DANGEROUS_LEADS, neutralise, restore
from clientdock.imports.file_records import read_records, survey
from clientdock.pipeline.values import visible
from tests.conftest import BACKENDS
from tests.imports.csv_support import CsvService, export_records, running_service


@pytest.fixture(scope="module", params=BACKENDS)
def csv_service(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CsvService]:
    yield from running_service(request, tmp_path_factory)


FIELDS = ["firstName", "lastName", "email", "company", "note"]
QUOTING = [csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC]

# Printable text with the characters CSV dialects trip over; no surrogates, no NUL.
_TRICKY = ",;\t|\"'\r\n =+-@ éßø€中\u2028\u00a0"
cells = st.text(alphabet=st.one_of(st.sampled_from(_TRICKY), st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"))), max_size=12)


@st.composite
def tables(draw: st.DrawFn) -> list[dict[str, str]]:
    count = draw(st.integers(min_value=1, max_value=6))
    rows = []
    for index in range(count):
        row = {name: draw(cells) for name in FIELDS}
        row["email"] = f"p{index}@firm.example.org"
        rows.append(row)
    return rows


@st.composite
def dialects(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "delimiter": draw(st.sampled_from([",", ";", "\t", "|"])),
        "quoting": draw(st.sampled_from(QUOTING)),
        "lineterminator": draw(st.sampled_from(["\r\n", "\n"])),
        "encoding": draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "cp1252"])),
    }


def write(rows: list[dict[str, str]], dialect: dict[str, Any]) -> bytes:
    quoting = dialect["quoting"]
    if dialect["lineterminator"] == "\n" and any("\r" in value for row in rows for value in row.values()):
        # The stdlib writer quotes only the terminator's own characters: a lone CR would be unquoted.
        quoting = csv.QUOTE_ALL
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=dialect["delimiter"], quoting=quoting, lineterminator=dialect["lineterminator"])
    writer.writerow(FIELDS)
    writer.writerows([[neutralise(row[name]) for name in FIELDS] for row in rows])
    return buffer.getvalue().encode(dialect["encoding"])


def encodable(rows: list[dict[str, str]], encoding: str) -> bool:
    try:
        "".join(value for row in rows for value in row.values()).encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def given_encoding(dialect: dict[str, Any]) -> str | None:
    """Unicode files are detected; a few random bytes of a legacy code page cannot be told
    apart from another (a lone 0xB9 is '¹' in cp1252, 'ą' in cp1250), so that one is given."""
    return "cp1252" if dialect["encoding"] == "cp1252" else None


@given(st.text())
def test_restore_undoes_neutralise(text: str) -> None:
    assert restore(neutralise(text)) == text
    assert not neutralise(text).startswith(DANGEROUS_LEADS)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=tables(), dialect=dialects())
def test_what_is_written_is_read_back(tmp_path: Path, rows: list[dict[str, str]], dialect: dict[str, Any]) -> None:
    if not encodable(rows, dialect["encoding"]):
        return
    path = tmp_path / "table.csv"
    path.write_bytes(write(rows, dialect))
    found = survey(path, filename="table.csv", encoding=given_encoding(dialect), sheet=None, mapping=None, date_order="DMY", limit=100)
    assert found.info.delimiter == dialect["delimiter"]
    assert found.match.fields == FIELDS
    info = found.info
    records = list(
        read_records(path, filename="table.csv", encoding=info.encoding, delimiter=info.delimiter, sheet=None, mapping=None, date_orders={})
    )
    expected = [{name: value for name, value in row.items() if value and not value.isspace()} for row in rows]
    assert [record.fields for record in records] == expected
    assert [record.index for record in records] == list(range(1, len(rows) + 1))


def stored_form(value: str, name: str) -> str | None:
    """What the pipeline keeps of a cell: a bare CR is a line break (LF); names lose invisible
    format characters (``values.visible``) and control characters; then trimmed."""
    out = re.sub(r"\r(?!\n)", "\n", value)
    if name in ("firstName", "lastName", "company"):
        out = "".join(ch for ch in visible(out) if not (ord(ch) < 32 and ch not in "\t\n") and ch != "\x7f")
    return out.strip() or None


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(rows=tables(), dialect=dialects())
def test_import_then_export_gives_back_what_went_in(csv_service: CsvService, rows: list[dict[str, str]], dialect: dict[str, Any]) -> None:
    if not encodable(rows, dialect["encoding"]):
        return
    for row in rows:
        row["firstName"] = row["firstName"].strip() or "First"
    tenant = csv_service.tenant()
    encoding = given_encoding(dialect)
    response = csv_service.upload(tenant, write(rows, dialect), data={"encoding": encoding} if encoding else None)
    assert response.status_code == 201, response.text
    assert response.json()["counts"]["created"] == len(rows), response.json()["rows"]
    export = csv_service.export(tenant)
    exported = {record["email"]: record for record in export_records(export)}
    for row in rows:
        got = exported[row["email"]]
        for name in FIELDS:
            assert restore(got[name]) == (stored_form(row[name], name) or ""), (name, row[name], got[name])
    again = csv_service.upload(tenant, export.content, "export.csv")
    assert again.json()["counts"]["unchanged"] == len(rows)
