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
from datetime import timedelta
from pathlib import Path

from clientdock.blobs import BlobMissing, BlobStore
from clientdock.errors import NotFound
from clientdock.imports import files
from clientdock.imports.upload import Received
from clientdock.settings import Settings

KEEP_SECONDS = 24 * 3600
SUFFIX = ".upload"
META = ".json"
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
    tenant_id: str = ""

    @property
    def name(self) -> str:
        return self.filename or "Untitled file"


def folder(settings: Settings, tenant_id: str) -> Path:
    return files.uploads_dir(settings) / "web" / tenant_id


def _key(tenant_id: str, token: str, suffix: str = SUFFIX) -> str:
    """The storage key of a kept file (``clientdock.blobs``): the path under the data folder."""
    return f"uploads/web/{tenant_id}/{token}{suffix}"


def _save_meta(store: BlobStore, tenant_id: str, token: str, meta: dict[str, object]) -> None:
    store.put_bytes(None, _key(tenant_id, token, META), json.dumps(meta).encode())


def keep(store: BlobStore, tenant_id: str, received: Received) -> KeptUpload:
    """Keep a received upload (``upload.receive`` wrote it into :func:`folder`) where every
    process of the deployment finds it: the dialog's next request may reach another one."""
    token = received.path.stem
    store.share(None, _key(tenant_id, token))
    _save_meta(store, tenant_id, token, {"filename": received.filename, "size": received.size})
    return KeptUpload(token, received.path, received.filename, received.size, tenant_id=tenant_id)


def find(store: BlobStore, tenant_id: str, token: str) -> KeptUpload:
    """The tenant's kept upload named by ``token``; :class:`UploadGone` when there is none."""
    if not _TOKEN.fullmatch(token):
        raise UploadGone()
    raw = store.get_bytes(_key(tenant_id, token, META))
    try:
        meta = json.loads(raw or b"")
        path = store.local_copy(_key(tenant_id, token))
    except (BlobMissing, ValueError) as exc:
        raise UploadGone() from exc
    fixes = meta.get("fixes") if isinstance(meta.get("fixes"), dict) else {}
    return KeptUpload(token, path, meta.get("filename"), int(meta.get("size") or 0), fixes, tenant_id)


def with_fixes(store: BlobStore, kept: KeptUpload, row: int, cells: Mapping[int, str]) -> KeptUpload:
    """The kept file with ``cells`` (column index -> value) of record ``row`` corrected, kept
    beside it for the next check and the import."""
    fixes = {key: dict(value) for key, value in kept.fixes.items()}
    fixes.setdefault(str(row), {}).update({str(column): value for column, value in cells.items()})
    _save_meta(store, kept.tenant_id, kept.token, {"filename": kept.filename, "size": kept.size, "fixes": fixes})
    return KeptUpload(kept.token, kept.path, kept.filename, kept.size, fixes, kept.tenant_id)


def copy_for_job(settings: Settings, kept: KeptUpload) -> Path:
    """A copy of the kept file for a job to take (a dry run)."""
    target = files.uploads_dir(settings) / f"{uuid.uuid4().hex}{SUFFIX}"
    shutil.copyfile(kept.path, target)
    return target


def forget(store: BlobStore, kept: KeptUpload) -> None:
    """Drop the kept file once the import has taken it (or given up on it)."""
    store.delete(_key(kept.tenant_id, kept.token))
    store.delete(_key(kept.tenant_id, kept.token, META))
    kept.path.unlink(missing_ok=True)


def sweep(store: BlobStore, settings: Settings, tenant_id: str, now: float | None = None) -> int:
    """Remove the tenant's kept files older than a day (here and in the deployment's storage);
    returns how many files went."""
    here = folder(settings, tenant_id)
    removed = 0
    cutoff = (now if now is not None else time.time()) - KEEP_SECONDS
    if here.is_dir():
        for path in here.iterdir():
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
            except OSError:
                continue
    if store.shared:
        age = timedelta(seconds=(time.time() - cutoff))
        for key in store.keys_older_than(f"uploads/web/{tenant_id}/", age):
            store.delete(key)
            removed += 1
    return removed
