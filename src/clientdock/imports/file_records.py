"""The file door's reading side: survey an upload before importing it, then turn its rows
into raw records inside the worker.

:func:`survey` reads the whole table once, in the request (streaming, memory flat), so that
every refusal comes before anything is written: not a table (415), unreadable (400), no
column for the client's name (firstName, name or company) or no email column (400), a bad
mapping (400), more records than the tenant allows (413).
On the way it counts blank and ragged records and decides each date column's order.

:func:`stage` is the worker's side (registered with the job engine for door ``"csv"``): it reads the
table again and yields one :class:`RawRecord` per non-blank record, streaming.

Rules (SPEC "Decisions where the seeds are silent"):

* an empty cell is omitted from the record: unchanged on update, the tenant default on create;
* a row is an individual or an organisation (``pipeline.organisations.classify``): the type
  comes from the Type column, else from the name; an individual given only a full name gets
  first and last name from it;
* a record whose every cell is empty is blank: neither created nor failed;
* cells beyond the header's width are ignored and reported on their row;
* ``dd/mm/yyyy`` vs ``mm/dd/yyyy``: the whole column decides - the first unambiguous value
  sets the column's order, else the tenant's ``dateOrder``; such dates are rewritten to ISO
  so the pipeline needs no order of its own; a value impossible in that order fails (a date
  of birth: the row imports without it, with a warning);
* in spreadsheets a bare number in a date column is an Excel serial date;
* a leading apostrophe that our own CSVs add before ``= + - @`` (formula neutralisation) is
  removed again, so an export or an error report imports back unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from clientdock.blobs import store_for
from clientdock.clients.fields import FIELDS
from clientdock.csvsafe import restore
from clientdock.db import Database
from clientdock.errors import FieldError, PayloadTooLarge, ValidationFailed
from clientdock.jobs import staging
from clientdock.jobs.models import ImportJob
from clientdock.pipeline.addresses import gather
from clientdock.pipeline.headers import HeaderMatch, match_headers
from clientdock.pipeline.normalise import LEFT_AS_IT_WAS
from clientdock.pipeline.organisations import classify
from clientdock.pipeline.parse import ParsedRow, TableInfo, open_table
from clientdock.pipeline.records import FieldWarning, RawRecord
from clientdock.settings import Settings

#: Columns every file must have, each group by any one of its fields: a column naming the
#: client (firstName for individuals, S3.2; a name or company for organisations) and email.
REQUIRED_COLUMNS: tuple[tuple[str, ...], ...] = (("firstName", "name", "company"), ("email",))
#: Header fields whose pipeline name differs.
#: A file field named otherwise than the canonical field ("created" -> "createdAt").
RENAMED = {spec.file_name: spec.json for spec in FIELDS if spec.file_name and spec.file_name != spec.json}
#: Header fields that hold dates; their pipeline names.
DATE_FIELDS = {"dateOfBirth": "dateOfBirth", "created": "createdAt"}
#: Date fields whose impossible value is a warning (the row imports without it), not a failure.
SECONDARY_DATES = ("dateOfBirth",)
UPLOAD_NAME = "upload"

_SLASHED = re.compile(r"(\d{1,2})([/.\-])(\d{1,2})\2(\d{4})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2})(\.\d{1,6})?)?)?")
_SERIAL = re.compile(r"\d{1,7}(?:\.\d+)?")
_EXCEL_EPOCH = datetime(1899, 12, 30)
_LAST_SERIAL = 2958465  # 9999-12-31


def upload_key(job_id: str) -> str:
    """The storage key of a job's uploaded file (next to its staged records)."""
    return staging.job_prefix(job_id) + UPLOAD_NAME


# --- dates --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DateOrder:
    """The order of a date column and what decided it."""

    order: str
    decided_by: str

    def as_json(self) -> dict[str, str]:
        return {"order": self.order, "decidedBy": self.decided_by}


def date_order_of(text: str) -> str | None:
    """DMY or MDY when ``text`` is a slashed date only one order can read, else None."""
    match = _SLASHED.fullmatch(text.strip())
    if match is None:
        return None
    first, second = int(match.group(1)), int(match.group(3))
    if first > 12 and 1 <= second <= 12:
        return "DMY"
    if second > 12 and 1 <= first <= 12:
        return "MDY"
    return None


def slashed_to_iso(text: str, order: str) -> str | None:
    """``13/06/2024 15:06`` -> ``2024-06-13T15:06:00`` in the given order; None if not slashed.

    Raises ValueError when it is slashed but no such date exists in that order.
    """
    match = _SLASHED.fullmatch(text.strip())
    if match is None:
        return None
    first, second, year = int(match.group(1)), int(match.group(3)), int(match.group(4))
    day, month = (first, second) if order == "DMY" else (second, first)
    hour, minute, second_of_minute = (int(match.group(i) or 0) for i in (5, 6, 7))
    fraction = match.group(8) or ""
    stamp = datetime(year, month, day, hour, minute, second_of_minute)
    if match.group(5) is None:
        return stamp.date().isoformat()
    return stamp.isoformat() + fraction


