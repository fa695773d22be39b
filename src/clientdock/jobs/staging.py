"""The staged input of a job: one JSON line per raw record under ``<data>/imports/<job>/``.

A door writes its records once; the job reads them back chunk by chunk by byte offset, so
a million-row import neither re-parses its file per chunk nor holds it in memory. While
writing, records whose identity (email, trackingId, id, source reference) repeats an earlier
record of the same job are failed as duplicates: the first wins, across chunk boundaries.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterable, Iterator
from datetime import timedelta
from itertools import islice
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import select

from clientdock.blobs import BlobStore
from clientdock.db import Database
from clientdock.errors import FieldError
from clientdock.jobs.models import ImportJob
from clientdock.pipeline.records import FieldWarning, RawRecord, Ref

RECORDS = "records.jsonl"
#: The keys seen while staging (:class:`_Identities`), deleted when staging ends.
IDENTITIES = "identities.sqlite"
#: Records checked for duplicates together (one look-up and one insert each). Small enough that
#: the held records die young (a batch of 2,000 doubled the garbage collector's work).
IDENTITY_BATCH = 250
#: SQLite's page cache for the keys, in KiB: what the duplicate check holds in memory at most.
IDENTITY_CACHE_KIB = 16384
#: Keys per look-up statement (SQLite allows 32,766 parameters; a smaller IN list plans faster).
_LOOKUP_SIZE = 500
#: Bits of the in-memory filter in front of the keys' file (2 MiB): with a million keys, fewer
#: than one key in a hundred that was never seen is looked up in the file for nothing.
FILTER_BITS = 1 << 24


class _SeenFilter:
    """A Bloom filter of the keys seen: "not seen" is certain, "maybe seen" is checked in the
    file. Files rarely repeat a key, so most look-ups (most of the staging pass's time) end
    here. Python's string hash is stable within the process, which is all it needs."""

    def __init__(self, bits: int | None = None) -> None:
        size = bits or FILTER_BITS  # a power of two, at least 8
        self.mask = size - 1
        self.bits = bytearray(size // 8)

    def _positions(self, key: tuple[str, str]) -> tuple[int, int, int]:
        h = hash(key) & 0xFFFFFFFFFFFFFFFF
        mask = self.mask
        return h & mask, (h >> 21) & mask, ((h >> 42) ^ (h * 0x9E3779B1 >> 7)) & mask

    def add(self, key: tuple[str, str]) -> None:
        bits = self.bits
        for position in self._positions(key):
            bits[position >> 3] |= 1 << (position & 7)

    def may_hold(self, key: tuple[str, str]) -> bool:
        bits = self.bits
        return all(bits[position >> 3] & (1 << (position & 7)) for position in self._positions(key))


def job_prefix(job_id: str) -> str:
    """The storage key prefix of everything kept for a job (``clientdock.blobs``)."""
    return f"imports/{job_id}/"


def records_key(job_id: str) -> str:
    return job_prefix(job_id) + RECORDS


def discard(store: BlobStore, data_dir: Path, job_id: str) -> None:
    """Remove a job's staged input here and wherever the deployment keeps it."""
    remove(data_dir, job_id)
    store.delete(job_prefix(job_id))


def _live_jobs(db: Database, job_ids: set[str]) -> set[str]:
    with db.read_session() as session:
        query = select(ImportJob.id).where(ImportJob.id.in_(sorted(job_ids)), ImportJob.status.in_(("queued", "running")))
        return set(session.scalars(query))


def sweep_kept(store: BlobStore, db: Database, *, older_than: timedelta = timedelta(hours=1)) -> int:
    """Remove what is kept for jobs that ended or were deleted without removing it (their worker
    died at the wrong moment, or their tenant was deleted); returns how many jobs' input went.
    Only keys older than ``older_than``: a job's input is kept just before its row commits."""
    job_ids = {key.split("/")[1] for key in store.keys_older_than("imports/", older_than) if key.count("/") >= 2}
    orphans = job_ids - _live_jobs(db, job_ids) if job_ids else set()
    for job_id in sorted(orphans):
        store.delete(job_prefix(job_id))
    return len(orphans)


def sweep_scratch(data_dir: Path, db: Database) -> int:
    """Remove this machine's copies of jobs that are over (with a shared store the data folder is
    only a cache, and a worker that was stopped mid-job left its copies behind)."""
    folder = data_dir / "imports"
    if not folder.is_dir():
        return 0
    job_ids = {path.name for path in folder.iterdir() if path.is_dir()}
    orphans = job_ids - _live_jobs(db, job_ids) if job_ids else set()
    for job_id in orphans:
        remove(data_dir, job_id)
    return len(orphans)


def job_dir(data_dir: Path, job_id: str) -> Path:
    return data_dir / "imports" / job_id


def _ref_json(ref: Ref | None) -> list[str] | None:
    return [ref.source, ref.external_id, ref.language] if ref else None


def _ref(raw: list[str] | None) -> Ref | None:
    return Ref(*raw) if raw else None


def _warning(raw: dict[str, Any] | str) -> FieldWarning:
    """A staged warning; text, as staged before warnings were structured, is a row note."""
    return FieldWarning(None, raw) if isinstance(raw, str) else FieldWarning.from_dict(raw)


#: orjson (~5x faster than json here) writes what ``json.dumps(..., default=str)`` would:
#: datetimes and dataclasses go to ``str`` as before, not orjson's own renderings.
_ORJSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _dumps(data: dict[str, Any]) -> str:
    try:
        return orjson.dumps(data, default=str, option=_ORJSON_OPTIONS).decode()
    except orjson.JSONEncodeError:
        # What orjson refuses (an integer beyond 64 bits) the standard encoder still writes.
        return json.dumps(data, ensure_ascii=False, default=str)


def encode(record: RawRecord) -> str:
    return _dumps(
        {
            "i": record.index,
            "f": record.fields,
            "r": [_ref_json(r) for r in record.refs],
            "p": _ref_json(record.parent),
            "k": record.lookup_key,
            "e": [[e.field, e.message, e.row, e.code] for e in record.errors],
            "w": [w.as_dict() for w in record.warnings],
            "l": record.line,
            "s": record.source,
            "t": record.inferred_type,
        }
    )


def decode(line: str) -> RawRecord:
    data: dict[str, Any] = orjson.loads(line)
    return RawRecord(
        index=data["i"],
        fields=data["f"],
        refs=[r for r in (_ref(x) for x in data["r"]) if r],
        parent=_ref(data["p"]),
        lookup_key=data["k"],
        errors=[FieldError(f, m, r, c) for f, m, r, c in data["e"]],
        warnings=[_warning(w) for w in data["w"]],
        line=data["l"],
        source=data["s"],
        inferred_type=data.get("t"),
    )


class _Identities:
    """Keys seen so far in one job, to fail later duplicates: a SQLite file in the job's folder,
    so memory stays flat however long the file (a dict of every key held ~200 B a row).

    Records are checked a batch at a time, in order: one look-up of the batch's keys among the
    earlier batches', the batch's own repeats in Python, one insert of its new keys. The
    verdicts are those of checking one record after another: a record repeating a key of an
    earlier one fails naming the first key it repeats and that record's row, and registers no
    key of its own.
    """

    def __init__(self, path: Path) -> None:
        path.unlink(missing_ok=True)  # a staging run again starts afresh
        self.path = path
        self.db = sqlite3.connect(path)
        for pragma in ("journal_mode = OFF", "synchronous = OFF", f"cache_size = -{IDENTITY_CACHE_KIB}", "locking_mode = EXCLUSIVE"):
            self.db.execute(f"PRAGMA {pragma}")
        self.db.execute(
            "CREATE TABLE seen (kind TEXT NOT NULL, key TEXT NOT NULL, first INTEGER NOT NULL, PRIMARY KEY (kind, key)) WITHOUT ROWID"
        )
        self.filter = _SeenFilter()

    def check(self, batch: list[RawRecord]) -> None:
        """Fail the duplicates among ``batch`` (records without errors, in file order)."""
        keyed = [(record, self._keys(record)) for record in batch]
        may_repeat = self.filter.may_hold
        earlier = self._earlier({key for _record, keys in keyed for key in keys if may_repeat(key)})
        new: dict[tuple[str, str], int] = {}
        for record, keys in keyed:
            for key in keys:
                first = earlier.get(key, new.get(key))
                if first is not None:
                    field_name = key[0]
                    record.errors.append(
                        FieldError(field_name, f"duplicate: the same {field_name} as row {first}", record.index, "duplicate")
                    )
                    break
            else:
                new.update(dict.fromkeys(keys, record.index))
        for key in new:
            self.filter.add(key)
        with self.db:
            self.db.executemany("INSERT INTO seen (kind, key, first) VALUES (?, ?, ?)", [(*key, first) for key, first in new.items()])

    def _earlier(self, keys: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """The first row of each of ``keys`` seen in an earlier batch."""
        found: dict[tuple[str, str], int] = {}
        if not keys:
            return found
        by_kind: dict[str, list[str]] = {}
        for kind, key in keys:
            by_kind.setdefault(kind, []).append(key)
        for kind, values in by_kind.items():
            for start in range(0, len(values), _LOOKUP_SIZE):
                part = values[start : start + _LOOKUP_SIZE]
                marks = ", ".join("?" * len(part))
                rows = self.db.execute(f"SELECT key, first FROM seen WHERE kind = ? AND key IN ({marks})", [kind, *part])
                found.update(((kind, key), first) for key, first in rows)
        return found

    def close(self) -> None:
        """Close and delete the file: the keys are needed only while staging."""
        self.db.close()
        self.path.unlink(missing_ok=True)

    @staticmethod
    def _keys(record: RawRecord) -> list[tuple[str, str]]:
        keys: list[tuple[str, str]] = []
        for field_name in ("email", "trackingId", "id"):
            value = record.fields.get(field_name)
            if isinstance(value, str) and value.strip():
                keys.append((field_name, value.strip().casefold() if field_name == "email" else value.strip()))
        keys.extend(("sourceId", ref.lookup_key) for ref in record.refs)
        return keys


def write(
    data_dir: Path, job_id: str, records: Iterable[RawRecord], chunk_size: int, *, batch_size: int = IDENTITY_BATCH
) -> tuple[int, list[int]]:
    """Stage records; return (count, byte offset of each chunk's first line).

    Records are held ``batch_size`` at a time for the duplicate check, then written in order.
    """
    folder = job_dir(data_dir, job_id)
    folder.mkdir(parents=True, exist_ok=True)
    identities = _Identities(folder / IDENTITIES)
    offsets: list[int] = []
    count = 0
    try:
        with (folder / RECORDS).open("wb") as out:
            for batch in _batches(records, batch_size):
                identities.check([record for record in batch if not record.errors])
                for record in batch:
                    if count % chunk_size == 0:
                        offsets.append(out.tell())
                    out.write(encode(record).encode() + b"\n")
                    count += 1
    finally:
        identities.close()
    return count, offsets


def _batches(records: Iterable[RawRecord], size: int) -> Iterator[list[RawRecord]]:
    iterator = iter(records)
    while batch := list(islice(iterator, size)):
        yield batch


def remove(data_dir: Path, job_id: str) -> None:
    shutil.rmtree(job_dir(data_dir, job_id), ignore_errors=True)


def read_chunk_ending(data_dir: Path, job_id: str, offset: int, size: int) -> tuple[list[RawRecord], int]:
    """The chunk at ``offset`` and the byte offset where the next one starts."""
    out: list[RawRecord] = []
    with (job_dir(data_dir, job_id) / RECORDS).open("rb") as handle:
        handle.seek(offset)
        for _ in range(size):
            line = handle.readline()
            if not line:
                break
            out.append(decode(line.decode()))
        return out, handle.tell()
