"""Write many rows of one table below SQLAlchemy, in the session's transaction.

The import path writes thousands of rows per chunk (clients, their audit rows, one outcome per
input row). Through SQLAlchemy each row costs bind processing and one statement on the server;
here PostgreSQL gets them by ``COPY`` (psycopg's ``copy``) and SQLite by the driver's own
``executemany`` of one prepared statement. Values are converted by the same bind processors
SQLAlchemy would use, so what is stored is identical either way.

:func:`reference_path` switches a block of code back to plain SQLAlchemy Core statements: the
differential tests run an import both ways and compare the results.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, Table, bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from clientdock.db import ROW_SECURED_TABLES, bound_tenant

Row = Mapping[str, Any]
Converter = Callable[[Any], Any]

_reference: ContextVar[bool] = ContextVar("clientdock_rowwrite_reference", default=False)
#: Rows per SQLAlchemy executemany on the reference path, and ids per IN (...) list.
REFERENCE_CHUNK = 500
#: Up to this many rows of one shape, PostgreSQL gets plain statements (pipelined: one round trip)
#: instead of a temporary stage: creating and dropping a temp table, then ``COPY`` and a move,
#: costs more than a few rows' ``INSERT``/``UPDATE`` (a single upsert, a small batch).
SMALL_BATCH = 64


@contextmanager
def reference_path() -> Iterator[None]:
    """Within this block, write through SQLAlchemy Core (the plain path the fast one must equal)."""
    token = _reference.set(True)
    try:
        yield
    finally:
        _reference.reset(token)


def _dialect(session: Session) -> Dialect:
    return session.get_bind().dialect


def _fast(session: Session) -> bool:
    return not _reference.get() and _dialect(session).name in ("postgresql", "sqlite")


def _by_columns(rows: Sequence[Row]) -> dict[tuple[str, ...], list[Row]]:
    """Rows grouped by the columns they set, in first-seen order (one statement per group)."""
    groups: dict[tuple[str, ...], list[Row]] = {}
    for row in rows:
        groups.setdefault(tuple(row), []).append(row)
    return groups


def insert_rows(session: Session, table: Table, rows: Sequence[Row]) -> None:
    """Insert rows that cannot conflict (their keys are new ids)."""
    if not rows:
        return
    if not _fast(session):
        for start in range(0, len(rows), REFERENCE_CHUNK):
            session.connection().execute(insert(table), list(rows[start : start + REFERENCE_CHUNK]))
        return
    for columns, group in _by_columns(rows).items():
        if _dialect(session).name == "postgresql" and len(group) <= SMALL_BATCH:
            _pg_many(session, _insert_sql(table.name, columns, "", "%s"), _values(session, table, columns, group))
        elif _dialect(session).name == "postgresql" and table.name in ROW_SECURED_TABLES and bound_tenant(session) is not None:
            # PostgreSQL refuses COPY FROM into a table whose row-level security applies to the
            # role: copy into a stage and insert from it (the policy checks each row there).
            _pg_execute(session, _insert_from_stage(session, table, columns, group, ""))
        elif _dialect(session).name == "postgresql":
            _copy(session, table.name, columns, _values(session, table, columns, group))
        else:
            _sqlite_many(session, _insert_sql(table.name, columns, ""), _values(session, table, columns, group))


def insert_new_rows(session: Session, table: Table, rows: Sequence[Row], key: str = "id") -> set[Any]:
    """Insert rows, skipping those that conflict with a row already there (a concurrent
    writer's); return the ``key`` of the rows this call inserted."""
    if not rows:
        return set()
    inserted: set[Any] = set()
    for columns, group in _by_columns(rows).items():
        if not _fast(session):
            inserted |= _reference_insert_new(session, table, group, key)
        elif _dialect(session).name == "postgresql" and len(group) <= SMALL_BATCH:
            sql = _insert_sql(table.name, columns, f" ON CONFLICT DO NOTHING RETURNING {key}", "%s")
            inserted.update(row[0] for row in _pg_many(session, sql, _values(session, table, columns, group), returning=True))
        elif _dialect(session).name == "postgresql":
            sql = _insert_from_stage(session, table, columns, group, f" ON CONFLICT DO NOTHING RETURNING {key}")
            inserted.update(row[0] for row in _pg_fetch(session, sql))
        else:
            sql = _insert_sql(table.name, columns, " ON CONFLICT DO NOTHING")
            cursor = _sqlite_many(session, sql, _values(session, table, columns, group))
            if cursor.rowcount == len(group):
                inserted.update(row[key] for row in group)
            else:
                inserted |= _present(session, table, key, [row[key] for row in group])
    return inserted


def update_rows(session: Session, table: Table, rows: Sequence[Row], key: str = "id") -> None:
    """``UPDATE table SET <the row's other columns> WHERE key = row[key]`` for every row."""
    if not rows:
        return
    for columns, group in _by_columns(rows).items():
        assigned = [c for c in columns if c != key]
        if not _fast(session):
            stmt = update(table).where(table.c[key] == bindparam("_key")).values({c: bindparam(c) for c in assigned})
            session.connection().execute(stmt, [{**{c: row[c] for c in assigned}, "_key": row[key]} for row in group])
        elif _dialect(session).name == "postgresql" and len(group) <= SMALL_BATCH:
            sql = f"UPDATE {table.name} SET {', '.join(f'{c} = %s' for c in assigned)} WHERE {key} = %s"
            _pg_many(session, sql, _values(session, table, (*assigned, key), group))
        elif _dialect(session).name == "postgresql":
            stage = _stage(session, table.name, columns)
            _copy(session, stage, columns, _values(session, table, columns, group))
            sets = ", ".join(f"{c} = staged.{c}" for c in assigned)
            names = ", ".join(columns)
            sql = (
                f"WITH staged AS (DELETE FROM {stage} RETURNING {names}) "
                f"UPDATE {table.name} SET {sets} FROM staged WHERE {table.name}.{key} = staged.{key}"
            )
            _pg_execute(session, sql)
        else:
            ordered = (*assigned, key)
            sql = f"UPDATE {table.name} SET {', '.join(f'{c} = ?' for c in assigned)} WHERE {key} = ?"
            _sqlite_many(session, sql, _values(session, table, ordered, group))


def _reference_insert_new(session: Session, table: Table, rows: Sequence[Row], key: str) -> set[Any]:
    insert_fn = pg_insert if _dialect(session).name == "postgresql" else sqlite_insert
    inserted: set[Any] = set()
    for start in range(0, len(rows), REFERENCE_CHUNK):
        part = list(rows[start : start + REFERENCE_CHUNK])
        session.connection().execute(insert_fn(table).on_conflict_do_nothing(), part)
        inserted |= _present(session, table, key, [row[key] for row in part])
    return inserted


def _present(session: Session, table: Table, key: str, keys: Sequence[Any]) -> set[Any]:
    found: set[Any] = set()
    for start in range(0, len(keys), REFERENCE_CHUNK):
        query = select(table.c[key]).where(table.c[key].in_(keys[start : start + REFERENCE_CHUNK]))
        found.update(session.connection().execute(query).scalars())
    return found


@lru_cache(maxsize=256)
def _converters(table: Table, columns: tuple[str, ...], dialect: Dialect) -> tuple[Converter | None, ...]:
    """Per column, what SQLAlchemy's bind processing would make of a value: JSON as its text
    (``json.dumps``, as SQLAlchemy serialises it), the rest by the type's own bind processor."""
    out: list[Converter | None] = []
    for name in columns:
        column_type = table.c[name].type
        if isinstance(column_type, JSON) and not column_type.none_as_null:
            out.append(_json_text)
        else:
            out.append(column_type.dialect_impl(dialect).bind_processor(dialect))
    return tuple(out)


def _json_text(value: Any) -> str:
    # Empty lists and objects are most of an import's outcome columns, and null most of the
    # audit's before/after: skip the encoder for them.
    if value is None:
        return "null"
    if value == [] and isinstance(value, list):
        return "[]"
    if value == {} and isinstance(value, dict):
        return "{}"
    return json.dumps(value)


def _values(session: Session, table: Table, columns: tuple[str, ...], rows: Sequence[Row]) -> list[Sequence[Any]]:
    """The rows as value sequences in ``columns``' order, converted for the driver."""
    converters = _converters(table, columns, _dialect(session))
    if len(columns) == 1:
        (name,), (convert,) = columns, converters
        return [(convert(row[name]) if convert else row[name],) for row in rows]
    pick = itemgetter(*columns)
    converted = [(i, convert) for i, convert in enumerate(converters) if convert is not None]
    if not converted:
        return [pick(row) for row in rows]
    out: list[Sequence[Any]] = []
    for row in rows:
        values = list(pick(row))
        for i, convert in converted:
            values[i] = convert(values[i])
        out.append(values)
    return out


def _driver(session: Session) -> Any:
    """The DBAPI connection of the session's transaction (psycopg or sqlite3)."""
    return session.connection().connection.driver_connection


def _copy(session: Session, table: str, columns: tuple[str, ...], values: list[Sequence[Any]]) -> None:
    with _driver(session).cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in values:
            copy.write_row(row)


def _insert_from_stage(session: Session, table: Table, columns: tuple[str, ...], rows: Sequence[Row], tail: str) -> str:
    """COPY ``rows`` into a stage of ``table``; return the statement that moves them from the
    stage into the table (``tail`` appended: a conflict clause, RETURNING), for the caller to run."""
    stage = _stage(session, table.name, columns)
    _copy(session, stage, columns, _values(session, table, columns, rows))
    names = ", ".join(columns)
    return f"WITH staged AS (DELETE FROM {stage} RETURNING {names}) INSERT INTO {table.name} ({names}) SELECT {names} FROM staged{tail}"


def _stage(session: Session, table: str, columns: tuple[str, ...]) -> str:
    """A temporary table with these columns of ``table`` (no constraints), for this transaction."""
    digest = hashlib.sha1(",".join(columns).encode()).hexdigest()[:10]
    name = f"cd_stage_{table}_{digest}"
    _pg_execute(session, f"CREATE TEMP TABLE IF NOT EXISTS {name} ON COMMIT DROP AS SELECT {', '.join(columns)} FROM {table} WITH NO DATA")
    return name


def _pg_execute(session: Session, sql: str) -> None:
    with _driver(session).cursor() as cursor:
        cursor.execute(sql)


def _pg_fetch(session: Session, sql: str) -> list[tuple[Any, ...]]:
    with _driver(session).cursor() as cursor:
        cursor.execute(sql)
        return list(cursor.fetchall())


def _pg_many(session: Session, sql: str, values: list[Sequence[Any]], *, returning: bool = False) -> list[tuple[Any, ...]]:
    """``sql`` once per value sequence, pipelined by psycopg (one round trip); with
    ``returning``, the rows every run returned."""
    with _driver(session).cursor() as cursor:
        cursor.executemany(sql, values, returning=returning)
        if not returning:
            return []
        out: list[tuple[Any, ...]] = []
        while True:
            out.extend(cursor.fetchall())
            if not cursor.nextset():
                return out


def _insert_sql(table: str, columns: tuple[str, ...], tail: str, placeholder: str = "?") -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([placeholder] * len(columns))}){tail}"


def _sqlite_many(session: Session, sql: str, values: list[Sequence[Any]]) -> Any:
    cursor = _driver(session).cursor()
    cursor.executemany(sql, values)
    return cursor
