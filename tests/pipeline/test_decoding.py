"""Strict decoding (issue 14): one encoding reads the whole file, or the file is refused naming
its lines and the ``encoding`` field - never U+FFFD, never double-decoded text."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clientdock.errors import ValidationFailed
from clientdock.pipeline import decoding
from clientdock.pipeline.decoding import EncodingRefused, byte_lines, scan_lines
from clientdock.pipeline.parse import ParsedRow, TableInfo, open_table

HEADER = "firstName,lastName,email\r\n"


def read_all(path: Path, **kwargs: str) -> tuple[TableInfo, list[ParsedRow]]:
    info, rows = open_table(path, **kwargs)
    return info, list(rows)


def write(tmp_path: Path, *parts: bytes) -> Path:
    path = tmp_path / "clients.csv"
    path.write_bytes(b"".join(parts))
    return path


def utf8(text: str) -> bytes:
    return text.encode("utf-8")


def cp1252(text: str) -> bytes:
    return text.encode("cp1252")


def refusal(path: Path, **kwargs: str) -> EncodingRefused:
    with pytest.raises(EncodingRefused) as caught:
        read_all(path, **kwargs)
    return caught.value


def test_a_utf8_file_with_pasted_cp1252_lines_is_refused_naming_them(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        utf8(HEADER + "Jürgen,Müller,jm@example.org\r\nAda,Lovelace,ada@example.org\r\n"),
        cp1252("Renée,Lefèvre,rl@example.org\r\n"),
        utf8("Zoë,Brontë,zb@example.org\r\n"),
        cp1252("José,Núñez,jn@example.org\r\n"),
    )
    refused = refusal(path)
    assert [(error.field, error.row) for error in refused.errors] == [("encoding", 4), ("encoding", 6)]
    assert "lines 4 and 6" in refused.detail
    assert "encoding field" in refused.detail
    assert "not wholly UTF-8" in refused.problem
    assert "Ren" in refused.errors[0].message


def test_only_the_first_five_lines_are_named_with_the_count(tmp_path: Path) -> None:
    rows = [utf8(f"Jürgen,Müller,j{n}@example.org\r\n") if n % 2 else cp1252(f"Renée,Lefèvre,r{n}@example.org\r\n") for n in range(20)]
    refused = refusal(write(tmp_path, utf8(HEADER), *rows))
    assert [error.row for error in refused.errors] == [2, 4, 6, 8, 10]
    assert "(10 lines in all)" in refused.detail


def test_a_bad_line_deep_in_a_large_file_is_found_and_named_exactly(tmp_path: Path) -> None:
    """Past the head the sniffer reads and past several read chunks: the line number is exact."""
    filler = utf8("Zoë,Brontë,zb@example.org\r\n") * 60_000  # ~1.7 MB
    path = write(tmp_path, utf8(HEADER), filler, cp1252("Renée,Lefèvre,rl@example.org\r\n"), utf8("Ada,L,a@example.org\r\n"))
    refused = refusal(path)
    assert [error.row for error in refused.errors] == [60_002]


def test_a_whole_cp1252_file_is_read_as_cp1252(tmp_path: Path) -> None:
    path = write(tmp_path, cp1252(HEADER + "Zoë,Brontë,zb@example.org\r\nJürgen,Weiß,jw@example.org\r\n"))
    info, rows = read_all(path)
    assert info.encoding == "cp1252"
    assert [row.cells[:2] for row in rows] == [["Zoë", "Brontë"], ["Jürgen", "Weiß"]]


def test_cp1252_bytes_that_happen_to_be_valid_utf8_do_not_make_a_file_mixed(tmp_path: Path) -> None:
    """ "ß€" in cp1252 is DF 80, valid UTF-8 for the NKo digit U+07C0: a symbol, not text."""
    path = write(tmp_path, cp1252(HEADER + "Jürgen,Weiß€5,jw@example.org\r\nZoë,Brontë,zb@example.org\r\n"))
    info, rows = read_all(path)
    assert info.encoding == "cp1252"
    assert rows[0].cells[1] == "Weiß€5"


def test_an_explicit_encoding_wins_even_over_a_mixed_file(tmp_path: Path) -> None:
    path = write(tmp_path, utf8(HEADER + "Ada,Müller,a@example.org\r\n"), cp1252("Renée,Lefèvre,rl@example.org\r\n"))
    info, rows = read_all(path, encoding="cp1252")
    assert info.encoding == "cp1252"
    assert rows[1].cells[:2] == ["Renée", "Lefèvre"]


def test_an_explicit_encoding_is_strict_and_names_the_exact_lines(tmp_path: Path) -> None:
    filler = cp1252("Ada,Lovelace,ada@example.org\r\n") * 5_000  # the text reader decodes ahead: its position is not the line
    path = write(tmp_path, cp1252(HEADER), filler, cp1252("Zoë,Brontë,zb@example.org\r\n"), filler, cp1252("Jürgen,Weiß,j@example.org\r\n"))
    refused = refusal(path, encoding="utf-8")
    assert [(error.field, error.row) for error in refused.errors] == [("encoding", 5_002), ("encoding", 10_003)]
    assert "not valid utf-8 (the encoding given)" in refused.detail
    assert "lines 5002 and 10003" in refused.detail


def test_bytes_undefined_in_cp1252_are_refused_when_cp1252_is_given(tmp_path: Path) -> None:
    path = write(tmp_path, b"firstName,email\r\nAda\x81,a@example.org\r\n")
    refused = refusal(path, encoding="cp1252")
    assert [error.row for error in refused.errors] == [2]
    assert "cannot be decoded as cp1252" in refused.errors[0].message


def test_a_utf16_file_given_as_utf16_with_a_broken_unit_names_a_line_near_it(tmp_path: Path) -> None:
    good = "firstName,email\r\nAda,a@example.org\r\n".encode("utf-16-le")
    path = write(tmp_path, b"\xff\xfe", good, b"\x00\xd8", "x,y\r\n".encode("utf-16-le"))
    refused = refusal(path, encoding="utf-16")
    assert refused.errors[0].field == "encoding"
    assert "cannot be decoded as utf-16le" in refused.errors[0].message


def test_an_unknown_explicit_encoding_is_still_a_400_naming_encoding(tmp_path: Path) -> None:
    path = write(tmp_path, utf8(HEADER))
    with pytest.raises(ValidationFailed) as caught:
        read_all(path, encoding="klingon-8")
    assert not isinstance(caught.value, EncodingRefused)
    assert caught.value.errors[0].field == "encoding"


def test_no_replacement_character_is_ever_produced(tmp_path: Path) -> None:
    """Every way a broken file can be read either refuses it or yields no U+FFFD."""
    broken = utf8(HEADER + "Ada,Müller,a@example.org\r\n") + b"Bo,\xff\xfe\xfd,b@example.org\r\n"
    path = write(tmp_path, broken)
    for encoding in (None, "utf-8"):
        assert refusal(path, **({"encoding": encoding} if encoding else {})).errors[0].field == "encoding"
    for encoding in ("cp1252", "latin-1"):
        _info, rows = read_all(path, encoding=encoding)
        assert not any("\ufffd" in cell for row in rows for cell in row.cells)


# --- physical lines ---------------------------------------------------------------------------


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 1024])
def test_byte_lines_split_at_cr_lf_and_crlf_across_chunk_edges(tmp_path: Path, chunk: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(decoding, "_CHUNK", chunk)
    path = write(tmp_path, b"a\r\nb\rc\nd\r\n\r\ne\r")
    assert list(byte_lines(path)) == [b"a", b"b", b"c", b"d", b"", b"e"]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(alphabet="ab\r\n", max_size=40), chunk=st.integers(1, 7))
def test_byte_lines_count_the_lines_the_text_reader_counts(tmp_path: Path, text: str, chunk: int) -> None:
    path = tmp_path / "lines.txt"
    path.write_bytes(text.encode())
    decoding_chunk = decoding._CHUNK
    decoding._CHUNK = chunk
    try:
        ours = list(byte_lines(path))
    finally:
        decoding._CHUNK = decoding_chunk
    theirs = list(io.TextIOWrapper(io.BytesIO(text.encode()), encoding="utf-8", newline=""))
    assert [line.decode() for line in ours] == [line.rstrip("\r\n") for line in theirs]


def test_scan_counts_utf8_text_lines_only_for_letters(tmp_path: Path) -> None:
    path = write(tmp_path, utf8("Müller\n"), cp1252("Weiß€\n"), b"plain\n", b"\xff\n")
    scan = scan_lines(path, "utf-8")
    assert (scan.utf8_text, scan.bad_count, scan.bad_lines) == (1, 1, [4])
