"""S3-compatible storage of uploads and staged records (``CLIENTDOCK_UPLOAD_STORAGE=s3://…``)."""

from __future__ import annotations

from pathlib import Path

from clientdock.blobs import BlobStore


class S3Store:
    """Not built yet."""

    def __init__(self, root: Path, url: str, endpoint_url: str | None) -> None:
        raise ValueError("S3 storage is not available in this build")


def _check(store: S3Store) -> BlobStore:
    return store  # type: ignore[return-value]
