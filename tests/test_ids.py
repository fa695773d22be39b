"""Ids are random version-4 UUIDs as 32 hex digits, never repeated."""

from __future__ import annotations

import os
import uuid
from concurrent.futures import ThreadPoolExecutor

from clientdock.db import new_id, new_ids


def test_new_ids_are_version_4_uuids_in_hex() -> None:
    ids = [new_id() for _ in range(10_000)]
    assert len(set(ids)) == len(ids)
    for value in ids[:1000]:
        parsed = uuid.UUID(value)
        assert (parsed.version, parsed.variant, parsed.hex) == (4, uuid.RFC_4122, value)


def test_a_batch_of_ids_is_version_4_uuids_in_hex() -> None:
    ids = new_ids(2_000)
    assert len(ids) == len(set(ids)) == 2_000
    for value in ids:
        parsed = uuid.UUID(value)
        assert (parsed.version, parsed.variant, parsed.hex) == (4, uuid.RFC_4122, value)


def test_threads_never_share_an_id() -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        batches = list(pool.map(lambda _: [new_id() for _ in range(3_000)], range(8)))
    every = [value for batch in batches for value in batch]
    assert len(set(every)) == len(every)


def test_a_forked_child_does_not_repeat_its_parents_ids() -> None:
    new_id()  # the parent now holds a stock of ready ids
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: send its next ids and leave at once
        os.write(write, "".join(new_id() for _ in range(10)).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        text = pipe.read()
    os.waitpid(pid, 0)
    child = {text[i : i + 32] for i in range(0, len(text), 32)}
    parent = {new_id() for _ in range(10)}
    assert len(child) == 10
    assert not child & parent
