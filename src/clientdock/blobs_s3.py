"""S3-compatible storage of uploads and staged records (``CLIENTDOCK_UPLOAD_STORAGE=s3://bucket/prefix``).

Every key is the object ``<prefix>/<key>`` of the bucket; this process's data folder only caches
copies (:meth:`S3Store.local_copy`). Files go up and come down in parts (boto3's managed
transfers), never whole in memory. Credentials and region come from boto3's default chain
(``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` / ``AWS_DEFAULT_REGION``, the shared config
files, an instance role ...); ``CLIENTDOCK_S3_ENDPOINT_URL`` names a server that is not AWS
(MinIO, Ceph ...), addressed path-style.

An object store cannot join the database's transaction: a file kept in a transaction that then
rolls back is deleted again (:func:`clientdock.db.after_rollback`), and whatever a crash leaves
behind is swept like the other stores' leftovers (:meth:`S3Store.keys_older_than`).
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import structlog
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
from sqlalchemy.orm import Session

from clientdock.blobs import BlobMissing, BlobStore, _safe, remove_local
from clientdock.db import after_rollback, utcnow
from clientdock.settings import ConfigurationError

log = structlog.get_logger(__name__)

#: Size of each part of a multipart upload or ranged download (S3's minimum part is 5 MiB);
#: a file no larger goes in one request. At most ``_TRANSFER_THREADS`` parts are in memory.
TRANSFER_PART_BYTES = 8 * 1024 * 1024
_TRANSFER_THREADS = 4
#: DeleteObjects takes at most 1000 keys per request.
DELETE_BATCH = 1000
_MISSING = frozenset({"404", "NoSuchKey", "NotFound"})
_BUCKET = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_SETTING = "CLIENTDOCK_UPLOAD_STORAGE"


def parse_url(url: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` -> ``("bucket", "some/prefix")``; the prefix may be empty."""
    parts = urlsplit(url.strip())
    bucket, prefix = parts.netloc, parts.path.strip("/")
    if parts.scheme != "s3" or not bucket or parts.query or parts.fragment:
        raise ConfigurationError(f"{_SETTING} must be s3://bucket/prefix with a bucket name, not {url!r}")
    if not _BUCKET.fullmatch(bucket):
        raise ConfigurationError(f"{_SETTING}: {bucket!r} is not an S3 bucket name (letters, digits, dots and hyphens)")
    return bucket, prefix


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


