"""Read an uploaded table (CSV or xlsx/xls/ods) as a stream of text records.

Memory stays flat in the file size: CSV is decoded and parsed line by line (stdlib ``csv`` over a
``TextIOWrapper``), never loaded into a list, so a million-row file costs what one row costs.
Spreadsheets are read by calamine (Rust); their rows are converted to text one at a time.

What a reader yields follows the corpus conventions (``tests/corpus/expectations.json``):

* the header is the first non-blank line (``header_line`` says which one, so title or padding
  lines above it can be reported); an Excel ``sep=;`` first line sets the delimiter and is skipped;
* empty lines are not records; a record of only delimiters *is* one (the pipeline treats it as
  blank); ragged records are yielded as they are, the caller reports extra cells;
* ``record`` counts data records from 1 after the header, ``line`` is the physical line where the
  record starts (line breaks inside quoted cells counted; CR, LF and CRLF each end one line).
  In spreadsheets ``line`` is the sheet row number and blank rows are not records.

:func:`open_table` returns the table's :class:`TableInfo` and a lazy iterator of
:class:`ParsedRow`. The iterator opens the file on its first ``next()`` and closes it when it is
exhausted, ``close()``-d, or garbage collected, so no handle leaks if it is never consumed.
:func:`count_records` / :func:`enforce_record_limit` let a caller know the size before importing.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import io
import math
import re
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

import charset_normalizer
import clevercsv
import python_calamine

from clientdock.errors import BadRequest, ClientdockError, PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from clientdock.pipeline.filekind import HEAD_SIZE, Kind, detect_kind, text_bom, utf16_without_bom

#: Delimiters the sniffer chooses from (an explicit ``delimiter`` or ``sep=`` line may name others).
DELIMITERS = (",", ";", "\t", "|")

_SNIFF_LINES = 64
_SNIFF_CHARS = 32 * 1024
_SEP_LINE = re.compile(r'"?sep=(.)"?', re.IGNORECASE)
_CHUNK = 1024 * 1024


@dataclass(slots=True)
class ParsedRow:
    """One data record: its 1-based index after the header, its first physical line, its cells."""

    record: int
    line: int
    cells: list[str]


@dataclass(slots=True)
class TableInfo:
    """How the table was read. ``encoding``/``delimiter``/``newline`` are None for spreadsheets.

    ``encoding`` is the detected or given text encoding ("utf-8", "utf-16le", "cp1252", "big5"...;
    a BOM is reported in ``bom``, not in the name). ``newline`` is "CRLF" when the start of the
    file holds a CRLF, else "CR" when it holds a CR, else "LF". ``sheet`` names the sheet read.
    """

    kind: Kind
    encoding: str | None
    bom: bool
    delimiter: str | None
    newline: str | None
    header: list[str]
    header_line: int
    sheet: str | None = None


# --- public API ---------------------------------------------------------------------------


def open_table(
    path: Path,
    *,
    filename: str | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
    delimiter: str | None = None,
) -> tuple[TableInfo, Iterator[ParsedRow]]:
    """Detect the file's kind and dialect, read its header, and return the records lazily.

    ``filename`` is a hint for the kind only. ``encoding`` (CSV) overrides detection; an unknown
    name is a 400 naming ``encoding``. ``sheet`` (spreadsheets) picks a sheet by name instead of
    the first one; an unknown name is a 400 naming ``sheet``. ``delimiter`` (CSV) overrides
    sniffing. Raises ``UnsupportedMediaType`` for files that are not an acceptable table and
    ``BadRequest`` for unreadable or empty ones.
    """
    source = _prepare(path, filename=filename, encoding=encoding, sheet=sheet, delimiter=delimiter)
    header_line, header = source.header()
    info = source.info(header, header_line)
    return info, _data_rows(source)


def count_records(
    path: Path,
    *,
    filename: str | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
    delimiter: str | None = None,
    stop_after: int | None = None,
) -> int:
    """How many data records the table holds, read in one streaming pass.

    With ``stop_after`` the count stops as soon as it exceeds that number (the answer is then
    ``stop_after + 1``), so checking a limit on a huge file is cheap. Reading the whole file also
    surfaces decoding and binary-content errors before anything is written.
    """
    source = _prepare(path, filename=filename, encoding=encoding, sheet=sheet, delimiter=delimiter)
    count = 0
    for _ in _data_rows(source):
        count += 1
        if stop_after is not None and count > stop_after:
            break
    return count


def enforce_record_limit(
    path: Path,
    limit: int,
    *,
    filename: str | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
    delimiter: str | None = None,
) -> int:
    """The record count, or ``PayloadTooLarge`` (413) when it is over ``limit`` (S3.5)."""
    count = count_records(
        path,
        filename=filename,
        encoding=encoding,
        sheet=sheet,
        delimiter=delimiter,
        stop_after=limit,
    )
    if count > limit:
        raise PayloadTooLarge(f"The file has more than {limit} records; at most {limit} records can be imported from one file.")
    return count


def cell_text(value: object) -> str:
    """A spreadsheet cell as the text a user typed: 42 not 42.0, ISO dates, true/false."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float_text(value)
    if isinstance(value, datetime.datetime):
        return _datetime_text(value)
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return _duration_text(value)
    return str(value)


