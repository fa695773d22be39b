"""The client export and the import template: CSVs that the file door reads back unchanged.

The columns are the import's (S3.1: ID, firstName, lastName, email, project, desk, active,
type, created), then the other flat fields, each headed with the name the header matcher maps
back to the same field. Structured fields (attributes, addresses, external references,
enrichment) are not in the CSV; the JSON API has them. Every cell passes through
``csvsafe`` (formula neutralisation), which the importer undoes, so re-uploading an export
unchanged reports every row ``unchanged``.

The export is read in keyset pages, each in a short transaction the caller opens (``read``),
so a large export neither holds a database transaction (on SQLite: the write lock) for as
long as the download takes nor loads every client into memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from sqlalchemy import tuple_
from sqlalchemy.orm import Session

from clientdock.clients.fields import FIELDS, FILE_FIELDS
from clientdock.clients.models import Client
from clientdock.clients.repository import ClientFilter, filtered
from clientdock.csvsafe import csv_lines
from clientdock.tenants.context import TenantContext

#: Opens one short read transaction: ``Database.session``.
ReadSession = Callable[[], AbstractContextManager[Session]]

#: The import's columns of S3.1 first, then the other columns of the file door.
FIRST_COLUMNS = ("id", "firstName", "lastName", "email", "project", "desk", "active", "type", "created")
_ATTR_BY_FILE_NAME = {"id": "id", **{spec.file_name: spec.attr for spec in FIELDS if spec.file_name}}
#: (header, Client attribute), in the order of the file.
COLUMNS: tuple[tuple[str, str], ...] = tuple(
    ("ID" if name == "id" else name, _ATTR_BY_FILE_NAME[name])
    for name in (*FIRST_COLUMNS, *(name for name in FILE_FIELDS if name not in FIRST_COLUMNS))
)
HEADER: tuple[str, ...] = tuple(header for header, _ in COLUMNS)
#: A UTF-8 byte order mark first, so that Excel reads accented letters right.
BOM = "\ufeff"
PAGE_SIZE = 1000
_NAME, _ID = HEADER.index("name"), HEADER.index("ID")

_TEMPLATE_EXAMPLE: dict[str, str] = {
    "firstName": "Jane",
    "lastName": "Doe",
    "email": "jane.doe@example.com",
    "active": "true",
    "type": "Individual",
    "phone": "020 7946 0000",
    "company": "Doe & Daughters Ltd",
    "tags": "newsletter",
    "note": "Leave ID empty for a new client; empty cells take your defaults.",
}


def cell(value: Any) -> Any:
    """A stored value as the import reads it back (instants in ISO 8601, UTC as Z)."""
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return value


_PARTS = tuple(HEADER.index(name) for name in ("firstName", "middleName", "lastName"))


def _row_cells(row: Sequence[Any]) -> list[Any]:
    """A client's cells; ``name`` is left empty when it is just the name parts joined, so an
    edited first or last name re-derives it on import instead of being overwritten by it."""
    cells = [cell(value) for value in row]
    if cells[_NAME] == " ".join(cells[i] for i in _PARTS if cells[i]):
        cells[_NAME] = None
    return cells


def client_rows(read: ReadSession, ctx: TenantContext, flt: ClientFilter, page_size: int = PAGE_SIZE) -> Iterator[list[Any]]:
    """The tenant's clients matching the list filters, ordered by name then id; ``read()``
    opens the short transaction of each page (the caller owns transactions)."""
    columns = [getattr(Client, attr) for _, attr in COLUMNS]
    after: tuple[str, str] | None = None
    while True:
        query = filtered(ctx, flt).with_only_columns(*columns)
        if after is not None:
            query = query.where(tuple_(Client.name, Client.id) > after)
        with read() as session:
            page = session.execute(query.order_by(Client.name, Client.id).limit(page_size)).all()
        for row in page:
            yield _row_cells(row)
        if len(page) < page_size:
            return
        after = (page[-1][_NAME], page[-1][_ID])


def export_lines(read: ReadSession, ctx: TenantContext, flt: ClientFilter) -> Iterator[str]:
    """The export as CSV text, line by line, every cell neutralised."""
    yield BOM
    yield from csv_lines(HEADER, client_rows(read, ctx, flt))


def template_lines() -> Iterator[str]:
    """An empty import file with the export's columns and one example row."""
    yield BOM
    yield from csv_lines(HEADER, [[_TEMPLATE_EXAMPLE.get(header, "") for header in HEADER]])
