"""Where uploads and staged records live so that any process can read them.

A job's input is written by the process that received it and read by whichever worker runs
the job — on another machine in a scale-out deployment, and perhaps a second worker after the
first one died. Every file goes by a *key* (a relative path such as ``imports/<job>/upload``)
and every process reads it through :meth:`BlobStore.local_copy`, which gives a path on its own
disk. Which store serves a deployment is ``CLIENTDOCK_UPLOAD_STORAGE``:

* ``local`` (the default on SQLite): the key is a path under the data folder, nothing is copied;
  one machine only.
* ``database`` (the default on PostgreSQL): the bytes are kept in ``blob_parts``, 1 MiB per row,
  written in the caller's transaction (an upload and its job row commit or vanish together) and
  streamed part by part, never whole in memory; the data folder only caches copies.
* ``s3://bucket/prefix``: an S3-compatible object store (``CLIENTDOCK_S3_ENDPOINT_URL`` for one
  that is not AWS); the data folder caches copies (:mod:`clientdock.blobs_s3`).
"""

from __future__ import annotations

import os
import shutil
import uuid
import weakref
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

import structlog
from sqlalchemy import LargeBinary, String, delete, func, insert, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from clientdock.db import Base, Database, after_rollback, utcnow
from clientdock.settings import ConfigurationError, Settings

log = structlog.get_logger(__name__)

PART_BYTES = 1024 * 1024
LOCAL, DATABASE = "local", "database"


class BlobMissing(LookupError):
    """No process kept the bytes of this key (or they were removed when their job ended)."""

    def __init__(self, key: str) -> None:
        super().__init__(f"the file kept as {key!r} is no longer stored (removed, or never kept)")
        self.key = key


class BlobPart(Base):
    """One MiB of a kept file (``database`` storage)."""

    __tablename__ = "blob_parts"

    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    part: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BlobStore(Protocol):
    """Files by key. ``session`` arguments make a write part of the caller's transaction where
    the store can (the database store); a store that cannot undoes its write on rollback."""

    kind: str
    #: This process's folder: the store itself (local) or its cache (shared stores).
    root: Path

    @property
    def shared(self) -> bool:
        """True when every process of the deployment reads the same bytes (not the local disk)."""
        ...

    def path(self, key: str) -> Path: ...

    def take(self, session: Session, key: str, source: Path) -> None:
        """Keep ``source``'s bytes under ``key``; ``source`` is gone afterwards."""
        ...

    def share(self, session: Session | None, key: str) -> None:
        """Make the file at :meth:`path` readable by every process (nothing to do when local)."""
        ...

    def put_bytes(self, session: Session | None, key: str, data: bytes) -> None: ...

    def get_bytes(self, key: str) -> bytes | None: ...

    def local_copy(self, key: str) -> Path:
        """A path on this machine holding the key's bytes; :class:`BlobMissing` when none."""
        ...

    def delete(self, prefix: str) -> None:
        """Remove every key starting with ``prefix`` (and this process's copies of them)."""
        ...

    def keys_older_than(self, prefix: str, age: timedelta) -> list[str]:
        """Keys under ``prefix`` written more than ``age`` ago (for sweeping what was left)."""
        ...


def _safe(root: Path, key: str) -> Path:
    path = (root / key).resolve()
    if root.resolve() not in path.parents:
        raise ValueError(f"blob key {key!r} leaves its folder")
    return path


def _write_atomically(target: Path, chunks: Iterator[bytes]) -> bool:
    """Write ``chunks`` to ``target`` through a temporary file; False when there were none."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")
    wrote = False
    try:
        with partial.open("wb") as out:
            for chunk in chunks:
                out.write(chunk)
                wrote = True
        if wrote:
            os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return wrote


def _file_parts(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(PART_BYTES):
            yield chunk


def remove_local(root: Path, prefix: str) -> None:
    """This process's files under ``prefix`` (a folder or one file)."""
    target = _safe(root, prefix.rstrip("/"))
    if target.is_dir():
        shutil.rmtree(target, ignore_errors=True)
    else:
        target.unlink(missing_ok=True)


class LocalStore:
    """Keys are files under the data folder; nothing leaves this machine."""

    kind = LOCAL

    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def shared(self) -> bool:
        return False

    def path(self, key: str) -> Path:
        return _safe(self.root, key)

    def take(self, session: Session, key: str, source: Path) -> None:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(source, target)
        after_rollback(session, lambda: target.unlink(missing_ok=True))

    def share(self, session: Session | None, key: str) -> None:
        return None

    def put_bytes(self, session: Session | None, key: str, data: bytes) -> None:
        _write_atomically(self.path(key), iter([data]))

    def get_bytes(self, key: str) -> bytes | None:
        try:
            return self.path(key).read_bytes()
        except OSError:
            return None

    def local_copy(self, key: str) -> Path:
        path = self.path(key)
        if not path.is_file():
            raise BlobMissing(key)
        return path

    def delete(self, prefix: str) -> None:
        remove_local(self.root, prefix)

    def keys_older_than(self, prefix: str, age: timedelta) -> list[str]:
        base = self.path(prefix.rstrip("/")) if prefix.strip("/") else self.root
        if not base.is_dir():
            return []
        cutoff = (utcnow() - age).timestamp()
        out: list[str] = []
        for path in base.rglob("*"):
            try:
                if path.is_file() and path.stat().st_mtime < cutoff:
                    out.append(path.relative_to(self.root).as_posix())
            except OSError:
                continue
        return out