def serial_to_iso(text: str, *, with_time: bool) -> str | None:
    """An Excel serial day number (45456, 45456.5) as an ISO date or date-time; None if not one."""
    if not _SERIAL.fullmatch(text.strip()):
        return None
    days = float(text)
    if not 1 <= days <= _LAST_SERIAL:
        return None
    stamp = _EXCEL_EPOCH + timedelta(days=days)
    return stamp.replace(microsecond=0).isoformat() if with_time else stamp.date().isoformat()


class _DateVotes:
    """The first unambiguous value of each date column, found while surveying."""

    def __init__(self, columns: dict[int, str]) -> None:
        self.open = dict(columns)  # column index -> header field, until decided
        self.decided: dict[str, DateOrder] = {}

    def see(self, row: ParsedRow) -> None:
        for index, name in list(self.open.items()):
            if index < len(row.cells):
                order = date_order_of(row.cells[index])
                if order is not None:
                    evidence = f"row {row.record} ('{row.cells[index].strip()}')"
                    self.decided[name] = DateOrder(order, evidence)
                    del self.open[index]

    def result(self, default: str) -> dict[str, DateOrder]:
        out = dict(self.decided)
        for name in self.open.values():
            out[name] = DateOrder(default, "the tenant's dateOrder setting (no value in the column is unambiguous)")
        return out


# --- survey -------------------------------------------------------------------------------


@dataclass
class Survey:
    """What the door learned from a whole pass over the file."""

    info: TableInfo
    match: HeaderMatch
    records: int = 0
    blank: int = 0
    ragged: int = 0
    date_orders: dict[str, DateOrder] = field(default_factory=dict)

    @property
    def importable(self) -> int:
        return self.records - self.blank


def is_blank(cells: list[str]) -> bool:
    return all(not cell or cell.isspace() for cell in cells)


def _has_extra(cells: list[str], width: int) -> bool:
    return len(cells) > width and not is_blank(cells[width:])


def survey(
    path: Path,
    *,
    filename: str | None,
    encoding: str | None,
    sheet: str | None,
    mapping: Mapping[str, str] | None,
    date_order: str,
    limit: int,
) -> Survey:
    """Read the table once and check it can be imported; see the module docstring."""
    info, rows = open_table(path, filename=filename, encoding=encoding, sheet=sheet)
    match = match_headers(info.header, mapping)
    require_columns(info, match)
    found = Survey(info, match)
    width = len(info.header)
    votes = _DateVotes({i: name for i, name in enumerate(match.fields) if name in DATE_FIELDS})
    for row in rows:
        found.records += 1
        if is_blank(row.cells):
            found.blank += 1
            continue
        if _has_extra(row.cells, width):
            found.ragged += 1
        if votes.open:
            votes.see(row)
    found.date_orders = votes.result(date_order)
    if found.importable > limit:
        message = f"holds {found.importable:,} records; at most {limit:,} records can be imported from one file"
        raise PayloadTooLarge(f"The file {message} (the tenant's importRowLimit).", [FieldError("file", message)])
    return found


def missing_columns(fields: Collection[str | None]) -> list[str]:
    """The first field of each group of ``REQUIRED_COLUMNS`` that no column maps to."""
    return [group[0] for group in REQUIRED_COLUMNS if not any(name in fields for name in group)]


_MISSING = {
    "firstName": "no column for the client's name: firstName (individuals), name or company (organisations)",
    "email": "no email column",
}
_UNMAPPED = {
    "firstName": "no column of the file maps to firstName, name or company; one of them is required",
    "email": "no column of the file maps to email, a required column",
}


def require_columns(info: TableInfo, match: HeaderMatch) -> None:
    """400 naming firstName (standing for any name column) or email when no column maps to them."""
    missing = missing_columns(match.fields)
    if not missing:
        return
    shown = ", ".join(repr(text) for text in info.header[:12]) + (", ..." if len(info.header) > 12 else "")
    where = f"line {info.header_line}" if info.kind == "csv" else f"row {info.header_line} of the sheet {info.sheet!r}"
    detail = (
        f"The file has {' and '.join(_MISSING[name] for name in missing)}. Every row needs an email and a name: "
        "firstName for an individual, name (or company) for a company, trust, partnership or other organisation. "
        f"Its header ({where}) is: {shown}. Name the columns firstName, name or company, and email (headers such as "
        "'First Name', 'Client Name', 'Company Name' and 'E-mail' work too), send a mapping such as "
        '{"Given Name": "firstName"}, or, if the column names are on a later line, delete the lines above them.'
    )
    errors = [FieldError(name, _UNMAPPED[name], code="missing") for name in missing]
    raise ValidationFailed(detail, errors)


