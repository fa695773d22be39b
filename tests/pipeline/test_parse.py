"""The table reader against the shared corpus, edge cases, memory, and a round-trip property."""

from __future__ import annotations

import datetime
import hashlib
import json
import re
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clientdock.errors import BadRequest, UnsupportedMediaType, ValidationFailed
from clientdock.pipeline.parse import ParsedRow, TableInfo, cell_text, open_table

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
EXPECTATIONS: list[dict[str, Any]] = json.loads((CORPUS / "expectations.json").read_text(encoding="utf-8"))["files"]
PARSE_ENTRIES = [entry for entry in EXPECTATIONS if "parse" in entry]

# Encodings that decode the corpus files to the same text count as one family.
FAMILIES = {
    "utf-8": "utf-8",
    "utf-8-sig": "utf-8",
    "utf-16le": "utf-16le",
    "utf-16-le": "utf-16le",
    "utf-16be": "utf-16be",
    "utf-16-be": "utf-16be",
    "latin-1": "western",
    "iso8859-1": "western",
    "cp1252": "western",
    "big5": "big5",
    "cp950": "big5",
    "big5hkscs": "big5",
}


def count_records(path: Path) -> int:
    """The data records a file holds, read in one streaming pass as the door reads them."""
    _info, rows = open_table(path)
    return sum(1 for _ in rows)


def read_all(path: Path, **kwargs: Any) -> tuple[TableInfo, list[ParsedRow]]:
    info, rows = open_table(path, **kwargs)
    return info, list(rows)


def records_sha256(records: list[list[str]]) -> str:
    return hashlib.sha256(json.dumps(records, ensure_ascii=False).encode("utf-8")).hexdigest()


# --- the corpus ---------------------------------------------------------------------------


@pytest.mark.parametrize("entry", PARSE_ENTRIES, ids=[entry["path"] for entry in PARSE_ENTRIES])
def test_corpus_parse_block(entry: dict[str, Any]) -> None:
    expected = entry["parse"]
    info, rows = read_all(CORPUS / entry["path"])
    records = [row.cells for row in rows]

    assert info.kind == "csv"
    assert info.header == expected["header"]
    assert info.delimiter == expected["delimiter"]
    assert FAMILIES[info.encoding or ""] == FAMILIES[expected["encoding"]]
    assert info.bom is expected["bom"]
    assert info.newline == expected["newline"]
    assert info.header_line == expected["header_line"]
    assert len(records) == expected["record_count"]
    assert [row.record for row in rows] == list(range(1, len(rows) + 1))
    if isinstance(expected.get("records"), list):
        assert records == expected["records"]
    if "records_sha256" in expected:
        assert records_sha256(records) == expected["records_sha256"]
    if "first_record" in expected:
        assert records[0] == expected["first_record"]
        assert records[-1] == expected["last_record"]
    if "record_lines" in expected:
        assert [row.line for row in rows] == expected["record_lines"]
    for index in expected.get("ragged_records", []):
        assert len(records[index - 1]) != len(info.header)


@pytest.mark.parametrize("entry", PARSE_ENTRIES, ids=[entry["path"] for entry in PARSE_ENTRIES])
def test_corpus_count_records_matches(entry: dict[str, Any]) -> None:
    assert count_records(CORPUS / entry["path"]) == entry["parse"]["record_count"]


def test_csv_spectrum_json_agrees() -> None:
    """The upstream csv-spectrum JSON files give the same records (header -> value objects)."""
    for entry in PARSE_ENTRIES:
        expected_json = entry["parse"].get("expected_json")
        if not expected_json or entry["parse"].get("upstream_json_differs"):
            continue
        info, rows = read_all(CORPUS / entry["path"])
        objects = json.loads((CORPUS / expected_json).read_text(encoding="utf-8"))
        assert [dict(zip(info.header, row.cells, strict=True)) for row in rows] == objects, entry["path"]


def test_header_below_title_and_blank_lines_is_reported() -> None:
    info, rows = read_all(CORPUS / "conformance/csvkit/test_skip_lines.csv")
    assert (info.header_line, info.header, rows[0].line) == (4, ["a", "b", "c"], 5)


def test_explicit_encoding_big5() -> None:
    info, rows = read_all(CORPUS / "conformance/messytables/characters.csv", encoding="big5")
    assert info.encoding == "big5"
    assert info.header[:3] == ["id", "景點編號", "景點中文名稱"]
    assert len(rows) == 382


