"""Engine, sessions and the declarative base shared by every domain package.

The caller owns the transaction: request dependencies and job steps open a session with
:func:`session_scope`, services only ``flush()``.
"""

from __future__ import annotations

import hashlib
import math
import os
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import JSON, Connection, DateTime, Engine, MetaData, Table, create_engine, event, text
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Session, SessionTransaction, sessionmaker
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator

from clientdock.settings import get_settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both SQLite (which drops the zone) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


def table_of(model: type[Base]) -> Table:
    """The Core table of a model, for executemany inserts that skip the ORM's bookkeeping."""
    return cast(Table, model.__table__)


def utcnow() -> datetime:
    return datetime.now(UTC)


#: Ids drawn from the system's random source at once: one ``os.urandom`` call per this many ids.
_ID_BATCH = 512


class _IdPool(threading.local):
    """Each thread's stock of ready ids (a random source call per id was a tenth of an import's
    CPU: three ids per row)."""

    def __init__(self) -> None:
        self.ready: list[str] = []


_ids = _IdPool()


def new_ids(count: int) -> list[str]:
    """``count`` random (version 4) UUIDs as 32 hex digits, from one call to the random source."""
    raw = bytearray(os.urandom(16 * count))
    raw[6::16] = bytes((b & 0x0F) | 0x40 for b in raw[6::16])
    raw[8::16] = bytes((b & 0x3F) | 0x80 for b in raw[8::16])
    text = raw.hex()
    return [text[i : i + 32] for i in range(0, 32 * count, 32)]


def new_id() -> str:
    """A random (version 4) UUID as 32 hex digits, from this thread's stock (``new_ids``)."""
    ready = _ids.ready
    if not ready:
        ready.extend(new_ids(_ID_BATCH))
    return ready.pop()


def _forget_ids_after_fork() -> None:
    # A forked child would otherwise hand out the same ids as its parent.
    _ids.ready = []


os.register_at_fork(after_in_child=_forget_ids_after_fork)


def normalise_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and use the psycopg 3 driver for them."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


#: How long a SQLite writer waits for this process's other writers before it leaves the wait
#: to SQLite's own busy timeout (a thread that nests two writing sessions would wait on itself).
WRITER_WAIT_SECONDS = 30.0
#: How long SQLite waits for another process's write lock before it fails with "database is
#: locked" (answered 503, ``clientdock.problems``).
SQLITE_BUSY_TIMEOUT_SECONDS = 30.0
#: The writers' mutex of each SQLite engine (see :func:`_sqlite_begin_immediate`).
WRITERS: weakref.WeakKeyDictionary[Engine, threading.Lock] = weakref.WeakKeyDictionary()
#: The pool record's info of each checked-out connection (the pool's proxy, by ``id``: what the
#: dialect's ``do_commit`` is given) whose transaction holds its engine's mutex.
_WRITING: dict[int, dict[Any, Any]] = {}


def make_engine(url: str, *, deferred: bool = False) -> Engine:
    """The engine for ``url``. On SQLite every transaction begins IMMEDIATE (see
    :func:`_sqlite_begin_immediate`) unless ``deferred``: an engine for sessions that only read."""
    url = normalise_url(url)
    if is_sqlite(url):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_SECONDS})
        event.listen(engine, "connect", _sqlite_pragmas)
        if deferred:
            event.listen(engine, "begin", _sqlite_begin_deferred)
            return engine
        writers = threading.Lock()
        WRITERS[engine] = writers
        event.listen(engine, "begin", _sqlite_begin_immediate(writers))
        _release_after_end(engine, writers)
        event.listen(engine, "checkin", lambda _dbapi, record: _release_writer(record.info, writers))
        return engine
    # psycopg prepares a statement after five runs, and PostgreSQL may then cache a generic plan
    # made while a table was still small: a seq scan that it keeps as the table grows (an
    # import's email look-ups fell from 3,000 to 375 rows/s at 100k clients). Plan each run.
    options = {"options": "-c plan_cache_mode=force_custom_plan"}
    # No pre-ping (a round trip on every checkout, about a tenth of a single upsert's): a
    # connection is recycled after 30 minutes, and one the server closed is discarded by the
    # pool when its first statement fails (the request fails once, the next gets a fresh one).
    return create_engine(url, pool_size=10, max_overflow=20, pool_recycle=1800, connect_args=options)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy emit BEGIN itself (below) instead of pysqlite's implicit deferred BEGIN.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_SECONDS * 1000)}")
    cursor.close()