# --- sources ------------------------------------------------------------------------------


class _Source:
    """A table being read: yields (line, cells) for every non-blank record, header included."""

    def records(self) -> Generator[tuple[int, list[str]], None, None]:
        raise NotImplementedError

    def info(self, header: list[str], header_line: int) -> TableInfo:
        raise NotImplementedError

    def empty_message(self) -> str:
        raise NotImplementedError

    def header(self) -> tuple[int, list[str]]:
        """The first non-blank record; the file handle is closed again straight away."""
        records = self.records()
        try:
            return next(records)
        except StopIteration:
            raise BadRequest(self.empty_message()) from None
        finally:
            records.close()


def _data_rows(source: _Source) -> Iterator[ParsedRow]:
    records = source.records()
    try:
        next(records)  # the header
    except StopIteration:
        return
    for record, (line, cells) in enumerate(records, start=1):
        yield ParsedRow(record, line, cells)


def _prepare(
    path: Path,
    *,
    filename: str | None,
    encoding: str | None,
    sheet: str | None,
    delimiter: str | None,
) -> _Source:
    with path.open("rb") as fh:
        head = fh.read(HEAD_SIZE)
    kind = detect_kind(head, filename, path=path)
    if kind == "csv":
        return _CsvSource.plan(path, head, encoding=encoding, delimiter=delimiter)
    return _SheetSource(path, kind, sheet)


# --- CSV ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Encoding:
    codec: str  # what Python decodes with (utf-8-sig and utf-16 strip their BOM)
    name: str  # what is reported
    bom: bool


class _CsvSource(_Source):
    def __init__(self, path: Path, enc: _Encoding, delimiter: str, newline: str, skip_lines: int) -> None:
        self.path = path
        self.enc = enc
        self.delimiter = delimiter
        self.newline = newline
        self.skip_lines = skip_lines

    @classmethod
    def plan(cls, path: Path, head: bytes, *, encoding: str | None, delimiter: str | None) -> _CsvSource:
        enc = _choose_encoding(path, head, encoding)
        sample = _decode_sample(head, enc.codec)
        sep = _sep_line_delimiter(sample)
        body = sample.split("\n", 1)[1] if sep is not None and "\n" in sample else sample
        chosen = _valid_delimiter(delimiter) or sep or _sniff_delimiter(body)
        return cls(path, enc, chosen, _newline_style(sample), 1 if sep is not None else 0)

    def info(self, header: list[str], header_line: int) -> TableInfo:
        return TableInfo(
            kind="csv",
            encoding=self.enc.name,
            bom=self.enc.bom,
            delimiter=self.delimiter,
            newline=self.newline,
            header=header,
            header_line=header_line,
        )

    def empty_message(self) -> str:
        return "The file is empty: it has no header line."

    def records(self) -> Generator[tuple[int, list[str]], None, None]:
        with self.path.open("rb") as raw:
            text = io.TextIOWrapper(raw, encoding=self.enc.codec, errors="strict", newline="")
            lines = _Lines(text)
            try:
                for _ in range(self.skip_lines):
                    next(lines, None)
                yield from _read_records(lines, self.delimiter)
            except UnicodeDecodeError as exc:
                line = lines.count + 1
                raise ValidationFailed.for_field(
                    "encoding",
                    f"line {line} cannot be decoded as {self.enc.name}; save the file as UTF-8 or give its encoding",
                    row=line,
                ) from exc
            except csv.Error as exc:
                raise _csv_error(exc, lines.count) from exc


