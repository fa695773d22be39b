"""Our small facade over DBOS Transact: start, enqueue in a transaction, cancel, resume.

This package is the only code that imports DBOS, and it never imports a door: a door whose
input the worker reads (a file) registers a *stager* for its door name, and whoever wants to
know when a job ends (notifications) registers a *finish hook*, both on the engine the
wiring builds (``clientdock.app.job_engine``). The engine runs in-process on the app's own
database (the SQLite file, or PostgreSQL with DBOS's tables in the ``dbos`` schema), so the
job row and the workflow are enqueued in one transaction (``docs/architecture.md``).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from typing import Any

import structlog
from dbos import DBOS, DBOSClient, DBOSConfig, Queue
from dbos._dbos import _get_dbos_instance
from sqlalchemy.orm import Session

from clientdock.blobs import BlobStore, store_for
from clientdock.db import Database, as_login_role
from clientdock.jobs import staging, workflow
from clientdock.jobs.models import ImportJob
from clientdock.jobs.prefetch import prefetcher
from clientdock.jobs.reaper import Executor, Reaper
from clientdock.jobs.workflow import FinishHook, Stager
from clientdock.settings import Settings

log = structlog.get_logger(__name__)

IMPORT_QUEUE = "imports"
#: How often an idle worker looks for queued jobs: the delay before a new import starts.
QUEUE_POLL_SECONDS = 0.1
IMPORT_WORKFLOW = "clientdock.import"
_lock = threading.Lock()


def keep_own_worker_concurrency(queue_name: str, concurrency: int) -> None:
    """Make ``concurrency`` this process's own limit of running jobs of ``queue_name``.

    DBOS 3.4 keeps a queue's worker concurrency in its database, one value for every worker,
    which each worker's poll reloads: the last worker to start would set it for all. A worker's
    ``--concurrency`` is its own (a big machine takes more), so this process's reloads of the
    queue keep its value. DBOS is pinned to 3.4; ``tests/jobs/test_worker_concurrency.py``
    fails if this stops holding.
    """
    sys_db = _get_dbos_instance()._sys_db
    load = sys_db.get_queue

    def get_queue(name: str, **options: Any) -> Queue | None:
        queue = load(name, **options)
        if queue is not None and name == queue_name:
            queue._worker_concurrency = concurrency
        return queue

    sys_db.get_queue = get_queue  # type: ignore[method-assign]


class JobEngine:
    """One per process. ``start`` launches DBOS's queue workers and recovers pending jobs."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db
        #: Where uploads and staged records are kept for every worker (CLIENTDOCK_UPLOAD_STORAGE).
        self.blobs: BlobStore = store_for(settings, db)
        self.url = db.engine.url.render_as_string(hide_password=False)
        self._client: DBOSClient | None = None
        self.launched = False
        self.reaper: Reaper | None = None
        self.stagers: dict[str, Stager] = {}
        self.finish_hooks: list[FinishHook] = []

    def register_stager(self, door: str, stager: Stager) -> None:
        """The worker turns a job of ``door`` into records with ``stager`` (e.g. parses its file)."""
        self.stagers[door] = stager

    def on_finish(self, hook: FinishHook) -> None:
        """``hook`` runs in the transaction that ends every job (so exactly once per job)."""
        self.finish_hooks.append(hook)

    def stager(self, door: str) -> Stager:
        return self.stagers[door]

    def finish(self, session: Session, job: ImportJob) -> None:
        """A job has just reached its final status in ``session``'s transaction: run the hooks."""
        for hook in self.finish_hooks:
            hook(session, job)
        log.info(
            "import_finished", job_id=job.id, door=job.door, status=job.status, created=job.created, updated=job.updated, failed=job.failed
        )

    def _config(self) -> DBOSConfig:
        return {
            "name": "clientdock",
            "system_database_url": self.url,
            "application_version": self.settings.app_version,
            "executor_id": self.settings.executor_id,
            "log_level": "WARNING",
            "run_admin_server": False,
            "sys_db_pool_size": 10,
        }  # type: ignore[typeddict-unknown-key]

    def migrate(self) -> None:
        """Create or update DBOS's own tables, as launching DBOS does: a process that only
        enqueues (``serve --no-workers``, ``clientdock migrate``) may be the first to meet a new
        database. On PostgreSQL DBOS serialises this between processes with a lock of its own."""
        DBOS.migrate(self.url)

    def executor(self) -> Executor:
        """This process as its heartbeat row describes it."""
        return Executor(self.settings.executor_id, socket.gethostname(), os.getpid(), self.settings.worker_concurrency)

    def start(self, *, workers: bool = True) -> None:
        """Launch DBOS in this process (replacing any earlier instance, as tests need). With
        ``workers``, the heartbeat row is written first, so that any job this process takes
        has its worker's row, and the reaper's thread runs until :meth:`stop`."""
        if workers:
            if self.blobs.shared:
                staging.sweep_scratch(self.settings.data_dir, self.db)
            self.reaper = Reaper(
                self.db,
                self.executor(),
                self.settings.heartbeat_seconds,
                self.settings.worker_dead_after,
                self.resume,
                sweep=lambda: staging.sweep_kept(self.blobs, self.db),
            )
            self.reaper.announce()
        with _lock:
            workflow.bind(self)
            DBOS.destroy(destroy_registry=False)
            DBOS(config=self._config())
            DBOS.launch()
            DBOS.register_queue(
                IMPORT_QUEUE,
                worker_concurrency=self.settings.worker_concurrency if workers else 0,
                partition_concurrency=self.settings.tenant_concurrency,
                polling_interval_sec=QUEUE_POLL_SECONDS,
                on_conflict="always_update",
            )
            if workers:
                keep_own_worker_concurrency(IMPORT_QUEUE, self.settings.worker_concurrency)
            self.launched = True
        if self.reaper is not None:
            self.reaper.start()
        log.info("jobs_started", executor=self.settings.executor_id, version=self.settings.app_version)

    def warm_up(self) -> None:
        """Start what a long-running service will need for its first import (the helper process
        that prepares chunks ahead); a one-shot command does without."""
        prefetcher.warm(self.settings.prepare_processes)

    def stop(self) -> None:
        """Stop taking and running jobs. The heartbeat row goes last, once DBOS has stopped, and
        only if no job of this worker is left pending (see :meth:`Reaper.retire`)."""
        reaper, self.reaper = self.reaper, None
        if reaper is not None:
            reaper.stop()
        with _lock:
            if self.launched:
                DBOS.destroy(destroy_registry=False)
                self.launched = False
        if reaper is not None:
            reaper.retire()
        if self._client is not None:
            self._client.destroy()
            self._client = None

    @property
    def client(self) -> DBOSClient:
        if self._client is None:
            self._client = DBOSClient(system_database_url=self.url)
        return self._client

    def enqueue_in_transaction(self, session: Session, job_id: str, partition_key: str) -> str:
        """Enqueue the import workflow in the caller's transaction; it runs only if that commits."""
        # DBOS breaks ties of its (second-granular on SQLite) created_at by workflow id, so the
        # id starts with a nanosecond timestamp: a tenant's imports run in submission order.
        workflow_id = f"import-{time.time_ns():020d}-{job_id}"
        with as_login_role(session):  # the queue is DBOS's table, not the tenant's
            self._enqueue(session, workflow_id, job_id, partition_key)
        return workflow_id

    def _enqueue(self, session: Session, workflow_id: str, job_id: str, partition_key: str) -> None:
        self.client.enqueue_in_transaction(
            session,
            {
                "workflow_name": IMPORT_WORKFLOW,
                "queue_name": IMPORT_QUEUE,
                "workflow_id": workflow_id,
                "queue_partition_key": partition_key,
                "app_version": self.settings.app_version,
            },
            job_id,
        )

    def cancel(self, workflow_id: str) -> None:
        self.client.cancel_workflow(workflow_id)

    def resume(self, workflow_id: str) -> Any:
        return self.client.resume_workflow(workflow_id, queue_name=IMPORT_QUEUE)