def _sqlite_begin_immediate(writers: threading.Lock) -> Callable[[Any], None]:
    """Take the write lock at BEGIN: a deferred transaction that reads and then writes fails
    with SQLITE_BUSY when another writer committed in between, whatever the busy timeout.

    The writers of this process first queue on ``writers``, released at commit or rollback:
    SQLite's busy handler waits by sleeping and retrying (up to 100 ms a sleep), so 32 threads
    contending for the lock through it waited seconds at the tail; a mutex hands it over at once.
    """

    def begin(conn: Any) -> None:
        if writers.acquire(timeout=WRITER_WAIT_SECONDS):
            conn.info["clientdock_writer"] = True
            _WRITING[id(conn.connection)] = conn.info
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            _release_writer(conn.info, writers)
            raise

    return begin


def _release_writer(info: dict[Any, Any], writers: threading.Lock) -> None:
    if info.pop("clientdock_writer", False):
        writers.release()


def _release_after_end(engine: Engine, writers: threading.Lock) -> None:
    """Hand the writers' mutex on once SQLite has ended the transaction, not before.

    SQLAlchemy's ``commit``/``rollback`` events run *before* the driver's commit: a mutex released
    there let the next writer's ``BEGIN IMMEDIATE`` meet the file lock still held and sleep in
    SQLite's busy handler (a millisecond at least) on nearly every hand-over under load. The
    engine's own dialect (one per engine) gets its ``do_commit``/``do_rollback`` wrapped instead;
    the pool's check-in still releases a mutex whose connection comes back without either."""
    dialect = engine.dialect
    for name in ("do_commit", "do_rollback"):
        end = getattr(dialect, name)

        def ended(connection: Any, _end: Callable[[Any], None] = end) -> None:
            try:
                _end(connection)
            finally:
                record = _WRITING.pop(id(connection), None)
                if record is not None:
                    _release_writer(record, writers)

        setattr(dialect, name, ended)


def _sqlite_begin_deferred(conn: Any) -> None:
    """A read-only transaction: it never takes the write lock, so it never waits for a writer
    (WAL readers see the last commit) and, never upgrading to a write, never meets SQLITE_BUSY."""
    conn.exec_driver_sql("BEGIN")


