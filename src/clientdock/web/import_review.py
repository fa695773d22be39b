"""The Import dialog's review of a check: the rows that would fail or import with a warning,
with the cells a person can correct in place (``web.uploads.with_fixes`` keeps them), and the
clients that would change, each field before -> after."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Text, cast, func, or_, select
from sqlalchemy.orm import Session

from clientdock.imports.file_records import RENAMED
from clientdock.jobs.models import ImportJob, ImportRow
from clientdock.web.templating import field_label


@dataclass(frozen=True)
class Cell:
    """A cell of a row to review: its column, what it holds, and whether a reason names it."""

    index: int
    header: str
    label: str
    value: str
    wrong: bool

    @property
    def control(self) -> str:
        return f"cell-{self.index}"


@dataclass(frozen=True)
class Reason:
    label: str
    message: str


@dataclass(frozen=True)
class ReviewRow:
    """A row that would fail or import with a warning, with its mapped cells to correct."""

    row: ImportRow
    cells: list[Cell]
    errors: list[Reason]
    warnings: list[Reason]

    @property
    def failed(self) -> bool:
        return self.row.action == "failed"


@dataclass(frozen=True)
class Change:
    label: str
    before: str
    after: str


@dataclass(frozen=True)
class Update:
    """A row that would update a client: each field before -> after."""

    row: ImportRow
    changes: list[Change]


def review_rows(session: Session, job: ImportJob, limit: int) -> tuple[list[ReviewRow], int]:
    """The first rows that would fail or carry a warning (``import_rows.warnings``), and how many there are."""
    warned = cast(ImportRow.warnings, Text).not_in(("[]", "null"))
    query = select(ImportRow).where(ImportRow.job_id == job.id, or_(ImportRow.action == "failed", warned))
    rows = list(session.scalars(query.order_by(ImportRow.row_index).limit(limit)))
    total = len(rows) if len(rows) < limit else session.scalar(select(func.count()).select_from(query.subquery())) or 0
    header = [str(text) for text in job.summary.get("header") or []]
    mapped = job.summary.get("mapping") or {}
    return [_review_row(row, header, mapped) for row in rows], total


def _review_row(row: ImportRow, header: list[str], mapped: Mapping[str, Any]) -> ReviewRow:
    errors = [error for error in row.errors or [] if isinstance(error, dict)]
    named = {str(error.get("field")) for error in errors}
    source = row.source if isinstance(row.source, list) else []
    cells = []
    for index, text in enumerate(header):
        name = mapped.get(text)
        if not name or text in header[:index]:
            continue
        value = str(source[index]) if index < len(source) and source[index] is not None else ""
        cells.append(Cell(index, text, field_label(RENAMED.get(name, name)), value, RENAMED.get(name, name) in named))
    reasons = [Reason(field_label(str(error["field"])) if error.get("field") else "", str(error.get("message") or "")) for error in errors]
    if not reasons and row.action == "failed":
        reasons = [Reason("", str(message)) for message in row.messages or []]
    notes = [
        Reason(field_label(str(note.get("field") or "")), str(note.get("message") or ""))
        for note in row.warnings or []
        if isinstance(note, dict)
    ]
    return ReviewRow(row, cells, reasons, notes)


def update_of(row: ImportRow) -> Update:
    """A row that would update a client, each changed field before -> after."""
    out = []
    for name, change in (row.changes or {}).items():
        if isinstance(change, dict):
            out.append(Change(field_label(name), shown_value(change.get("before")), shown_value(change.get("after"))))
    return Update(row, out)


def shown_value(value: Any) -> str:
    """A field's value in the update preview ("" for none)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return ", ".join(shown_value(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(shown_value(item) for item in value.values() if item not in (None, ""))
    return str(value)


def corrected_cells(job: ImportJob, cells: Mapping[str, str]) -> dict[int, str]:
    """The review grid's cells of a row (``{"<column index>": value}``) that name a column
    the check imported; others are ignored."""
    header = job.summary.get("header") or []
    mapped = job.summary.get("mapping") or {}
    out: dict[int, str] = {}
    for key, value in cells.items():
        if key.isdigit() and int(key) < len(header) and mapped.get(header[int(key)]):
            out[int(key)] = value
    return out
