"""The next chunk prepared ahead (in a helper process or a thread) is exactly what the step
would prepare itself; a stale or lost prefetch is ignored and the step prepares its own."""

from __future__ import annotations

import os
import signal
from concurrent.futures import Future
from dataclasses import replace
from pathlib import Path

import pytest

from clientdock.imports.files import CSV_POLICY
from clientdock.jobs import prefetch, staging
from clientdock.jobs.prefetch import Chunk, Prefetcher, read
from clientdock.pipeline.records import RawRecord
from clientdock.tenants.context import DEFAULT_SETTINGS, TenantContext

CTX = TenantContext("tenant", "acme", dict(DEFAULT_SETTINGS), "group")


def staged(tmp_path: Path) -> list[int]:
    records = [
        RawRecord(index=i, fields={"firstName": f"Zoë {i}", "email": f"c{i}@firm.co.uk", "phone": "020 7946 0000" if i % 2 else "call me"})
        for i in range(50)
    ]
    records.append(RawRecord(index=50, fields={"firstName": "Bad", "email": "not-an-email"}))
    _total, offsets = staging.write(tmp_path, "job", records, 20)
    return offsets


@pytest.mark.parametrize("processes", [1, 0])
def test_a_prefetched_chunk_is_what_the_step_would_prepare(tmp_path: Path, processes: int) -> None:
    offsets = staged(tmp_path)
    prefetcher = Prefetcher()
    prefetcher.start(tmp_path, "job", 1, offsets[1], 20, CTX, CSV_POLICY, processes=processes)
    ahead = prefetcher.take("job", 1, CTX)
    assert ahead is not None
    own = read(tmp_path, "job", 1, offsets[1], 20, CTX, CSV_POLICY)
    assert (ahead.records, ahead.candidates, ahead.end) == (own.records, own.candidates, offsets[2])
    assert [c.index for c in ahead.candidates] == list(range(20, 40))


def test_a_prefetch_for_another_chunk_or_context_is_not_used(tmp_path: Path) -> None:
    offsets = staged(tmp_path)
    prefetcher = Prefetcher()
    prefetcher.start(tmp_path, "job", 1, offsets[1], 20, CTX, CSV_POLICY, processes=0)
    assert prefetcher.take("job", 2, CTX) is None
    prefetcher.start(tmp_path, "job", 1, offsets[1], 20, CTX, CSV_POLICY, processes=0)
    changed = replace(CTX, settings={**CTX.settings, "defaultRegion": "NL"})
    assert prefetcher.take("job", 1, changed) is None
    assert prefetcher.take("job", 1, CTX) is None, "taken once"


def test_a_failed_read_is_left_to_the_step(tmp_path: Path) -> None:
    prefetcher = Prefetcher()
    prefetcher.start(tmp_path, "missing-job", 1, 0, 20, CTX, CSV_POLICY, processes=0)
    assert prefetcher.take("missing-job", 1, CTX) is None


def test_a_lost_helper_process_is_replaced(tmp_path: Path) -> None:
    offsets = staged(tmp_path)
    prefetcher = Prefetcher()
    prefetcher.start(tmp_path, "job", 0, offsets[0], 20, CTX, CSV_POLICY, processes=1)
    assert prefetcher.take("job", 0, CTX) is not None
    pool = prefetcher._executor
    assert pool is not None
    for pid in list(pool._processes):  # type: ignore[attr-defined]
        os.kill(pid, signal.SIGKILL)
    prefetcher.start(tmp_path, "job", 1, offsets[1], 20, CTX, CSV_POLICY, processes=1)
    assert prefetcher.take("job", 1, CTX) is None
    prefetcher.start(tmp_path, "job", 2, offsets[2], 20, CTX, CSV_POLICY, processes=1)
    again = prefetcher.take("job", 2, CTX)
    assert again is not None
    assert [c.index for c in again.candidates] == list(range(40, 51))
    prefetcher.drop("job")


def test_a_helper_that_does_not_answer_is_not_waited_for(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prefetch, "TAKE_TIMEOUT_SECONDS", 0.05)
    prefetcher = Prefetcher()
    never: Future[Chunk] = Future()
    prefetcher._pending["job"] = (3, never)
    assert prefetcher.take("job", 3, CTX) is None
    assert never.cancelled()
