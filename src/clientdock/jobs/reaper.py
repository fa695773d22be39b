"""Heartbeats and the reaper: jobs of a worker that died are resumed on a live one.

Open-source DBOS recovers a worker's pending workflows only when a process with the same
executor id starts again. On many machines a worker may never come back, so every engine
writes a heartbeat, and every engine looks for executors silent longer than
``executor_dead_after_seconds`` and resumes their pending workflows (which continue from
their last finished step; ``docs/architecture.md``, "Rules the layers rest on").
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import structlog
from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from clientdock.db import Database, utcnow
from clientdock.jobs.models import JobExecutor

log = structlog.get_logger(__name__)


def beat(session: Session, executor_id: str) -> None:
    row = session.get(JobExecutor, executor_id)
    if row is None:
        session.add(JobExecutor(executor_id=executor_id))
    else:
        row.heartbeat_at = utcnow()


def dead_executors(session: Session, me: str, dead_after: float) -> list[str]:
    cutoff = utcnow() - timedelta(seconds=dead_after)
    query = select(JobExecutor.executor_id).where(JobExecutor.heartbeat_at < cutoff, JobExecutor.executor_id != me)
    return list(session.scalars(query))


def pending_workflows(session: Session, executors: list[str]) -> list[str]:
    schema = "dbos." if session.get_bind().dialect.name == "postgresql" else ""
    rows = session.execute(
        text(f"SELECT workflow_uuid, executor_id FROM {schema}workflow_status WHERE status = 'PENDING'"),
    )
    return [wid for wid, executor in rows if executor in executors]


class Reaper:
    """A daemon thread: heartbeat every ``interval`` seconds, resume dead executors' work."""

    def __init__(self, db: Database, executor_id: str, interval: float, dead_after: float, resume: Callable[[str], object]) -> None:
        self.db, self.executor_id, self.interval, self.dead_after, self.resume = db, executor_id, interval, dead_after, resume
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="clientdock-reaper", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:
                log.exception("reaper_tick_failed")
            self._stop.wait(self.interval)

    def tick(self) -> list[str]:
        with self.db.session() as session:
            beat(session, self.executor_id)
        with self.db.session() as session:
            dead = dead_executors(session, self.executor_id, self.dead_after)
            orphans = pending_workflows(session, dead) if dead else []
        for workflow_id in orphans:
            log.warning("resuming_orphaned_workflow", workflow_id=workflow_id, dead_executors=dead)
            self.resume(workflow_id)
        if dead:
            with self.db.session() as session:
                session.execute(delete(JobExecutor).where(JobExecutor.executor_id.in_(dead)))
        return orphans
