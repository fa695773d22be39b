"""Read and prepare a job's next chunk on the other core while the current one is written.

Preparing a chunk (reading it from the staging file, then ``pipeline.run.prepare``: normalise
and validate, no database) is about half of an import's work in Python; writing it is the rest.
While chunk n is written, chunk n+1 is prepared in a helper process (``CLIENTDOCK_PREPARE_PROCESSES``,
default 1; 0 prepares in a thread of this process, which only overlaps the database's waits).
The next step takes the result if it is for the same chunk and the same tenant context, and
otherwise prepares its chunk itself, so a prefetch never changes what a chunk does, only where
and when its preparation ran. At most one prepared chunk per job waits in memory.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from concurrent.futures import BrokenExecutor, Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import structlog

from clientdock import heap
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


#: How long a step waits for the chunk prepared ahead before preparing it itself (a prepared
#: chunk takes well under a second; a helper that does not answer must not stall the import).
TAKE_TIMEOUT_SECONDS = 30.0


def _watch_parent() -> None:
    """In a helper process: exit when the service that started it is gone (killed with SIGKILL,
    it cannot stop its helpers), instead of lingering as an orphan."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, name="clientdock-parent-watch", daemon=True).start()
    heap.settle()


def ready() -> bool:
    """Run in a new helper process to have it load this module (and the pipeline) before it is needed."""
    return True


class Prefetcher:
    """One helper process (or thread) per process; one pending chunk per job."""

    def __init__(self) -> None:
        self._executor: Executor | None = None
        self._processes = -1
        self._pending: dict[str, tuple[int, Future[Chunk]]] = {}
        self._lock = threading.Lock()

    def _pool(self, processes: int) -> Executor:
        with self._lock:
            if self._executor is None or self._processes != processes:
                if self._executor is not None:
                    self._executor.shutdown(wait=False, cancel_futures=True)
                # spawn, not fork: this process runs threads (DBOS, the server) whose locks a fork would copy held.
                self._executor = (
                    ProcessPoolExecutor(max_workers=processes, mp_context=multiprocessing.get_context("spawn"), initializer=_watch_parent)
                    if processes > 0
                    else ThreadPoolExecutor(max_workers=1, thread_name_prefix="clientdock-prefetch")
                )
                self._processes = processes
            return self._executor

    def warm(self, processes: int) -> None:
        """Start the helper process now (it takes a second to load), so the first import does not wait for it."""
        if processes > 0:
            self._pool(processes).submit(ready)

    def start(
        self, data_dir: Path, job_id: str, index: int, offset: int, size: int, ctx: TenantContext, policy: Policy, *, processes: int
    ) -> None:
        try:
            future = self._pool(processes).submit(read, data_dir, job_id, index, offset, size, ctx, policy)
        except RuntimeError:
            # A helper process died (the pool is broken) or the pool is shutting down: the next
            # step prepares its chunk itself, and the next prefetch starts a new pool.
            log.warning("prefetch_unavailable", job_id=job_id, index=index, exc_info=True)
            self._reset()
            return
        with self._lock:
            self._pending[job_id] = (index, future)

    def take(self, job_id: str, index: int, ctx: TenantContext) -> Chunk | None:
        """The prepared chunk ``index`` of the job, if one was started under the same context."""
        with self._lock:
            pending = self._pending.pop(job_id, None)
        if pending is None or pending[0] != index:
            return None
        try:
            chunk = pending[1].result(timeout=TAKE_TIMEOUT_SECONDS)
        except TimeoutError:
            log.warning("prefetch_too_slow", job_id=job_id, index=index)
            pending[1].cancel()
            self._reset()
            return None
        except BrokenExecutor:
            log.warning("prefetch_process_lost", job_id=job_id, index=index, exc_info=True)
            self._reset()
            return None
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

    def shutdown(self) -> None:
        """Stop the helper process (a worker that is stopping); the next prefetch would start another."""
        self._reset()

    def _reset(self) -> None:
        with self._lock:
            if self._executor is not None:
                self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None


prefetcher = Prefetcher()