# --- records ------------------------------------------------------------------------------


class RecordBuilder:
    """Turns parsed rows into raw records with canonical field names."""

    def __init__(self, match: HeaderMatch, date_orders: Mapping[str, str], *, spreadsheet: bool) -> None:
        self.width = len(match.fields)
        self.columns = [(index, RENAMED.get(name, name)) for index, name in enumerate(match.fields) if name is not None]
        self.dates = {index: (name, date_orders.get(name, "DMY")) for index, name in enumerate(match.fields) if name in DATE_FIELDS}
        self.spreadsheet = spreadsheet

    def build(self, row: ParsedRow) -> RawRecord | None:
        """The row's record, or None for a blank row."""
        cells = [restore(cell) for cell in row.cells]
        if is_blank(cells):
            return None
        record = RawRecord(index=row.record, fields={}, line=row.line, source=cells)
        for index, name in self.columns:
            cell = cells[index] if index < len(cells) else ""
            if not cell or cell.isspace():
                continue
            if index in self.dates:
                cell = self._date(record, index, cell)
                if not cell:
                    continue
            record.fields[name] = cell
        classify(record)
        gather(record.fields)
        if _has_extra(cells, self.width):
            extra = [cell for cell in cells[self.width :] if cell and not cell.isspace()]
            shown = ", ".join(repr(cell[:40]) for cell in extra[:5])
            message = f"{len(extra)} cell(s) beyond the header's {self.width} columns were not imported: {shown}"
            record.warnings.append(FieldWarning(None, message, extra))
        key = str(record.fields.get("email") or record.fields.get("id") or "").strip()
        record.lookup_key = key or None
        return record

    def _date(self, record: RawRecord, index: int, cell: str) -> str:
        header_field, order = self.dates[index]
        name = DATE_FIELDS[header_field]
        if self.spreadsheet:
            serial = serial_to_iso(cell, with_time=name == "createdAt")
            if serial is not None:
                return serial
        try:
            iso = slashed_to_iso(cell, order)
        except ValueError:
            message = f"'{cell.strip()}' is not a date in this column's order ({order}: {_order_text(order)})"
            if name in SECONDARY_DATES:
                record.warnings.append(FieldWarning(name, f"{message}; {LEFT_AS_IT_WAS}", cell.strip()))
            else:
                record.errors.append(FieldError(name, message, record.index, "invalid"))
            return ""
        return iso if iso is not None else cell


def _order_text(order: str) -> str:
    return "day/month/year" if order == "DMY" else "month/day/year"


def read_records(
    path: Path,
    *,
    filename: str | None,
    encoding: str | None,
    delimiter: str | None,
    sheet: str | None,
    mapping: Mapping[str, str] | None,
    date_orders: Mapping[str, str],
    fixes: Mapping[str, Mapping[str, str]] | None = None,
) -> Iterator[RawRecord]:
    """The non-blank records of a surveyed file, streaming, with ``fixes`` made to its cells."""
    info, rows = open_table(path, filename=filename, encoding=encoding, sheet=sheet, delimiter=delimiter)
    builder = RecordBuilder(match_headers(info.header, mapping), date_orders, spreadsheet=info.kind != "csv")
    for row in rows:
        record = builder.build(fixed(row, fixes.get(str(row.record))) if fixes else row)
        if record is not None:
            yield record


def fixed(row: ParsedRow, cells: Mapping[str, str] | None) -> ParsedRow:
    """The row with the cells a person corrected in the import dialog (``{"<column index>":
    value}``, the job option ``fixes`` keyed by row number), the file itself untouched."""
    if not cells:
        return row
    out = list(row.cells)
    for column, value in cells.items():
        index = int(column)
        out.extend([""] * (index + 1 - len(out)))
        out[index] = value
    return ParsedRow(row.record, row.line, out)


def stage(db: Database, settings: Settings, job: ImportJob) -> Iterator[RawRecord]:
    """The worker's stager for door "csv": the job's upload as records (registered by ``clientdock.app.job_engine``)."""
    options: dict[str, Any] = job.options
    return read_records(
        store_for(settings, db).local_copy(upload_key(job.id)),
        filename=options.get("filename"),
        encoding=options.get("encoding"),
        delimiter=options.get("delimiter"),
        sheet=options.get("sheet"),
        mapping=options.get("mapping"),
        date_orders=options.get("dateOrders") or {},
        fixes=options.get("fixes"),
    )
