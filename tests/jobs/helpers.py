"""Jobs in a given state without running a worker: enqueued through the real service (DBOS's
client, as an API process does), then placed on an executor as DBOS would have placed them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from clientdock.db import Database, utcnow
from clientdock.imports import service
from clientdock.imports.bulk import BULK_POLICY
from clientdock.jobs.engine import JobEngine
from clientdock.jobs.models import ImportJob, JobExecutor, workflow_status
from clientdock.jobs.reaper import Executor, announce
from clientdock.settings import Settings
from clientdock.tenants.context import load_context
from clientdock.tenants.models import Tenant
from tests.imports.helpers import records


def enqueue(db: Database, engine: JobEngine, settings: Settings, tenant_id: str, rows: int = 3) -> ImportJob:
    """A job queued as an API process queues it (on a new database DBOS's tables are made first)."""
    engine.migrate()
    with db.session() as session:
        ctx = load_context(session, session.get_one(Tenant, tenant_id))
        return service.start(session, engine, settings, ctx, service.NewJob(door="bulk", policy=BULK_POLICY, records=records(rows)))


def place(db: Database, job: ImportJob, executor: str, *, job_status: str = "running") -> None:
    """The job's workflow is PENDING on ``executor`` (DBOS's mark of a dequeued workflow), the job ``job_status``."""
    with db.session() as session:
        status = workflow_status(session.get_bind().dialect.name)
        session.execute(update(status).where(status.c.workflow_uuid == job.workflow_id).values(status="PENDING", executor_id=executor))
        session.execute(update(ImportJob).where(ImportJob.id == job.id).values(status=job_status, started_at=utcnow()))


def workflow_state(db: Database, workflow_id: str | None) -> str:
    with db.session() as session:
        status = workflow_status(session.get_bind().dialect.name)
        return str(session.scalar(select(status.c.status).where(status.c.workflow_uuid == workflow_id)))


def heartbeat(db: Database, executor_id: str, *, seconds_ago: float = 0.0, concurrency: int = 4) -> None:
    """A worker's heartbeat row, written ``seconds_ago``."""
    with db.session() as session:
        announce(session, Executor(executor_id, f"host-{executor_id}", 4242, concurrency))
    with db.session() as session:
        session.execute(
            update(JobExecutor).where(JobExecutor.executor_id == executor_id).values(heartbeat_at=utcnow() - timedelta(seconds=seconds_ago))
        )