def test_explicit_encoding_wrong_for_the_bytes_names_encoding() -> None:
    with pytest.raises(ValidationFailed) as caught:
        read_all(CORPUS / "conformance/messytables/characters.csv", encoding="utf-8")
    assert caught.value.errors[0].field == "encoding"


def test_unknown_encoding_is_400_naming_encoding() -> None:
    with pytest.raises(ValidationFailed) as caught:
        open_table(CORPUS / "conformance/csvkit/bad.csv", encoding="klingon-8")
    assert caught.value.status == 400
    assert caught.value.errors[0].field == "encoding"


def test_non_text_codec_is_refused_as_encoding() -> None:
    with pytest.raises(ValidationFailed):
        open_table(CORPUS / "conformance/csvkit/bad.csv", encoding="base64")


def test_explicit_utf8_still_strips_bom() -> None:
    info, _ = read_all(CORPUS / "clients/basics_clients.csv", encoding="UTF8")
    assert (info.encoding, info.bom, info.header[0]) == ("utf-8", True, "First Name")


# --- refused and unreadable files ---------------------------------------------------------

REFUSED_415 = [
    entry["path"] for entry in EXPECTATIONS if (entry.get("import") or {}).get("outcome") == "refused" and 415 in entry["import"]["http"]
]


@pytest.mark.parametrize("path", REFUSED_415)
def test_corpus_files_refused_with_415(path: str) -> None:
    with pytest.raises(UnsupportedMediaType):
        open_table(CORPUS / path)


def test_encrypted_xls_says_so() -> None:
    with pytest.raises(UnsupportedMediaType, match="(?i)password|encrypt"):
        open_table(CORPUS / "conformance/messytables/encrypted_no_password.xls")


def test_empty_first_sheet_is_400_saying_empty() -> None:
    with pytest.raises(BadRequest, match="empty") as caught:
        open_table(CORPUS / "conformance/csvkit/sheets.xlsx")
    assert caught.value.status == 400
    assert "'data'" in caught.value.detail


def test_unknown_sheet_is_400_naming_sheet() -> None:
    with pytest.raises(ValidationFailed) as caught:
        open_table(CORPUS / "conformance/csvkit/sheets.xlsx", sheet="nope")
    assert caught.value.errors[0].field == "sheet"


def test_empty_file_is_400(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"\r\n\r\n")
    with pytest.raises(BadRequest, match="empty"):
        open_table(path)


def test_nul_beyond_the_head_is_still_refused(tmp_path: Path) -> None:
    path = tmp_path / "late_nul.csv"
    path.write_bytes(b"a,b\n" + b"x,y\n" * 40_000 + b"\x00,z\n")
    info, rows = open_table(path)
    assert info.header == ["a", "b"]
    with pytest.raises(UnsupportedMediaType, match="line 40002"):
        list(rows)
    with pytest.raises(UnsupportedMediaType):
        count_records(path)


# --- dialect details ----------------------------------------------------------------------


def test_excel_sep_line_sets_delimiter_and_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "sep.csv"
    path.write_bytes(b"sep=;\r\nFirst Name;E-mail\r\nAda;ada@example.com\r\n")
    info, rows = read_all(path)
    assert (info.delimiter, info.header, info.header_line) == (";", ["First Name", "E-mail"], 2)
    assert rows == [ParsedRow(1, 3, ["Ada", "ada@example.com"])]


def test_sep_line_with_tab_and_mac_newlines(tmp_path: Path) -> None:
    path = tmp_path / "sep.csv"
    path.write_bytes(b"sep=\t\ra,b\tc\r1,2\t3\r")
    info, rows = read_all(path)
    assert (info.delimiter, info.newline, info.header, info.header_line) == ("\t", "CR", ["a,b", "c"], 2)
    assert rows == [ParsedRow(1, 3, ["1,2", "3"])]


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiter_is_sniffed(tmp_path: Path, delimiter: str) -> None:
    rows = [["name", "city", "zip"], ["Ada", "London", "N1 9GU"], ["Bob", "Paris", "75001"]]
    path = tmp_path / "d.csv"
    path.write_text("".join(delimiter.join(row) + "\n" for row in rows), encoding="utf-8")
    info, parsed = read_all(path)
    assert info.delimiter == delimiter
    assert [row.cells for row in parsed] == rows[1:]


