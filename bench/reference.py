"""The reference for a file import: the same rows, read with ``csv.DictReader``, written as a
correct upsert by the database's own fastest plain means, into our real ``clients`` table under
a second tenant (the same schema, indexes and unique keys as ours).

- PostgreSQL: psycopg 3 ``COPY`` into a temporary staging table, then one
  ``INSERT … SELECT … ON CONFLICT (tenant_id, email_key) DO UPDATE … WHERE <something changed>``.
- SQLite: sqlite3 ``executemany`` of ``INSERT … ON CONFLICT (tenant_id, email_key) DO UPDATE …
  WHERE <something changed>``, in one transaction, with the service's pragmas.

Reading the CSV and turning each row into the stored columns (email key, ISO date, tags as
JSON, the type's canonical name, the flag) is inside the timing; what the reference does not
do is our pipeline's checking: email syntax, phone parsing (E.164), audit rows, row outcomes.
"""

from __future__ import annotations

import csv
import json
import sqlite3
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from clientdock.clients.types import canonical_type

COLUMNS = (
    "id", "tenant_id", "type", "name", "first_name", "last_name", "email", "email_key", "phone", "mobile", "company",
    "date_of_birth", "active", "tags", "client_group_id", "note", "attributes", "addresses", "contacts", "enrichment",
    "created_at", "updated_at",
)  # fmt: skip
#: What an update may change (the file's fields); the rest is kept, as our import keeps it.
UPDATED = ("type", "name", "first_name", "last_name", "email", "phone", "mobile", "company", "date_of_birth", "active", "tags", "note")
_TRUE = {"yes", "true", "1", "y", ""}


def _date(text: str) -> str | None:
    """``dd/mm/yyyy`` -> ``yyyy-mm-dd``."""
    return f"{text[6:10]}-{text[3:5]}-{text[0:2]}" if len(text) == 10 else None


def stored_rows(path: Path, tenant_id: str, group_id: str, *, sqlite: bool) -> Iterator[tuple[Any, ...]]:
    """Each row of the file as the columns of ``COLUMNS``."""
    now: Any = datetime.now(UTC)
    if sqlite:
        now = now.strftime("%Y-%m-%d %H:%M:%S.%f")  # as SQLAlchemy stores a datetime in SQLite
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            first, last, email, company = row["First Name"], row["Last Name"], row["E-mail"], row["Company"]
            kind = canonical_type(row["Type"]) if row["Type"] else None
            tags = [tag.strip() for tag in row["Tags"].split(";") if tag.strip()]
            active = row["Active"].strip().lower() in _TRUE
            yield (
                uuid.uuid4().hex, tenant_id, kind or "Individual", f"{first} {last}".strip() or company, first or None,
                last or None, email, email.lower(), row["Phone"] or None, row["Mobile"] or None, company or None,
                _date(row["Date of Birth"]), int(active) if sqlite else active, json.dumps(tags), group_id,
                row["Notes"] or None, "[]", "[]", "[]", "{}", now, now,
            )  # fmt: skip


def postgresql(url: str, path: Path, tenant_id: str, group_id: str) -> float:
    """Seconds to COPY the file's rows into a staging table and merge them in one statement."""
    names = ", ".join(COLUMNS)
    changes = ", ".join(f"{c} = excluded.{c}" for c in (*UPDATED, "updated_at"))
    ours = ", ".join(f"clients.{c}::jsonb" if c == "tags" else f"clients.{c}" for c in UPDATED)
    theirs = ", ".join(f"excluded.{c}::jsonb" if c == "tags" else f"excluded.{c}" for c in UPDATED)
    merge = (
        f"INSERT INTO clients ({names}) SELECT {names} FROM staging "
        f"ON CONFLICT (tenant_id, email_key) DO UPDATE SET {changes} WHERE ({ours}) IS DISTINCT FROM ({theirs})"
    )
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        started = time.perf_counter()
        conn.execute("CREATE TEMP TABLE staging (LIKE clients INCLUDING DEFAULTS) ON COMMIT DROP")
        with conn.cursor().copy(f"COPY staging ({names}) FROM STDIN") as copy:
            for row in stored_rows(path, tenant_id, group_id, sqlite=False):
                copy.write_row(row)
        conn.execute(merge)  # built from our own column names
        conn.commit()
        return time.perf_counter() - started


def sqlite(url: str, path: Path, tenant_id: str, group_id: str) -> float:
    """Seconds to executemany the file's rows as an upsert, in one transaction."""
    names = ", ".join(COLUMNS)
    changes = ", ".join(f"{c} = excluded.{c}" for c in (*UPDATED, "updated_at"))
    changed = " OR ".join(f"clients.{c} IS NOT excluded.{c}" for c in UPDATED)
    upsert = (
        f"INSERT INTO clients ({names}) VALUES ({', '.join('?' for _ in COLUMNS)}) "
        f"ON CONFLICT (tenant_id, email_key) DO UPDATE SET {changes} WHERE {changed}"
    )
    conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=30000"):
            conn.execute(f"PRAGMA {pragma}")
        started = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(upsert, stored_rows(path, tenant_id, group_id, sqlite=True))
        conn.execute("COMMIT")
        return time.perf_counter() - started
    finally:
        conn.close()


def timed(url: str, backend: str, path: Path, tenant_id: str, group_id: str) -> float:
    return (postgresql if backend == "postgresql" else sqlite)(url, path, tenant_id, group_id)
