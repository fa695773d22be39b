"""Heartbeats and the reaper: jobs of a worker that died are resumed on a live one.

Open-source DBOS recovers a worker's pending workflows only when a process with the same
executor id starts again. On many machines a worker may never come back, so every worker
writes a heartbeat row (``job_executors``: its host, process id and concurrency too), and one
worker at a time, the *reaper*, looks for workers silent longer than ``worker_dead_after`` and
resumes their pending workflows on the queue (they continue from their last finished step;
``docs/architecture.md``, "Rules the layers rest on").

Who reaps: on PostgreSQL the holder of a session-level advisory lock, taken on a connection
the reaper keeps open (when its process dies, PostgreSQL ends the session and frees the lock,
and another worker takes it at its next heartbeat); on SQLite the one process there is.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy import Connection, Engine, delete, select, text, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from clientdock.db import Database, advisory_lock_key, is_sqlite, unpooled_engine, utcnow
from clientdock.jobs.models import JobExecutor, workflow_status

log = structlog.get_logger(__name__)

#: The advisory lock whose holder reaps (PostgreSQL).
REAPER_LOCK = advisory_lock_key("clientdock.reaper")
#: The reaper sweeps the shared storage at its first tick and every this many after.
SWEEP_EVERY = 30
#: The heartbeat of a worker that stopped with jobs pending: long silent, so they are resumed at once.
STOPPED = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Executor:
    """What a worker says of itself in its heartbeat row."""

    executor_id: str
    hostname: str
    pid: int
    concurrency: int


def announce(session: Session, me: Executor) -> None:
    """A worker starts: its row, with a fresh start time (a restarted worker reuses its id's row)."""
    now = utcnow()
    row = session.get(JobExecutor, me.executor_id)
    if row is None:
        row = JobExecutor(executor_id=me.executor_id)
        session.add(row)
    row.started_at = row.heartbeat_at = now
    row.hostname, row.pid, row.concurrency = me.hostname, me.pid, me.concurrency


def beat(session: Session, me: Executor) -> None:
    row = session.get(JobExecutor, me.executor_id)
    if row is None:  # a reaper took this worker for dead (it was silent too long): it is back
        announce(session, me)
    else:
        row.heartbeat_at = utcnow()


def dead_executors(session: Session, me: str, dead_after: float) -> list[str]:
    cutoff = utcnow() - timedelta(seconds=dead_after)
    query = select(JobExecutor.executor_id).where(JobExecutor.heartbeat_at < cutoff, JobExecutor.executor_id != me)
    return list(session.scalars(query))


def pending_workflows(session: Session, executors: list[str]) -> list[str]:
    """The workflows DBOS has started on ``executors`` and not finished."""
    status = workflow_status(session.get_bind().dialect.name)
    query = select(status.c.workflow_uuid).where(status.c.status == "PENDING", status.c.executor_id.in_(executors))
    return list(session.scalars(query.order_by(status.c.workflow_uuid)))


class Election:
    """Is this process the reaper? On PostgreSQL: does it hold :data:`REAPER_LOCK`.

    The lock is a session-level advisory lock on a connection of our own (no pool: closing it
    ends the session, which frees the lock). The holder checks each time that its connection
    still works; one that broke is dropped, and the lock is tried for again at the next call.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine: Engine | None = None
        self._conn: Connection | None = None
        self.leading = False

    def check(self) -> bool:
        if is_sqlite(self.url):
            self.leading = True
            return True
        try:
            if self._conn is None:
                self._engine = self._engine or unpooled_engine(self.url)
                self._conn = self._engine.connect()
            if self.leading:
                self._conn.execute(text("SELECT 1"))
            else:
                self.leading = bool(self._conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": REAPER_LOCK}).scalar())
                if self.leading:
                    log.info("reaper_elected")
        except SQLAlchemyError:
            log.warning("reaper_lock_connection_lost", leading=self.leading, exc_info=True)
            self._drop()
        return self.leading

    def _drop(self) -> None:
        self.leading = False
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.invalidate()
                conn.close()
            except SQLAlchemyError:
                pass

    def release(self) -> None:
        """Give the lock up (close its connection): another worker takes it at its next heartbeat."""
        self._drop()
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


class Reaper:
    """A daemon thread: heartbeat every ``interval`` seconds; when elected, resume dead workers' work."""

    def __init__(
        self,
        db: Database,
        me: Executor,
        interval: float,
        dead_after: float,
        resume: Callable[[str], object],
        *,
        sweep: Callable[[], object] | None = None,
    ) -> None:
        """``sweep``: housekeeping the reaper does every :data:`SWEEP_EVERY` ticks (removing
        what jobs that ended or were deleted left in the shared storage)."""
        self.db, self.me, self.interval, self.dead_after, self.resume = db, me, interval, dead_after, resume
        self.sweep = sweep
        self._ticks = 0
        self.election = Election(db.url)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def executor_id(self) -> str:
        return self.me.executor_id

    def announce(self) -> None:
        with self.db.session() as session:
            announce(session, self.me)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="clientdock-reaper", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop beating and give up the reaper's lock (the heartbeat row stays: see :meth:`retire`)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.election.release()

    def retire(self) -> bool:
        """Once this worker's jobs have stopped: remove its heartbeat row, unless it still has
        pending workflows. Those keep the row, dated as silent since long ago, so that the
        reaper resumes them on another worker at its next tick instead of after ``dead_after``
        (or this worker, started again with its id first, recovers them itself)."""
        try:
            with self.db.session() as session:
                pending = pending_workflows(session, [self.executor_id])
                if pending:
                    session.execute(update(JobExecutor).where(JobExecutor.executor_id == self.executor_id).values(heartbeat_at=STOPPED))
                else:
                    session.execute(delete(JobExecutor).where(JobExecutor.executor_id == self.executor_id))
        except SQLAlchemyError:
            log.warning("worker_retire_failed", executor_id=self.executor_id, exc_info=True)
            return False
        if pending:
            log.warning("worker_stopped_with_pending_jobs", executor_id=self.executor_id, workflows=pending)
        return not pending

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:
                log.exception("reaper_tick_failed")
            self._stop.wait(self.interval)

    def tick(self) -> list[str]:
        """Heartbeat; if this worker is the reaper, resume the dead workers' pending workflows."""
        with self.db.session() as session:
            beat(session, self.me)
        if not self.election.check():
            return []
        with self.db.session() as session:
            dead = dead_executors(session, self.executor_id, self.dead_after)
            orphans = pending_workflows(session, dead) if dead else []
        for workflow_id in orphans:
            log.warning("resuming_orphaned_workflow", workflow_id=workflow_id, dead_executors=dead)
            self.resume(workflow_id)
        if dead:
            with self.db.session() as session:
                session.execute(delete(JobExecutor).where(JobExecutor.executor_id.in_(dead)))
        if self.sweep is not None and self._ticks % SWEEP_EVERY == 0:
            self.sweep()
        self._ticks += 1
        return orphans