def test_explicit_delimiter_wins(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("a;b,c\n1;2,3\n", encoding="utf-8")
    info, rows = read_all(path, delimiter=";")
    assert info.header == ["a", "b,c"]
    assert rows[0].cells == ["1", "2,3"]


def test_bad_explicit_delimiter_names_delimiter(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("a,b\n", encoding="utf-8")
    with pytest.raises(ValidationFailed) as caught:
        open_table(path, delimiter="::")
    assert caught.value.errors[0].field == "delimiter"


def test_delimiter_only_record_is_a_record_blank_line_is_not(tmp_path: Path) -> None:
    path = tmp_path / "blank.csv"
    path.write_bytes(b"a,b\r\n\r\n,\r\n1,2\r\n\r\n")
    _, rows = read_all(path)
    assert rows == [ParsedRow(1, 3, ["", ""]), ParsedRow(2, 4, ["1", "2"])]


def test_cp1252_deep_in_a_utf8_looking_file(tmp_path: Path) -> None:
    """A legacy byte far beyond the sniffed head still decides the encoding."""
    path = tmp_path / "late.csv"
    body = "name,city\r\n" + "Ada,London\r\n" * 20_000 + "Zoë,Köln €\r\n"
    path.write_bytes(body.encode("cp1252"))
    info, rows = read_all(path)
    assert info.encoding == "cp1252"
    assert rows[-1].cells == ["Zoë", "Köln €"]


def test_utf16_without_bom(tmp_path: Path) -> None:
    path = tmp_path / "u16.csv"
    path.write_bytes("firstName;email\nZoë;z@example.com\n".encode("utf-16-le"))
    info, rows = read_all(path)
    assert (info.encoding, info.bom, info.delimiter) == ("utf-16le", False, ";")
    assert rows[0].cells == ["Zoë", "z@example.com"]


# --- spreadsheets -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "kind", "header", "first"),
    [
        ("conformance/csvkit/dummy.xlsx", "xlsx", ["a", "b", "c"], ["1", "2", "3"]),
        ("conformance/csvkit/dummy.xls", "xls", ["a", "b", "c"], ["1", "2", "3"]),
        ("conformance/messytables/simple.xlsx", "xlsx", ["date", "temperature", "place"], ["2011-01-01", "1", "Galway"]),
        ("conformance/messytables/simple.xls", "xls", ["date", "temperature", "place"], ["2011-01-01", "1", "Galway"]),
        ("conformance/messytables/simple.ods", "ods", ["Name", "Age", "When"], ["Bob", "20", "2010-10-10"]),
    ],
)
def test_spreadsheets(path: str, kind: str, header: list[str], first: list[str]) -> None:
    info, rows = read_all(CORPUS / path)
    assert (info.kind, info.header, info.header_line, info.encoding, info.delimiter) == (kind, header, 1, None, None)
    assert rows[0] == ParsedRow(1, 2, first)
    assert count_records(CORPUS / path) == len(rows)


def test_sheet_by_name_and_cells_as_typed() -> None:
    info, rows = read_all(CORPUS / "conformance/csvkit/sheets.xlsx", sheet="data")
    assert info.sheet == "data"
    assert info.header == ["text", "date", "integer", "boolean", "float", "datetime", "empty_column"]
    assert rows[0] == ParsedRow(1, 2, ["Chicago Reader", "1971-01-01", "40", "true", "1", "1971-01-01T04:14:00", ""])
    assert rows[1].cells[4] == "1.27"
    assert rows[1].cells[7] == "Extra data beyond headers will be trimmed"  # extra cell kept for the caller
    assert rows[2].cells[2:5] == ["164", "false", "41800000.01"]


def _repack(source: Path, target: Path, member: str, edit: Callable[[bytes], bytes]) -> Path:
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            data = old.read(info.filename)
            new.writestr(info.filename, edit(data) if info.filename == member else data)
    return target


def test_default_sheet_is_the_first_visible_one(tmp_path: Path) -> None:
    path = _repack(
        CORPUS / "conformance/csvkit/sheets.xlsx",
        tmp_path / "hidden.xlsx",
        "xl/workbook.xml",
        lambda xml: xml.replace(b'<sheet name="not this one"', b'<sheet state="hidden" name="not this one"'),
    )
    info, rows = read_all(path)
    assert (info.sheet, info.header[0], len(rows)) == ("data", "text", 5)


def test_damaged_workbook_is_400(tmp_path: Path) -> None:
    path = _repack(
        CORPUS / "conformance/csvkit/dummy.xlsx",
        tmp_path / "broken.xlsx",
        "xl/worksheets/sheet1.xml",
        lambda _: b'<worksheet><sheetData><row r="1"><c r="A1" t="s"><v>99</v></c></row>',
    )
    with pytest.raises(BadRequest, match="cannot be read") as caught:
        open_table(path)
    assert caught.value.status == 400


def test_sheet_with_unicode_name() -> None:
    info, rows = read_all(CORPUS / "conformance/csvkit/sheets.xlsx", sheet="ʤ")
    assert (info.header, rows) == (["a", "b", "c"], [ParsedRow(1, 2, ["1", "2", "3"])])


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        ("", ""),
        ("  x ", "  x "),
        (True, "true"),
        (False, "false"),
        (42, "42"),
        (42.0, "42"),
        (-1.0, "-1"),
        (447911234567.0, "447911234567"),
        (0.1, "0.1"),
        (1.27, "1.27"),
        (datetime.date(2024, 2, 29), "2024-02-29"),
        (datetime.datetime(2024, 2, 29, 13, 5, 0), "2024-02-29T13:05:00"),
        (datetime.time(9, 30), "09:30:00"),
        (datetime.timedelta(hours=26, minutes=3), "26:03:00"),
    ],
)
def test_cell_text(value: object, text: str) -> None:
    assert cell_text(value) == text


