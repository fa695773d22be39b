"""The client export and the import template: CSVs that the file door reads back unchanged.

The columns are the import's (S3.1: ID, firstName, lastName, email, project, desk, active,
type, created), then the other flat fields, each headed with the name the header matcher maps
back to the same field, then the addresses: one column per address type and part that some
exported client has (``addresses.billing.postalCode``), filled from the client's first address
of that type. The file door merges a row's addresses into the client's by type, so addresses
of other types (or a second one of a type), which only the JSON API writes, are left alone by
a re-import. The other structured fields (attributes, contacts, external references,
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

from clientdock.clients.fields import ADDRESS_FILE_FIELDS, FIELDS, FILE_FIELDS
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
    for name in (*FIRST_COLUMNS, *(name for name in FILE_FIELDS if name not in FIRST_COLUMNS and name not in ADDRESS_FILE_FIELDS))
)
HEADER: tuple[str, ...] = tuple(header for header, _ in COLUMNS)
#: A UTF-8 byte order mark first, so that Excel reads accented letters right.
BOM = "\ufeff"
PAGE_SIZE = 1000
_NAME = HEADER.index("name")

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
    "addresses.postal.line1": "1 High Street",
    "addresses.postal.city": "London",
    "addresses.postal.postalCode": "SW1A 1AA",
    "addresses.postal.country": "United Kingdom",
}
#: The template's address columns: the postal address's usual parts.
TEMPLATE_ADDRESS_COLUMNS = tuple(name for name in _TEMPLATE_EXAMPLE if name in ADDRESS_FILE_FIELDS)


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


def _pages(read: ReadSession, ctx: TenantContext, flt: ClientFilter, columns: Sequence[Any], page_size: int) -> Iterator[Sequence[Any]]:
    """``(name, id, *columns)`` of the clients matching the filters, ordered by name then id,
    a page per short transaction that ``read()`` opens (the caller owns transactions)."""
    after: tuple[str, str] | None = None
    while True:
        query = filtered(ctx, flt).with_only_columns(Client.name, Client.id, *columns)
        if after is not None:
            query = query.where(tuple_(Client.name, Client.id) > after)
        with read() as session:
            page = session.execute(query.order_by(Client.name, Client.id).limit(page_size)).all()
        yield from page
        if len(page) < page_size:
            return
        after = (page[-1][0], page[-1][1])


def address_columns(read: ReadSession, ctx: TenantContext, flt: ClientFilter, page_size: int = PAGE_SIZE) -> list[str]:
    """The address fields (``addresses.<type>.<part>``) that some matching client fills, in the
    file door's order."""
    used: set[str] = set()
    for row in _pages(read, ctx, flt, [Client.addresses], page_size):
        for name, value in _address_cells(row[2]).items():
            if value not in (None, ""):
                used.add(name)
    return [name for name in ADDRESS_FILE_FIELDS if name in used]


def _address_cells(addresses: Any) -> dict[str, Any]:
    """``addresses.<type>.<part>`` -> value, from the first address of each type."""
    cells: dict[str, Any] = {}
    seen: set[str] = set()
    for address in addresses or []:
        kind = address.get("type") if isinstance(address, dict) else None
        if not isinstance(kind, str) or kind in seen:
            continue
        seen.add(kind)
        for part, value in address.items():
            name = f"addresses.{kind}.{part}"
            if name in ADDRESS_FILE_FIELDS:
                cells[name] = value
    return cells


def client_rows(
    read: ReadSession, ctx: TenantContext, flt: ClientFilter, page_size: int = PAGE_SIZE, addresses: Sequence[str] = ()
) -> Iterator[list[Any]]:
    """The tenant's clients matching the list filters, ordered by name then id, with the
    ``addresses`` columns (see :func:`address_columns`) after the others."""
    columns = [getattr(Client, attr) for _, attr in COLUMNS]
    for row in _pages(read, ctx, flt, [*columns, Client.addresses], page_size):
        cells = _address_cells(row[-1])
        yield [*_row_cells(row[2:-1]), *(cells.get(name) for name in addresses)]


def export_lines(read: ReadSession, ctx: TenantContext, flt: ClientFilter) -> Iterator[str]:
    """The export as CSV text, line by line, every cell neutralised."""
    addresses = address_columns(read, ctx, flt)
    yield BOM
    yield from csv_lines((*HEADER, *addresses), client_rows(read, ctx, flt, addresses=addresses))


def template_lines() -> Iterator[str]:
    """An empty import file with the export's columns, the postal address's, and one example row."""
    header = (*HEADER, *TEMPLATE_ADDRESS_COLUMNS)
    yield BOM
    yield from csv_lines(header, [[_TEMPLATE_EXAMPLE.get(name, "") for name in header]])
