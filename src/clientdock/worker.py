"""``clientdock worker``: runs jobs and webhook deliveries, serves no HTTP.

It migrates (serialised between processes on PostgreSQL), launches the job engine with every
door's stager and finish hook (``clientdock.app.job_engine``), its heartbeat and reaper, the
helper process that prepares chunks ahead, and the webhook :class:`DeliveryWorker`; then waits
for SIGTERM or SIGINT and stops them all. API processes (``clientdock serve --no-workers``)
only enqueue; any number of workers on any number of machines run what they enqueue.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
from collections.abc import Callable

import structlog

from clientdock import heap
from clientdock.app import job_engine
from clientdock.db import database_for
from clientdock.jobs.prefetch import prefetcher
from clientdock.logs import configure
from clientdock.migrate import upgrade
from clientdock.notify.dispatcher import DeliveryWorker
from clientdock.settings import Settings

log = structlog.get_logger(__name__)
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def default_executor_id(settings: Settings) -> str:
    """CLIENTDOCK_EXECUTOR_ID when it is set, else this host's name (stable across restarts, so a
    restarted worker recovers its own pending jobs at once)."""
    return settings.executor_id if "executor_id" in settings.model_fields_set else socket.gethostname()


def worker_settings(settings: Settings, executor_id: str | None = None, concurrency: int | None = None) -> Settings:
    """The settings a worker runs with: its executor id and concurrency, workers on."""
    return settings.model_copy(
        update={
            "executor_id": executor_id or default_executor_id(settings),
            "worker_concurrency": concurrency or settings.worker_concurrency,
            "start_workers": True,
        }
    )


def run_worker(settings: Settings, wait: Callable[[], None] | None = None) -> int:
    """Run until ``wait`` returns (by default: until SIGTERM or SIGINT); returns the exit code."""
    configure(settings.log_json)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = database_for(settings.resolved_database_url)
    upgrade(db.url)
    engine = job_engine(settings, db)
    deliveries = DeliveryWorker(db, settings)
    try:
        engine.start()
        engine.warm_up()
        deliveries.start()
        heap.settle()
        log.info(
            "worker_started",
            executor_id=settings.executor_id,
            concurrency=settings.worker_concurrency,
            database=db.engine.dialect.name,
            hostname=socket.gethostname(),
            pid=os.getpid(),
        )
        (wait or until_stop_signal)()
        log.info("worker_stopping", executor_id=settings.executor_id)
    finally:
        deliveries.stop()
        engine.stop()
        prefetcher.shutdown()
    log.info("worker_stopped", executor_id=settings.executor_id)
    return 0


def until_stop_signal() -> None:
    """Block until SIGTERM or SIGINT; a second one gets its default action (stop at once)."""
    stop = threading.Event()
    previous = {number: signal.getsignal(number) for number in STOP_SIGNALS}

    def on_signal(number: int, _frame: object) -> None:
        log.info("worker_signal", signal=signal.Signals(number).name)
        for each in STOP_SIGNALS:
            signal.signal(each, signal.SIG_DFL)
        stop.set()

    for number in STOP_SIGNALS:
        signal.signal(number, on_signal)
    try:
        stop.wait()
    finally:
        for number, handler in previous.items():
            if signal.getsignal(number) is on_signal:
                signal.signal(number, handler)
