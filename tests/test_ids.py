"""Ids are random version-4 UUIDs as 32 hex digits, never repeated."""

from __future__ import annotations

import uuid

from clientdock.db import new_id


def test_new_ids_are_version_4_uuids_in_hex() -> None:
    ids = [new_id() for _ in range(10_000)]
    assert len(set(ids)) == len(ids)
    for value in ids[:1000]:
        parsed = uuid.UUID(value)
        assert (parsed.version, parsed.variant, parsed.hex) == (4, uuid.RFC_4122, value)