class DatabaseStore:
    """Keys are rows of ``blob_parts`` in the application's database; the folder is a cache."""

    kind = DATABASE

    def __init__(self, root: Path, db: Database) -> None:
        self.root, self.db = root, db

    @property
    def shared(self) -> bool:
        return True

    def path(self, key: str) -> Path:
        return _safe(self.root, key)

    def _write(self, session: Session | None, key: str, parts: Iterator[bytes]) -> None:
        if session is None:
            with self.db.session() as own:
                self._write(own, key, parts)
            return
        # Core statements, one part at a time: no part stays in the session's identity map.
        session.execute(delete(BlobPart).where(BlobPart.key == key))
        now = utcnow()
        number = -1
        for number, data in enumerate(parts):
            session.execute(insert(BlobPart).values(key=key, part=number, data=data, created_at=now))
        if number < 0:
            session.execute(insert(BlobPart).values(key=key, part=0, data=b"", created_at=now))

    def take(self, session: Session, key: str, source: Path) -> None:
        self._write(session, key, _file_parts(source))
        source.unlink(missing_ok=True)

    def share(self, session: Session | None, key: str) -> None:
        self._write(session, key, _file_parts(self.path(key)))

    def put_bytes(self, session: Session | None, key: str, data: bytes) -> None:
        self._write(session, key, iter([data[i : i + PART_BYTES] for i in range(0, len(data), PART_BYTES)] or [b""]))

    def _parts(self, key: str) -> Iterator[bytes]:
        with self.db.read_session() as session:
            count = session.scalar(select(func.count()).select_from(BlobPart).where(BlobPart.key == key)) or 0
        for number in range(count):
            with self.db.read_session() as session:
                data = session.scalar(select(BlobPart.data).where(BlobPart.key == key, BlobPart.part == number))
            if data is None:
                raise BlobMissing(key)
            yield bytes(data)

    def get_bytes(self, key: str) -> bytes | None:
        chunks = list(self._parts(key))
        return b"".join(chunks) if chunks else None

    def local_copy(self, key: str) -> Path:
        path = self.path(key)
        if path.is_file():
            return path
        if not _write_atomically(path, self._parts(key)):
            raise BlobMissing(key)
        log.info("blob_fetched", key=key, storage=self.kind, bytes=path.stat().st_size)
        return path

    def delete(self, prefix: str) -> None:
        with self.db.session() as session:
            session.execute(delete(BlobPart).where(BlobPart.key.startswith(prefix, autoescape=True)))
        remove_local(self.root, prefix)

    def keys_older_than(self, prefix: str, age: timedelta) -> list[str]:
        cutoff = utcnow() - age
        with self.db.read_session() as session:
            query = (
                select(BlobPart.key)
                .where(BlobPart.key.startswith(prefix, autoescape=True), BlobPart.part == 0, BlobPart.created_at < cutoff)
                .order_by(BlobPart.key)
            )
            return list(session.scalars(query))


def storage_kind(settings: Settings, dialect: str) -> str:
    """The configured storage, or the default for the database: local on SQLite, else database."""
    configured = (settings.upload_storage or "").strip()
    if not configured:
        return LOCAL if dialect == "sqlite" else DATABASE
    if configured in (LOCAL, DATABASE) or configured.startswith("s3://"):
        return configured
    raise ConfigurationError(f"CLIENTDOCK_UPLOAD_STORAGE must be local, database or s3://bucket/prefix, not {configured!r}")


_stores: weakref.WeakKeyDictionary[Database, dict[tuple[str, str], BlobStore]] = weakref.WeakKeyDictionary()


def store_for(settings: Settings, db: Database) -> BlobStore:
    """The deployment's store (one per database, storage and folder in a process)."""
    kind = storage_kind(settings, db.engine.dialect.name)
    root = settings.data_dir.resolve()
    known = _stores.setdefault(db, {})
    found = known.get((kind, str(root)))
    if found is None:
        found = known[(kind, str(root))] = _new_store(kind, root, db, settings)
    return found


def _new_store(kind: str, root: Path, db: Database, settings: Settings) -> BlobStore:
    if kind == LOCAL:
        return LocalStore(root)
    if kind == DATABASE:
        return DatabaseStore(root, db)
    from clientdock.blobs_s3 import S3Store

    return S3Store(root, kind, settings.s3_endpoint_url)
