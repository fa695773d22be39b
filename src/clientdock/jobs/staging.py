"""The staged input of a job: one JSON line per raw record under ``<data>/imports/<job>/``.

A door writes its records once; the job reads them back chunk by chunk by byte offset, so
a million-row import neither re-parses its file per chunk nor holds it in memory. While
writing, records whose identity (email, trackingId, id, source reference) repeats an earlier
record of the same job are failed as duplicates: the first wins, across chunk boundaries.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson

from clientdock.errors import FieldError
from clientdock.pipeline.records import FieldWarning, RawRecord, Ref

RECORDS = "records.jsonl"


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
    """Keys seen so far in one job, to fail later duplicates."""

    def __init__(self) -> None:
        self.seen: dict[tuple[str, str], int] = {}

    def check(self, record: RawRecord) -> None:
        for field_name, key in self._keys(record):
            first = self.seen.get((field_name, key))
            if first is not None:
                record.errors.append(FieldError(field_name, f"duplicate: the same {field_name} as row {first}", record.index, "duplicate"))
                return
        for field_name, key in self._keys(record):
            self.seen[(field_name, key)] = record.index

    @staticmethod
    def _keys(record: RawRecord) -> list[tuple[str, str]]:
        keys: list[tuple[str, str]] = []
        for field_name in ("email", "trackingId", "id"):
            value = record.fields.get(field_name)
            if isinstance(value, str) and value.strip():
                keys.append((field_name, value.strip().casefold() if field_name == "email" else value.strip()))
        keys.extend(("sourceId", ref.lookup_key) for ref in record.refs)
        return keys


def write(data_dir: Path, job_id: str, records: Iterable[RawRecord], chunk_size: int) -> tuple[int, list[int]]:
    """Stage records; return (count, byte offset of each chunk's first line)."""
    folder = job_dir(data_dir, job_id)
    folder.mkdir(parents=True, exist_ok=True)
    identities = _Identities()
    offsets: list[int] = []
    count = 0
    with (folder / RECORDS).open("wb") as out:
        for record in records:
            if count % chunk_size == 0:
                offsets.append(out.tell())
            if not record.errors:
                identities.check(record)
            out.write(encode(record).encode() + b"\n")
            count += 1
    return count, offsets


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
