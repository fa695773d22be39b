"""Read and prepare a job's next chunk while the current one is being written.

A chunk step spends much of its time waiting on the database (COPY, the merge, the commit);
meanwhile one background thread reads the next chunk from the staging file and normalises and
validates it (``pipeline.run.prepare``: no database work). The next step takes the result if
it is for the same chunk and the same tenant context, and otherwise prepares its chunk itself,
so a prefetch never changes what a chunk does, only when its preparation ran. At most one
chunk per job waits in memory.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import structlog

from clientdock.jobs import staging
from clientdock.pipeline.records import Candidate, Policy, RawRecord
from clientdock.pipeline.run import prepare
from clientdock.tenants.context import TenantContext

log = structlog.get_logger(__name__)


@dataclass
class Chunk:
    """A chunk read from the staging file and prepared under ``ctx``."""

    index: int
    records: list[RawRecord]
    candidates: list[Candidate]
    ctx: TenantContext
    #: Byte offset of the next chunk in the staging file.
    end: int


def read(data_dir: Path, job_id: str, index: int, offset: int, size: int, ctx: TenantContext, policy: Policy) -> Chunk:
    records, end = staging.read_chunk_ending(data_dir, job_id, offset, size)
    return Chunk(index, records, prepare(records, ctx, policy), ctx, end)


class Prefetcher:
    """One background thread per process; one pending chunk per job."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="clientdock-prefetch")
        self._pending: dict[str, tuple[int, Future[Chunk]]] = {}
        self._lock = threading.Lock()

    def start(self, data_dir: Path, job_id: str, index: int, offset: int, size: int, ctx: TenantContext, policy: Policy) -> None:
        future = self._pool.submit(read, data_dir, job_id, index, offset, size, ctx, policy)
        with self._lock:
            self._pending[job_id] = (index, future)

    def take(self, job_id: str, index: int, ctx: TenantContext) -> Chunk | None:
        """The prepared chunk ``index`` of the job, if one was started under the same context."""
        with self._lock:
            pending = self._pending.pop(job_id, None)
        if pending is None or pending[0] != index:
            return None
        try:
            chunk = pending[1].result()
        except Exception:
            # The step reads the chunk itself and meets the same problem where it is reported.
            log.warning("prefetch_failed", job_id=job_id, index=index, exc_info=True)
            return None
        return chunk if chunk.ctx == ctx else None

    def drop(self, job_id: str) -> None:
        with self._lock:
            pending = self._pending.pop(job_id, None)
        if pending is not None:
            pending[1].cancel()


prefetcher = Prefetcher()