# --- size ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "big.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("firstName,lastName,email\r\n")
        out.writelines(f"Name{i},Last{i},user{i}@example.com\r\n" for i in range(1_000_000))
    return path


def test_million_rows_are_counted(big_csv: Path) -> None:
    assert count_records(big_csv) == 1_000_000


def test_memory_is_flat_in_file_size(tmp_path: Path) -> None:
    """200,000 rows (~9 MB) are read with a peak well under what a list of them would take."""
    path = tmp_path / "rows.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("firstName,lastName,email\n")
        out.writelines(f"Name{i},Last{i},user{i}@example.com\n" for i in range(200_000))
    tracemalloc.start()
    try:
        _, rows = open_table(path)
        lines = [0, 0]
        for row in rows:
            lines[0] += 1
            lines[1] = row.line
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert lines == [200_000, 200_001]
    assert peak < 6 * 1024 * 1024, peak


# --- round trip property ------------------------------------------------------------------

CANDIDATES = (",", ";", "\t", "|")
WESTERN_WORDS = ["Zoë", "Brontë", "François", "Lefèvre", "Jürgen", "Weiß", "Müller", "Siobhán", "Núñez", "Société", "café", "€5", "naïve"]


def _quote(cell: str, delimiter: str, quote_all: bool, alone: bool) -> str:
    """Quote like Excel/csv writers do; a lone empty cell is quoted so the line is not empty."""
    if quote_all or (alone and cell == "") or any(ch in cell for ch in (delimiter, '"', "\r", "\n")):
        return '"' + cell.replace('"', '""') + '"'
    return cell


def write_table(rows: list[list[str]], delimiter: str, newline: str, quote_all: bool, final_newline: bool) -> tuple[str, list[int]]:
    """RFC 4180 text for ``rows`` and the 1-based physical line where each row starts."""
    parts: list[str] = []
    starts: list[int] = []
    line = 1
    for row in rows:
        starts.append(line)
        text = delimiter.join(_quote(cell, delimiter, quote_all, len(row) == 1) for cell in row)
        line += len(re.findall(r"\r\n|\r|\n", text)) + 1
        parts.append(text)
    return newline.join(parts) + (newline if final_newline else ""), starts


def cell_text_strategy(delimiter: str, western: bool) -> st.SearchStrategy[str]:
    specials = st.sampled_from(['"', "\r", "\n", "\r\n", " ", delimiter, "=", "'"])
    if western:
        words = st.sampled_from(WESTERN_WORDS) | st.text(alphabet="abcXYZ019 .-@", max_size=6)
    else:
        banned = "".join(c for c in CANDIDATES if c != delimiter) + "\ufeff"
        words = st.text(st.characters(exclude_categories=("Cs", "Cc"), exclude_characters=banned), max_size=8)
    return st.lists(words | specials, max_size=4).map("".join)


