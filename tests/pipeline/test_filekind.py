"""File kinds are decided by content: tables pass, everything unsafe or foreign is a 415."""

from __future__ import annotations

import gzip
import io
import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest

from clientdock.errors import PayloadTooLarge, UnsupportedMediaType
from clientdock.pipeline import filekind
from clientdock.pipeline.filekind import detect_file_kind, detect_kind

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
EXPECTATIONS: list[dict[str, Any]] = json.loads((CORPUS / "expectations.json").read_text(encoding="utf-8"))["files"]
REFUSED_415 = [
    entry["path"] for entry in EXPECTATIONS if (entry.get("import") or {}).get("outcome") == "refused" and 415 in entry["import"]["http"]
]


@pytest.mark.parametrize("path", REFUSED_415)
def test_corpus_refused_files(path: str) -> None:
    with pytest.raises(UnsupportedMediaType) as caught:
        detect_file_kind(CORPUS / path)
    assert caught.value.status == 415


def test_encrypted_xls_is_refused_saying_so() -> None:
    with pytest.raises(UnsupportedMediaType, match="password-protected"):
        detect_file_kind(CORPUS / "conformance/messytables/encrypted_no_password.xls")


def test_xlsm_refused_as_macro_enabled() -> None:
    with pytest.raises(UnsupportedMediaType, match="macro"):
        detect_file_kind(CORPUS / "conformance/messytables/bian-anal-mca-2005-dols-eng-1011-0312-tab3.xlsm")


def test_plain_zip_names_what_it_holds() -> None:
    with pytest.raises(UnsupportedMediaType, match="zip archive .*simple.csv"):
        detect_file_kind(CORPUS / "conformance/messytables/simple.zip")


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("conformance/csvkit/dummy.xlsx", "xlsx"),
        ("conformance/csvkit/sheets.xlsx", "xlsx"),
        ("conformance/messytables/simple.xlsx", "xlsx"),
        ("conformance/csvkit/dummy.xls", "xls"),
        ("conformance/messytables/simple.xls", "xls"),
        ("conformance/messytables/simple.ods", "ods"),
        ("conformance/messytables/simple.ssv", "csv"),
        ("conformance/csvkit/test_utf16_big.csv", "csv"),
        ("conformance/messytables/utf-16le_encoded.csv", "csv"),
        ("conformance/messytables/characters.csv", "csv"),
        ("names/blns_control_chars_clients.csv", "csv"),
    ],
)
def test_accepted_kinds(path: str, kind: str) -> None:
    assert detect_file_kind(CORPUS / path) == kind


def test_every_corpus_csv_is_csv() -> None:
    for entry in EXPECTATIONS:
        if "parse" in entry:
            assert detect_file_kind(CORPUS / entry["path"]) == "csv", entry["path"]


def test_whole_content_as_head_works_without_path() -> None:
    assert detect_kind((CORPUS / "conformance/csvkit/dummy.xlsx").read_bytes(), "dummy.xlsx") == "xlsx"
    assert detect_kind((CORPUS / "conformance/csvkit/dummy.xls").read_bytes(), None) == "xls"


def test_truncated_container_head_without_path_is_refused() -> None:
    head = (CORPUS / "conformance/csvkit/dummy.xlsx").read_bytes()[:4096]
    with pytest.raises(UnsupportedMediaType, match="damaged or truncated"):
        detect_kind(head, "dummy.xlsx")


# --- executables, archives, documents -----------------------------------------------------