class S3Store:
    """Keys are objects of an S3 bucket under a prefix; the folder is this process's cache."""

    def __init__(self, root: Path, url: str, endpoint_url: str | None, *, part_bytes: int = TRANSFER_PART_BYTES) -> None:
        self.kind = url
        self.root = root
        self.bucket, prefix = parse_url(url)
        self.prefix = f"{prefix}/" if prefix else ""
        self.endpoint_url = endpoint_url or None
        config = Config(
            # A server that is not AWS seldom resolves bucket.host names: name the bucket in the path.
            s3={"addressing_style": "path"} if self.endpoint_url else {},
            connect_timeout=10,
            read_timeout=60,
            retries={"mode": "standard", "max_attempts": 5},
        )
        # A session of its own: boto3's default session is not safe to share between threads.
        self.client: Any = boto3.session.Session().client("s3", endpoint_url=self.endpoint_url, config=config)
        self.transfer = TransferConfig(
            multipart_threshold=part_bytes, multipart_chunksize=part_bytes, max_concurrency=_TRANSFER_THREADS, use_threads=True
        )
        self._check_bucket()

    def _check_bucket(self) -> None:
        """Fail at start, naming the bucket and why, rather than at the first upload."""
        where = f" at {self.endpoint_url}" if self.endpoint_url else ""
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except NoCredentialsError:
            reason = "no credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or another source boto3 reads)"
        except ClientError as exc:
            code = _code(exc)
            if code in ("404", "NoSuchBucket", "NotFound"):
                reason = "the bucket does not exist"
            elif code in ("403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
                reason = "access refused: check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY and the bucket's policy"
            else:
                reason = f"the server answered {code or exc}"
        except BotoCoreError as exc:
            reason = f"the store cannot be reached ({exc})"
        else:
            return
        raise ConfigurationError(f"{_SETTING}: cannot use the S3 bucket {self.bucket!r}{where}: {reason}")

    @property
    def shared(self) -> bool:
        return True

    def path(self, key: str) -> Path:
        return _safe(self.root, key)

    def object_key(self, key: str) -> str:
        """The object that holds ``key`` (``<prefix>/<key>``); refuses a key that leaves its folder."""
        self.path(key)
        return self.prefix + key

    def _undo_on_rollback(self, session: Session | None, key: str) -> None:
        if session is not None:
            after_rollback(session, lambda: self._forget_object(key))

    def _forget_object(self, key: str) -> None:
        """Delete one object after a rollback: never raises (the rollback's own error matters more,
        and a leftover is swept later)."""
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self.object_key(key))
        except (BotoCoreError, ClientError) as exc:
            log.warning("blob_undo_failed", key=key, storage=self.kind, error=str(exc))

    def _upload(self, source: Path, key: str) -> None:
        self.client.upload_file(str(source), self.bucket, self.object_key(key), Config=self.transfer)

    def take(self, session: Session, key: str, source: Path) -> None:
        self._upload(source, key)
        source.unlink(missing_ok=True)
        self._undo_on_rollback(session, key)

    def share(self, session: Session | None, key: str) -> None:
        self._upload(self.path(key), key)
        self._undo_on_rollback(session, key)

    def put_bytes(self, session: Session | None, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self.object_key(key), Body=data)
        self._undo_on_rollback(session, key)

    def get_bytes(self, key: str) -> bytes | None:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self.object_key(key))
        except ClientError as exc:
            if _code(exc) in _MISSING:
                return None
            raise
        data: bytes = response["Body"].read()
        return data

    def local_copy(self, key: str) -> Path:
        path = self.path(key)
        if path.is_file():
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
        try:
            self.client.download_file(self.bucket, self.object_key(key), str(partial), Config=self.transfer)
            os.replace(partial, path)
        except ClientError as exc:
            if _code(exc) in _MISSING:
                raise BlobMissing(key) from None
            raise
        finally:
            partial.unlink(missing_ok=True)
        log.info("blob_fetched", key=key, storage=self.kind, bytes=path.stat().st_size)
        return path

    def _objects(self, prefix: str) -> Iterator[list[dict[str, Any]]]:
        """The objects under ``prefix`` (a key prefix), a page (at most 1000) at a time."""
        if prefix.strip("/"):
            self.path(prefix.rstrip("/"))
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix + prefix, PaginationConfig={"PageSize": DELETE_BATCH}
        )
        for page in pages:
            contents: list[dict[str, Any]] = page.get("Contents", [])
            if contents:
                yield contents

    def delete(self, prefix: str) -> None:
        for page in self._objects(prefix):
            for start in range(0, len(page), DELETE_BATCH):
                batch = [{"Key": item["Key"]} for item in page[start : start + DELETE_BATCH]]
                response = self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})
                errors = response.get("Errors") or []
                if errors:
                    first = errors[0]
                    raise RuntimeError(
                        f"the S3 bucket {self.bucket!r} kept {len(errors)} object(s) under {prefix!r}: "
                        f"{first.get('Key')}: {first.get('Code')} {first.get('Message')}"
                    )
        if prefix.strip("/"):
            remove_local(self.root, prefix)

    def keys_older_than(self, prefix: str, age: timedelta) -> list[str]:
        cutoff = utcnow() - age
        start = len(self.prefix)
        return sorted(item["Key"][start:] for page in self._objects(prefix) for item in page if item["LastModified"] < cutoff)


def _check(store: S3Store) -> BlobStore:
    return store