def advisory_lock_key(name: str) -> int:
    """A PostgreSQL advisory lock key for ``name``: the first 8 bytes of its SHA-256, signed."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def unpooled_engine(url: str) -> Engine:
    """An engine whose connections really close when closed (no pool) and autocommit: for
    holding a session-level advisory lock, which a connection returned to a pool would keep."""
    return create_engine(normalise_url(url), poolclass=NullPool, isolation_level="AUTOCOMMIT")


#: PostgreSQL tables under row-level security: a session bound to a tenant (:func:`bind_tenant`)
#: sees and writes only that tenant's rows of them (migrations ``0016_row_security`` and
#: ``0017_idempotency_tenant``; every
#: table with a ``tenant_id`` column is here or in :data:`UNSECURED_TENANT_TABLES`, a test checks).
ROW_SECURED_TABLES = frozenset(
    {
        "api_keys",
        "app_assignments",
        "client_changes",
        "client_external_refs",
        "client_groups",
        "clients",
        "connection_oauth_states",
        "connections",
        "file_mappings",
        "idempotency_keys",
        "import_jobs",
        "import_rows",
        "tenant_notifications",
        "users",
        "webhook_deliveries",
        "webhooks",
    }
)
#: Tables with a ``tenant_id`` column left outside row-level security, and why.
UNSECURED_TENANT_TABLES: dict[str, str] = {}
_TENANT = "clientdock_tenant_id"
_ROLE = "clientdock_tenant_role"


def bind_tenant(session: Session, tenant_id: str) -> None:
    """Let ``session`` act for ``tenant_id`` only, from now to its end. On PostgreSQL each of its
    transactions switches to the tenant role (``SET LOCAL ROLE``, the setting
    ``clientdock.tenant_id`` beside it): row-level security then hides every other tenant's rows
    of :data:`ROW_SECURED_TABLES` and refuses to write one, whatever filter a query forgot.
    Both end with the transaction (nothing is left on a pooled connection); the session's
    ``after_begin`` listener applies them again to each later transaction. On SQLite it only
    records the tenant. Bind before the work and never to a second tenant."""
    bound = session.info.get(_TENANT)
    if bound is not None and bound != tenant_id:
        raise RuntimeError(f"session already acts for tenant {bound}, not {tenant_id}")
    session.info[_TENANT] = tenant_id
    transaction = session.get_transaction()
    if bound is None and transaction is not None:
        for connection in _connections(transaction):
            _apply_tenant(session, connection)


def bound_tenant(session: Session) -> str | None:
    """The tenant ``session`` was bound to (:func:`bind_tenant`), or None for system work."""
    tenant: str | None = session.info.get(_TENANT)
    return tenant


def _connections(transaction: SessionTransaction) -> list[Connection]:
    # the connections the session's transaction already holds (one engine: one connection)
    return [conn for conn, *_ in transaction._connections.values()]  # noqa: SLF001


def _apply_tenant(session: Session, connection: Connection) -> None:
    tenant_id = session.info.get(_TENANT)
    if tenant_id is None or connection.dialect.name != "postgresql":
        return
    role = session.info.get(_ROLE) or get_settings().tenant_role
    connection.execute(
        text("SELECT set_config('role', :role, true), set_config('clientdock.tenant_id', :tenant, true)"),
        {"role": role, "tenant": tenant_id},
    )


@contextmanager
def as_login_role(session: Session) -> Iterator[None]:
    """Within the block, a tenant-bound session's transaction runs as the login role again, out
    of row-level security: only for writes to tables that are not the tenant's (the job
    engine's queue, in the schema DBOS owns), never for tenant data. The tenant role is back
    after the block, on error too (unless the transaction itself failed)."""
    if session.info.get(_TENANT) is None or session.get_bind().dialect.name != "postgresql":
        yield
        return
    connection = session.connection()
    connection.execute(text("SELECT set_config('role', 'none', true)"))
    try:
        yield
    except BaseException:
        # A failed statement aborted the transaction (it rolls back, the role with it) and
        # refuses this one too; any other error leaves it open, and the tenant role is back.
        with suppress(DBAPIError):
            _apply_tenant(session, connection)
        raise
    _apply_tenant(session, connection)


def _after_begin(session: Session, _transaction: SessionTransaction, connection: Connection) -> None:
    _apply_tenant(session, connection)


class Database:
    """One engine and its session factory; the app and the CLI each hold one."""

    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        self.engine = make_engine(self.url)
        info = {_ROLE: get_settings().tenant_role}
        self.sessions = sessionmaker(self.engine, expire_on_commit=False, info=info)
        #: SQLite: a second engine whose transactions begin deferred, for sessions that only read.
        self.read_engine = make_engine(self.url, deferred=True) if is_sqlite(self.url) else self.engine
        self.read_sessions = sessionmaker(self.read_engine, expire_on_commit=False, info=info)
        for maker in (self.sessions, self.read_sessions):
            event.listen(maker, "after_begin", _after_begin)

    def session(self) -> AbstractContextManager[Session]:
        """A session whose transaction commits on success and rolls back on error."""
        return _transaction(self.sessions)

    def read_session(self) -> AbstractContextManager[Session]:
        """A session for reads only: on SQLite its transaction waits for no writer. Writing in
        it is a mistake (SQLite would refuse the upgrade when another writer got in first)."""
        return _transaction(self.read_sessions)

    def dispose(self) -> None:
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()


@contextmanager
def _transaction(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A session of ``sessions`` that commits on success, rolls back on error and is closed."""
    session = sessions()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run ``callback`` once the session's transaction has committed (never if it rolls back):
    work outside the database, such as dropping a queued workflow, follows a committed change."""
    _once_after(session, callback, run_on="commit")


def after_rollback(session: Session, callback: Callable[[], None]) -> None:
    """Run ``callback`` if the session's transaction rolls back (never if it commits): undo work
    done outside the database for that transaction, such as a file moved into place."""
    _once_after(session, callback, run_on="rollback")


def _once_after(session: Session, callback: Callable[[], None], *, run_on: str) -> None:
    if not session.in_transaction():
        # A session that has not run a statement yet has no transaction, and its rollback would
        # end none: begin it (no connection is taken) so that the callback is settled either way.
        session.begin()
    settled = False

    def on_end(outcome: str) -> Callable[[Session], None]:
        def listener(_session: Session) -> None:
            nonlocal settled
            if not settled:
                settled = True
                if outcome == run_on:
                    callback()

        return listener

    event.listen(session, "after_commit", on_end("commit"))
    event.listen(session, "after_rollback", on_end("rollback"))


@lru_cache(maxsize=8)
def database_for(url: str) -> Database:
    return Database(url)


def strict_json(value: Any) -> Any:
    """``value`` with NaN and infinities as text: Python's json reads them, PostgreSQL's refuses."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {key: strict_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [strict_json(item) for item in value]
    return value