@pytest.mark.parametrize(
    ("head", "found"),
    [
        (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(48), "Windows executable"),
        (b"\x7fELF\x02\x01\x01" + bytes(57), "ELF"),
        (b"\xcf\xfa\xed\xfe\x07\x00\x00\x01" + bytes(56), "Mach-O"),
        (b"\xca\xfe\xba\xbe\x00\x00\x00\x02" + bytes(56), "Mach-O"),
        (b"#!/bin/sh\nrm -rf /\n", "script"),
        (b"#!/usr/bin/env python3\nimport os\n", "script"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "PDF"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PNG"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "JPEG"),
        (gzip.compress(b"firstName,email\n", mtime=0), "gzip"),
        (b"7z\xbc\xaf\x27\x1c\x00\x04", "7-Zip"),
        (b"Rar!\x1a\x07\x01\x00", "RAR"),
        (b"SQLite format 3\x00" + bytes(84), "SQLite"),
        (b"<!DOCTYPE html><html><body>x</body></html>", "HTML"),
        (b"\xef\xbb\xbf<?xml version='1.0'?><Workbook/>", "XML"),
        (b"{\\rtf1\\ansi hello}", "RTF"),
    ],
)
def test_foreign_formats_are_refused(head: bytes, found: str) -> None:
    with pytest.raises(UnsupportedMediaType, match=found):
        detect_kind(head, "clients.csv")


def test_real_executable_is_refused() -> None:
    with pytest.raises(UnsupportedMediaType):
        detect_file_kind(Path("/bin/sh"), "clients.csv")


def test_nul_bytes_are_binary() -> None:
    with pytest.raises(UnsupportedMediaType, match="NUL"):
        detect_kind(b"a,b,c\n\x00,2,3\n", "x.csv")


def test_control_byte_soup_is_binary() -> None:
    with pytest.raises(UnsupportedMediaType, match="binary"):
        detect_kind(bytes(range(1, 32)) * 20, "x.csv")


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-16"])
def test_utf16_text_with_its_nuls_is_csv(codec: str) -> None:
    text = "firstName,lastName,email\nZoë,Brontë,zoe@example.com\n" * 3
    assert detect_kind(text.encode(codec), "x.csv") == "csv"


def test_utf16_cjk_text_without_bom_is_csv() -> None:
    text = "姓名,電郵\n" + "林美玲,lin@example.com\n陳大文,chan@example.com\n" * 50
    assert detect_kind(text.encode("utf-16-le"), "x.csv") == "csv"


def test_utf16_text_holding_nul_characters_is_binary() -> None:
    with pytest.raises(UnsupportedMediaType, match="NUL"):
        detect_kind("a,b\n\x00,1\n".encode("utf-16"), "x.csv")


def test_content_wins_over_extension() -> None:
    assert detect_kind(b"firstName,email\nAda,ada@example.com\n", "clients.exe") == "csv"
    assert detect_kind(b"MZ Code,Name\n1,2\n", "clients.csv") == "csv"
    assert detect_kind(b"", None) == "csv"


# --- zip packages -------------------------------------------------------------------------


def _repack(source: Path, target: Path, extra: dict[str, bytes], replace: dict[str, bytes] | None = None) -> Path:
    """Copy a zip package member by member, replacing and adding members."""
    replace = replace or {}
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            new.writestr(info.filename, replace.get(info.filename, old.read(info.filename)))
        for name, data in extra.items():
            new.writestr(name, data)
    return target


DUMMY_XLSX = CORPUS / "conformance/csvkit/dummy.xlsx"


@pytest.mark.parametrize(
    "member",
    ["xl/vbaProject.bin", "xl/macrosheets/sheet1.xml", "xl/activeX/activeX1.xml", "xl/embeddings/oleObject1.bin"],
)
def test_xlsx_with_macro_or_active_parts_is_refused(tmp_path: Path, member: str) -> None:
    path = _repack(DUMMY_XLSX, tmp_path / "book.xlsx", {member: b"\x00" * 16})
    with pytest.raises(UnsupportedMediaType, match="macro"):
        detect_file_kind(path, "book.xlsx")


def test_xlsb_is_refused(tmp_path: Path) -> None:
    types = b'<Types><Override ContentType="application/vnd.ms-excel.sheet.binary.macroEnabled.main"/></Types>'
    path = tmp_path / "book.xlsb"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", types)
        archive.writestr("xl/workbook.bin", b"\x83\x01\x00")
    with pytest.raises(UnsupportedMediaType, match="macro"):
        detect_file_kind(path)


def test_macro_enabled_content_type_is_refused(tmp_path: Path) -> None:
    with zipfile.ZipFile(DUMMY_XLSX) as archive:
        types = archive.read("[Content_Types].xml")
    macro_types = types.replace(
        b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    )
    assert macro_types != types
    path = _repack(DUMMY_XLSX, tmp_path / "book.xlsx", {}, {"[Content_Types].xml": macro_types})
    with pytest.raises(UnsupportedMediaType, match="macro"):
        detect_file_kind(path)


def test_xlsm_extension_is_a_hint_for_refusal(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsm"
    shutil.copy(DUMMY_XLSX, path)
    with pytest.raises(UnsupportedMediaType, match=r"\.xlsm"):
        detect_file_kind(path, "book.xlsm")
    assert detect_file_kind(path, "book.xlsx") == "xlsx"


def test_word_document_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "letter.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(
            "[Content_Types].xml",
            b'<Types><Override ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        )
        archive.writestr("word/document.xml", b"<w:document/>")
    with pytest.raises(UnsupportedMediaType, match="Word document"):
        detect_file_kind(path, "clients.xlsx")


def test_ods_with_macros_is_refused(tmp_path: Path) -> None:
    path = _repack(CORPUS / "conformance/messytables/simple.ods", tmp_path / "m.ods", {"Basic/Standard/Module1.xml": b"<x/>"})
    with pytest.raises(UnsupportedMediaType, match="macros"):
        detect_file_kind(path)


def test_encrypted_ods_is_refused(tmp_path: Path) -> None:
    source = CORPUS / "conformance/messytables/simple.ods"
    with zipfile.ZipFile(source) as archive:
        manifest = archive.read("META-INF/manifest.xml")
    manifest = manifest.replace(b"</manifest:manifest>", b"<manifest:encryption-data/></manifest:manifest>")
    path = _repack(source, tmp_path / "e.ods", {}, {"META-INF/manifest.xml": manifest})
    with pytest.raises(UnsupportedMediaType, match="encrypted"):
        detect_file_kind(path)


def test_encrypted_zip_member_is_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
    data = bytearray(buffer.getvalue())
    for signature, flags_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # set the "encrypted" flag bit
        data[data.index(signature) + flags_at] |= 0x1
    with pytest.raises(UnsupportedMediaType, match="encrypted"):
        detect_kind(bytes(data), "book.xlsx")


def test_zip_bomb_is_413(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(filekind, "MAX_UNPACKED_BYTES", 10_000)
    path = _repack(DUMMY_XLSX, tmp_path / "bomb.xlsx", {"xl/media/zeros.bin": bytes(20_000)})
    with pytest.raises(PayloadTooLarge, match="unpacks"):
        detect_file_kind(path)


# --- OLE2 ---------------------------------------------------------------------------------


def test_ole_that_is_a_word_document_is_refused() -> None:
    head = filekind.OLE_SIGNATURE + bytes(504) + "WordDocument".encode("utf-16-le") + bytes(100)
    with pytest.raises(UnsupportedMediaType, match="Word document"):
        detect_kind(head, "clients.xls")


def test_ole_with_vba_is_refused() -> None:
    head = filekind.OLE_SIGNATURE + bytes(504) + "_VBA_PROJECT_CUR".encode("utf-16-le") + bytes(100)
    with pytest.raises(UnsupportedMediaType, match="VBA"):
        detect_kind(head, "clients.xls")


def test_unreadable_ole_is_refused() -> None:
    with pytest.raises(UnsupportedMediaType, match="not a readable Excel workbook"):
        detect_kind(filekind.OLE_SIGNATURE + bytes(1024), "clients.xls")