class _Lines:
    """The physical lines of a text, counted; a NUL anywhere refuses the file (S3.6).

    ``TextIOWrapper(newline="")`` ends a line at CR, LF or CRLF and keeps the ending, which is
    what the csv module needs and what a "physical line" is in the corpus conventions.
    """

    def __init__(self, text: Iterator[str]) -> None:
        self._text = text
        self.count = 0

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = next(self._text)
        self.count += 1
        if "\x00" in line:
            raise UnsupportedMediaType(
                f"The file holds binary content (a NUL character on line {self.count}); only text CSV files can be imported."
            )
        return line


def _read_records(lines: _Lines, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(first line, cells) of each record; empty lines (the reader yields []) are skipped."""
    reader = csv.reader(lines, delimiter=delimiter, quotechar='"', strict=False)
    while True:
        start = lines.count + 1
        cells = next(reader, None)
        if cells is None:
            return
        if cells:
            yield start, cells


def _csv_error(exc: csv.Error, line: int) -> ClientdockError:
    if "field larger than field limit" in str(exc):
        return PayloadTooLarge(f"A cell near line {line} is longer than {csv.field_size_limit()} characters.")
    return BadRequest(f"The CSV file cannot be read near line {line}: {exc}.")


# --- encoding -----------------------------------------------------------------------------


def _choose_encoding(path: Path, head: bytes, explicit: str | None) -> _Encoding:
    """An explicit encoding wins; else BOM, BOM-less UTF-16, UTF-8 (whole file), legacy guess."""
    bom = text_bom(head)
    if explicit is not None:
        return _explicit_encoding(explicit, bom, head)
    if bom is not None:
        return _Encoding(bom[0], _bom_name(head, bom[0]), True)
    utf16 = utf16_without_bom(head)
    if utf16 is not None:
        return _Encoding(utf16, utf16.replace("-le", "le").replace("-be", "be"), False)
    bad_offset = _first_non_utf8(path)
    if bad_offset is None:
        return _Encoding("utf-8", "utf-8", False)
    legacy = _guess_legacy(head, path, bad_offset)
    return _Encoding(legacy, codecs.lookup(legacy).name, False)


def _explicit_encoding(explicit: str, bom: tuple[str, int] | None, head: bytes) -> _Encoding:
    """The given encoding; a BOM of the same Unicode family is still stripped and reported."""
    name = _text_codec_name(explicit)
    family = _unicode_family(name)
    if bom is not None and family is not None and _unicode_family(bom[0]) == family:
        return _Encoding(bom[0], _bom_name(head, bom[0]), True)
    return _Encoding(name, name, False)


def _unicode_family(codec: str) -> str | None:
    for family in ("utf-8", "utf-16", "utf-32"):
        if codec.startswith(family):
            return family
    return None


def _text_codec_name(explicit: str) -> str:
    """The canonical codec name, or a 400 naming ``encoding`` if Python has no such text codec."""
    try:
        io.TextIOWrapper(io.BytesIO(b""), encoding=explicit)
        return codecs.lookup(explicit).name
    except LookupError:
        raise ValidationFailed.for_field("encoding", f"unknown text encoding {explicit!r} (try utf-8, cp1252, latin-1...)") from None


def _bom_name(head: bytes, codec: str) -> str:
    if codec == "utf-8-sig":
        return "utf-8"
    width = codec[-2:]  # "16" or "32"
    little = head.startswith(b"\xff\xfe")
    return f"utf-{width}{'le' if little else 'be'}"


def _first_non_utf8(path: Path) -> int | None:
    """Offset of the first byte that is not valid UTF-8, or None; streams the whole file.

    Checking only a sample would let a cp1252 byte deep in the file break the import halfway.
    """
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    offset = 0
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                return offset + max(exc.start, 0)
            offset += len(chunk)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return offset
    return None


def _guess_legacy(head: bytes, path: Path, bad_offset: int) -> str:
    """Guess a legacy encoding with charset-normalizer, preferring cp1252 among equals.

    charset-normalizer ranks cp1250 and cp1252 (or an exotic code page, on a short sample)
    alike when the text is Western European; cp1252 is then by far the likelier source
    (Excel and Outlook "ANSI" exports), and it is a superset of latin-1's printable range.
    """
    sample = _legacy_sample(head, path, bad_offset)
    results = charset_normalizer.from_bytes(sample)
    best = results.best()
    if best is None:
        return _decodable("cp1252", sample)
    tied = [match for match in results if math.isclose(match.chaos, best.chaos) and math.isclose(match.coherence, best.coherence)]
    if any("cp1252" in match.could_be_from_charset for match in tied):
        return _decodable("cp1252", sample)
    if codecs.lookup(best.encoding).name in ("utf-8", "ascii"):
        return _decodable("cp1252", sample)
    return best.encoding


def _decodable(codec: str, sample: bytes) -> str:
    """``codec`` if it decodes the sample, else latin-1 (which decodes anything)."""
    try:
        sample.decode(codec)
    except UnicodeDecodeError:
        return "latin-1"
    return codec


def _legacy_sample(head: bytes, path: Path, bad_offset: int) -> bytes:
    """The head plus the stretch around the first non-UTF-8 byte, cut at line ends."""
    window = HEAD_SIZE // 2
    sample = head[:window]
    if bad_offset >= window:
        with path.open("rb") as fh:
            fh.seek(max(bad_offset - 1024, 0))
            sample += b"\n" + fh.read(window)
    cut = sample.rfind(b"\n")
    return sample[: cut + 1] if cut > 0 else sample


def _decode_sample(head: bytes, codec: str) -> str:
    """The head as text, a character cut at the end dropped; undecodable bytes replaced."""
    decoder = codecs.getincrementaldecoder(codec)("replace")
    return str(decoder.decode(head, final=False))


# --- dialect ------------------------------------------------------------------------------


def _newline_style(sample: str) -> str:
    if "\r\n" in sample:
        return "CRLF"
    return "CR" if "\r" in sample else "LF"


def _sep_line_delimiter(sample: str) -> str | None:
    """The delimiter an Excel ``sep=;`` first line declares, if there is one."""
    first = re.split(r"\r\n|\r|\n", sample, maxsplit=1)[0]
    match = _SEP_LINE.fullmatch(first.strip())
    return match.group(1) if match else None


def _valid_delimiter(delimiter: str | None) -> str | None:
    if delimiter is None:
        return None
    if len(delimiter) != 1 or delimiter in '"\r\n':
        raise ValidationFailed.for_field("delimiter", f"{delimiter!r} cannot be a delimiter: give one character such as , ; | or a tab")
    return delimiter


def _sniff_delimiter(sample: str) -> str:
    """clevercsv's consistency detector over the first lines; a header count as a fallback."""
    lines = sample.splitlines(keepends=True)
    if len(lines) > 1 and not sample.endswith(("\n", "\r")):
        lines = lines[:-1]  # the last line of the sample may be cut short
    text = "".join(lines[:_SNIFF_LINES])[:_SNIFF_CHARS]
    try:
        dialect = clevercsv.Detector().detect(text, delimiters=list(DELIMITERS))
    except Exception:  # clevercsv raises its own errors on odd input; fall back below
        dialect = None
    if dialect is not None and dialect.delimiter in DELIMITERS:
        return str(dialect.delimiter)
    return _count_sniff(text)


def _count_sniff(text: str) -> str:
    """The candidate that occurs most often on the first non-blank line (ties: the comma)."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {candidate: first.count(candidate) for candidate in DELIMITERS}
    best = max(DELIMITERS, key=lambda candidate: counts[candidate])
    return best if counts[best] else ","


# --- spreadsheets -------------------------------------------------------------------------


class _SheetSource(_Source):
    def __init__(self, path: Path, kind: Kind, sheet: str | None) -> None:
        self.path = path
        self.kind = kind
        self.data, self.sheet, self.sheet_names = _load_sheet(path, sheet)

    def info(self, header: list[str], header_line: int) -> TableInfo:
        return TableInfo(
            kind=self.kind,
            encoding=None,
            bom=False,
            delimiter=None,
            newline=None,
            header=header,
            header_line=header_line,
            sheet=self.sheet,
        )

    def empty_message(self) -> str:
        others = ", ".join(repr(name) for name in self.sheet_names if name != self.sheet)
        hint = f" Choose another sheet with the sheet parameter ({others})." if others else ""
        return f"The sheet {self.sheet!r} is empty: it has no header row.{hint}"

    def records(self) -> Generator[tuple[int, list[str]], None, None]:
        """Non-blank rows as text; trailing empty cells past the header's width are dropped.

        A sheet's range is as wide as its widest row, so every row comes padded with empty
        cells; trimming them keeps "extra cells" for cells that really hold something.
        """
        width: int | None = None
        for line, row in enumerate(self.data.iter_rows(), start=1):
            cells = [cell_text(value) for value in row]
            if not any(cells):
                continue
            if width is None:
                cells = _rstrip_empty(cells, 0)
                width = len(cells)
            else:
                cells = _rstrip_empty(cells, width)
            yield line, cells


def _rstrip_empty(cells: list[str], keep: int) -> list[str]:
    end = len(cells)
    while end > keep and not cells[end - 1]:
        end -= 1
    return cells[:end]


def _load_sheet(path: Path, sheet: str | None) -> tuple[python_calamine.CalamineSheet, str, list[str]]:
    """The chosen sheet (the first one by default), its name, and all sheet names."""
    try:
        workbook = python_calamine.CalamineWorkbook.from_path(str(path))
    except python_calamine.PasswordError as exc:
        raise UnsupportedMediaType("The workbook is password-protected (encrypted).") from exc
    except BaseException as exc:  # calamine panics (BaseException) on damaged files
        if isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit)):
            raise
        raise BadRequest(f"The workbook cannot be read: {exc}") from exc
    with workbook:
        names = list(workbook.sheet_names)
        if not names:
            raise BadRequest("The workbook has no sheets.")
        if sheet is None:
            name = names[0]
        elif sheet in names:
            name = sheet
        else:
            listed = ", ".join(repr(n) for n in names)
            raise ValidationFailed.for_field("sheet", f"the workbook has no sheet named {sheet!r} (its sheets: {listed})")
        return workbook.get_sheet_by_name(name), name, names


def _float_text(value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    if value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return repr(value)


def _datetime_text(value: datetime.datetime) -> str:
    if value.microsecond:
        return value.isoformat()
    return value.isoformat(timespec="seconds")


def _duration_text(value: datetime.timedelta) -> str:
    total = int(value.total_seconds())
    sign = "-" if total < 0 else ""
    hours, rest = divmod(abs(total), 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{sign}{hours}:{minutes:02d}:{seconds:02d}"