def _not_blank(cell: str) -> bool:
    """A header cell of only spaces would make a blank line, which is not a header."""
    return not cell.isspace()


@st.composite
def tables(draw: st.DrawFn) -> dict[str, Any]:
    delimiter = draw(st.sampled_from(CANDIDATES))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]))
    cells = cell_text_strategy(delimiter, western=encoding == "cp1252")
    width = draw(st.integers(1, 4))
    header = draw(st.lists(st.text(alphabet="abcdefghij XYZ_", min_size=1, max_size=8).filter(_not_blank), min_size=width, max_size=width))
    body = draw(st.lists(st.lists(cells, min_size=width, max_size=width), max_size=6))
    return {
        "delimiter": delimiter,
        "encoding": encoding,
        "rows": [header, *body],
        "newline": draw(st.sampled_from(["\r\n", "\n", "\r"])),
        "quote_all": draw(st.booleans()),
        "final_newline": draw(st.booleans()),
        "blank_prefix": draw(st.integers(0, 2)),
    }


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(table=tables())
def test_round_trip(tmp_path: Path, table: dict[str, Any]) -> None:
    rows: list[list[str]] = table["rows"]
    text, starts = write_table(rows, table["delimiter"], table["newline"], table["quote_all"], table["final_newline"])
    prefix = table["newline"] * table["blank_prefix"]
    path = tmp_path / "table.csv"
    path.write_bytes((prefix + text).encode(table["encoding"]))

    info, parsed = read_all(path)

    assert info.header == rows[0]
    assert info.header_line == 1 + table["blank_prefix"]
    assert [row.cells for row in parsed] == rows[1:]
    assert [row.line for row in parsed] == [start + table["blank_prefix"] for start in starts[1:]]
    if len(rows[0]) > 1:
        assert info.delimiter == table["delimiter"]
    assert info.bom is (table["encoding"] in ("utf-8-sig", "utf-16"))
    assert FAMILIES[info.encoding or ""] == _expected_family(table["encoding"], (prefix + text).isascii())
    assert count_records(path) == len(rows) - 1


def _expected_family(encoding: str, ascii_only: bool) -> str:
    """cp1252 text that is pure ASCII is (rightly) read as UTF-8; Python writes UTF-16 as LE."""
    if encoding == "cp1252" and ascii_only:
        return "utf-8"
    return {"utf-16": "utf-16le", "utf-8-sig": "utf-8", "cp1252": "western"}.get(encoding, encoding)


# --- empty files (issue 14) -------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"\n\n\n",
        b"\r\n\r\n",
        b"\r\r",
        b"   \n\t\n  \r\n",
        b"\xef\xbb\xbf",
        b"\xef\xbb\xbf\r\n \r\n",
        "\ufeff \r\n\r\n".encode("utf-16"),
        b",,,\r\n,,\r\n",
    ],
    ids=["nothing", "LF", "CRLF", "CR", "spaces-and-tabs", "utf8-bom", "bom-and-blank", "utf16-bom-and-blank", "only-delimiters"],
)
def test_a_blank_only_file_is_refused_as_empty_naming_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "blank.csv"
    path.write_bytes(content)
    with pytest.raises(BadRequest, match="The file is empty") as caught:
        open_table(path)
    assert [(error.field, error.code) for error in caught.value.errors] == [("file", "empty")]
    assert "firstName" not in caught.value.detail


def test_lines_of_spaces_above_the_header_are_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "padded.csv"
    path.write_bytes(b"  \r\n,,\r\nfirstName,email\r\nAda,ada@example.org\r\n")
    info, rows = read_all(path)
    assert (info.header, info.header_line) == (["firstName", "email"], 3)
    assert rows == [ParsedRow(1, 4, ["Ada", "ada@example.org"])]


def test_a_bare_cr_inside_a_quoted_cell_is_kept_for_the_pipeline(tmp_path: Path) -> None:
    """The reader keeps the CR (the pipeline's text rule makes it a line break); CRLF, LF and CR rows all work."""
    for newline in ("\r\n", "\n", "\r"):
        path = tmp_path / "cr.csv"
        path.write_bytes(f'firstName,company{newline}Ada,"x\r=1+1"{newline}Bo,plain{newline}'.encode())
        _info, rows = read_all(path)
        assert [row.cells for row in rows] == [["Ada", "x\r=1+1"], ["Bo", "plain"]], newline
        assert [row.line for row in rows] == [2, 4], newline
