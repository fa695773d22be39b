"""Remembered mappings: the columns a tenant picked the last time it imported a file with the
same header set, so the next export of the same tool is mapped the same way.

A header set is known by :func:`headers_key`, a hash of its normalised headers (order,
case, accents and punctuation do not matter: "E-mail" and "email" are one header). Only the
web import dialog reads and writes them: the API's file door maps a file by its ``mapping``
and the automatic matching alone, so that a call's result depends only on what it sends.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from sqlalchemy.orm import Session

from clientdock.db import utcnow
from clientdock.jobs.models import FileMapping
from clientdock.pipeline.headers import normalize_header


def headers_key(header: list[str]) -> str:
    """The hash (64 hex digits) of a header's set of normalised headers."""
    names = sorted({normalize_header(text) for text in header})
    return hashlib.sha256("\x1f".join(names).encode()).hexdigest()


def remember(session: Session, tenant_id: str, header: list[str], mapping: Mapping[str, str]) -> None:
    """Keep ``mapping`` (header -> field, "" = not imported) as the tenant's for this header set."""
    key = headers_key(header)
    found = session.get(FileMapping, (tenant_id, key))
    if found is None:
        session.add(FileMapping(tenant_id=tenant_id, headers_key=key, headers=list(header), mapping=dict(mapping)))
        return
    found.headers = list(header)
    found.mapping = dict(mapping)
    found.updated_at = utcnow()


def recall(session: Session, tenant_id: str, header: list[str]) -> dict[str, str] | None:
    """The mapping remembered for this header set, keyed by ``header``'s own texts; None when
    there is none (or it no longer fits: a field name that is not a string)."""
    found = session.get(FileMapping, (tenant_id, headers_key(header)))  # the key names the tenant: its own rows only
    if found is None:
        return None
    by_key = {normalize_header(text): value for text, value in found.mapping.items() if isinstance(value, str)}
    out: dict[str, str] = {}
    for text in header:
        value = by_key.get(normalize_header(text))
        if value is not None and text not in out:
            out[text] = value
    return out or None
