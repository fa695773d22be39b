"""Read an uploaded table (CSV or xlsx/xls/ods) as a stream of text records.

Memory stays flat in the file size: CSV is decoded and parsed line by line (stdlib ``csv`` over a
``TextIOWrapper``), never loaded into a list, so a million-row file costs what one row costs.
Spreadsheets are read by calamine (Rust); their rows are converted to text one at a time.

What a reader yields follows the corpus conventions (``tests/corpus/expectations.json``):

* the header is the first non-blank line (``header_line`` says which one, so title or padding
  lines above it can be reported); lines of only spaces or delimiters above it are blank too, and
  a file of nothing else (or of nothing, or of only a BOM) is refused as empty (400 naming
  ``file``); an Excel ``sep=;`` first line sets the delimiter and is skipped;
* empty lines are not records; a record of only delimiters *is* one (the pipeline treats it as
  blank); ragged records are yielded as they are, the caller reports extra cells;
* ``record`` counts data records from 1 after the header, ``line`` is the physical line where the
  record starts (line breaks inside quoted cells counted; CR, LF and CRLF each end one line).
  In spreadsheets ``line`` is the sheet row number and blank rows are not records.

:func:`open_table` returns the table's :class:`TableInfo` and a lazy iterator of
:class:`ParsedRow`. The iterator opens the file on its first ``next()`` and closes it when it is
exhausted, ``close()``-d, or garbage collected, so no handle leaks if it is never consumed.
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

import clevercsv
import python_calamine

from clientdock.errors import BadRequest, ClientdockError, FieldError, PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from clientdock.pipeline.decoding import Encoding, choose_encoding, undecodable
from clientdock.pipeline.filekind import HEAD_SIZE, Kind, detect_kind
from clientdock.pipeline.values import INVISIBLE_FORMAT

#: Delimiters the sniffer chooses from (an explicit ``delimiter`` or ``sep=`` line may name others).
DELIMITERS = (",", ";", "\t", "|")

_SNIFF_LINES = 64
_SNIFF_CHARS = 32 * 1024
_SEP_LINE = re.compile(r'"?sep=(.)"?', re.IGNORECASE)


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
    """A table being read: yields (line, cells) for every non-empty record, header included."""

    def records(self) -> Generator[tuple[int, list[str]], None, None]:
        raise NotImplementedError

    def info(self, header: list[str], header_line: int) -> TableInfo:
        raise NotImplementedError

    def empty_error(self) -> BadRequest:
        raise NotImplementedError

    def table(self) -> Generator[tuple[int, list[str]], None, None]:
        """The records from the header on: blank records above the header are skipped."""
        records = self.records()
        try:
            for line, cells in records:
                if not _blank(cells):
                    yield line, cells
                    break
            yield from records
        finally:
            records.close()

    def header(self) -> tuple[int, list[str]]:
        """The first non-blank record; the file handle is closed again straight away."""
        records = self.table()
        try:
            return next(records)
        except StopIteration:
            raise self.empty_error() from None
        finally:
            records.close()


def _blank(cells: list[str]) -> bool:
    """Only spaces or invisible format characters (a stray U+FEFF, a bidi mark) in every cell."""
    return all(not "".join(ch for ch in cell if ch not in INVISIBLE_FORMAT).strip() for cell in cells)


def _data_rows(source: _Source) -> Iterator[ParsedRow]:
    records = source.table()
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


class _CsvSource(_Source):
    def __init__(self, path: Path, enc: Encoding, delimiter: str, newline: str, skip_lines: int) -> None:
        self.path = path
        self.enc = enc
        self.delimiter = delimiter
        self.newline = newline
        self.skip_lines = skip_lines

    @classmethod
    def plan(cls, path: Path, head: bytes, *, encoding: str | None, delimiter: str | None) -> _CsvSource:
        enc = choose_encoding(path, head, encoding)
        sample = _decode_sample(head, enc.codec)
        first, body = _split_first_line(sample)
        sep = _sep_line_delimiter(first)
        chosen = _valid_delimiter(delimiter) or sep or _sniff_delimiter(sample if sep is None else body, whole=len(head) < HEAD_SIZE)
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

    def empty_error(self) -> BadRequest:
        message = "is empty: it holds no text (only blank lines, spaces, delimiters or a byte order mark), so it has no header line"
        return BadRequest(f"The file {message}. Choose the file that holds your client list.", [FieldError("file", message, code="empty")])

    def records(self) -> Generator[tuple[int, list[str]], None, None]:
        with self.path.open("rb") as raw:
            text = io.TextIOWrapper(raw, encoding=self.enc.codec, errors="strict", newline="")
            lines = _Lines(text)
            try:
                for _ in range(self.skip_lines):
                    next(lines, None)
                yield from _read_records(lines, self.delimiter)
            except UnicodeDecodeError as exc:
                raise undecodable(self.path, self.enc, lines.count + 1) from exc
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


def _decode_sample(head: bytes, codec: str) -> str:
    """The head as text, a character cut at the end dropped; undecodable bytes replaced."""
    decoder = codecs.getincrementaldecoder(codec)("replace")
    return str(decoder.decode(head, final=False))


# --- dialect ------------------------------------------------------------------------------


def _newline_style(sample: str) -> str:
    if "\r\n" in sample:
        return "CRLF"
    return "CR" if "\r" in sample else "LF"


def _split_first_line(text: str) -> tuple[str, str]:
    """The first line (without its break) and the rest."""
    match = re.search(r"\r\n|\r|\n", text)
    if match is None:
        return text, ""
    return text[: match.start()], text[match.end() :]


def _sep_line_delimiter(first_line: str) -> str | None:
    """The delimiter an Excel ``sep=;`` first line declares, if there is one."""
    match = _SEP_LINE.fullmatch(first_line.strip(" "))
    if match is None or match.group(1) in '"\r\n':
        return None
    return match.group(1)


def _valid_delimiter(delimiter: str | None) -> str | None:
    if delimiter is None:
        return None
    if len(delimiter) != 1 or delimiter in '"\r\n':
        raise ValidationFailed.for_field("delimiter", f"{delimiter!r} cannot be a delimiter: give one character such as , ; | or a tab")
    return delimiter


def _sniff_delimiter(sample: str, *, whole: bool) -> str:
    """clevercsv's consistency detector over the first lines; a header count as a fallback."""
    lines = sample.splitlines(keepends=True)
    if not whole and len(lines) > 1:
        lines = lines[:-1]  # the last line of a sample cut from a longer file may be partial
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

    def empty_error(self) -> BadRequest:
        others = ", ".join(repr(name) for name in self.sheet_names if name != self.sheet)
        hint = f" Choose another sheet with the sheet parameter ({others})." if others else ""
        message = f"the sheet {self.sheet!r} is empty: it has no header row"
        return BadRequest(f"The sheet {self.sheet!r} is empty: it has no header row.{hint}", [FieldError("sheet", message, code="empty")])

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
    """The chosen sheet (the first visible one by default), its name, and all sheet names.

    calamine raises its own errors on damaged workbooks, and panics (a ``BaseException``) on
    some; both become a 400 rather than a 500.
    """
    try:
        with python_calamine.CalamineWorkbook.from_path(str(path)) as workbook:
            names = list(workbook.sheet_names)
            name = _choose_sheet(workbook, names, sheet)
            return workbook.get_sheet_by_name(name), name, names
    except ClientdockError:
        raise
    except python_calamine.PasswordError as exc:
        raise UnsupportedMediaType("The workbook is password-protected (encrypted).") from exc
    except BaseException as exc:
        if isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit)):
            raise
        raise BadRequest(f"The workbook cannot be read: {exc}") from exc


def _choose_sheet(workbook: python_calamine.CalamineWorkbook, names: list[str], sheet: str | None) -> str:
    if not names:
        raise BadRequest("The workbook has no sheets.")
    if sheet is None:
        return _default_sheet(workbook)
    if sheet not in names:
        listed = ", ".join(repr(name) for name in names)
        raise ValidationFailed.for_field("sheet", f"the workbook has no sheet named {sheet!r} (its sheets: {listed})")
    return sheet


def _default_sheet(workbook: python_calamine.CalamineWorkbook) -> str:
    """The first visible worksheet: what a user sees first when opening the file."""
    for meta in workbook.sheets_metadata:
        if meta.visible == python_calamine.SheetVisibleEnum.Visible and meta.typ == python_calamine.SheetTypeEnum.WorkSheet:
            return meta.name
    return workbook.sheet_names[0]


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
