"""Files attached in the Import dialog, kept between the dry run and the confirmed import.

The dialog checks a file with a dry run, may check it again with another mapping, and then
imports it; each of those is a job of the CSV door, which takes its file away. So the upload
is kept once under ``<data>/uploads/web/<tenant id>/<token>.upload`` (beside a small JSON of
its name and size) and each job gets a copy; the confirmed import takes the kept file itself.
A token names a file of one tenant only; files left behind by abandoned dialogs are removed
after a day, whenever the tenant uploads again.

The cells a person corrects in the dialog's review grid are kept in that JSON too (``fixes``:
``{"<row number>": {"<column index>": value}}``); every job made from the kept file gets them
as its option ``fixes`` (applied by ``file_records.read_records``), so the file itself stays as
it was sent.
"""

from __future__ import annotations

import json
import re
import shutil
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from clientdock.errors import NotFound
from clientdock.imports import files
from clientdock.imports.upload import Received
from clientdock.settings import Settings

KEEP_SECONDS = 24 * 3600
SUFFIX = ".upload"
_TOKEN = re.compile(r"[0-9a-f]{32}")


class UploadGone(NotFound):
    title = "File no longer here"

    def __init__(self) -> None:
        super().__init__("that file is no longer here; attach it again")


@dataclass(frozen=True)
class KeptUpload:
    token: str
    path: Path
    filename: str | None
    size: int
    fixes: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.filename or "Untitled file"


def folder(settings: Settings, tenant_id: str) -> Path:
    return files.uploads_dir(settings) / "web" / tenant_id


def keep(received: Received) -> KeptUpload:
    """Keep a received upload (``upload.receive`` wrote it into :func:`folder`)."""
    token = received.path.stem
    meta = {"filename": received.filename, "size": received.size}
    received.path.with_suffix(".json").write_text(json.dumps(meta))
    return KeptUpload(token, received.path, received.filename, received.size)


def find(settings: Settings, tenant_id: str, token: str) -> KeptUpload:
    """The tenant's kept upload named by ``token``; :class:`UploadGone` when there is none."""
    if not _TOKEN.fullmatch(token):
        raise UploadGone()
    path = folder(settings, tenant_id) / f"{token}{SUFFIX}"
    try:
        meta = json.loads(path.with_suffix(".json").read_text())
    except (OSError, ValueError) as exc:
        raise UploadGone() from exc
    if not path.is_file():
        raise UploadGone()
    fixes = meta.get("fixes") if isinstance(meta.get("fixes"), dict) else {}
    return KeptUpload(token, path, meta.get("filename"), int(meta.get("size") or 0), fixes)


def with_fixes(kept: KeptUpload, row: int, cells: Mapping[int, str]) -> KeptUpload:
    """The kept file with ``cells`` (column index -> value) of record ``row`` corrected, kept
    beside it for the next check and the import."""
    fixes = {key: dict(value) for key, value in kept.fixes.items()}
    fixes.setdefault(str(row), {}).update({str(column): value for column, value in cells.items()})
    meta = {"filename": kept.filename, "size": kept.size, "fixes": fixes}
    kept.path.with_suffix(".json").write_text(json.dumps(meta))
    return KeptUpload(kept.token, kept.path, kept.filename, kept.size, fixes)


def copy_for_job(settings: Settings, kept: KeptUpload) -> Path:
    """A copy of the kept file for a job to take (a dry run)."""
    target = files.uploads_dir(settings) / f"{uuid.uuid4().hex}{SUFFIX}"
    shutil.copyfile(kept.path, target)
    return target


def forget(kept: KeptUpload) -> None:
    """Drop the kept file's record once the import has taken the file (or given up on it)."""
    kept.path.unlink(missing_ok=True)
    kept.path.with_suffix(".json").unlink(missing_ok=True)


def sweep(settings: Settings, tenant_id: str, now: float | None = None) -> int:
    """Remove the tenant's kept files older than a day; returns how many files went."""
    here = folder(settings, tenant_id)
    if not here.is_dir():
        return 0
    cutoff = (now if now is not None else time.time()) - KEEP_SECONDS
    removed = 0
    for path in here.iterdir():
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except OSError:
            continue
    return removed
