"""What the jobs are doing, read for people: queue positions, the workers and what each runs,
the queue of every tenant. No HTTP here (``clientdock.admin`` answers it).

A tenant's queue position counts only its queued jobs, in the order they were submitted
(``created_at``, then id): 1 is the next of that tenant's jobs to start.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from clientdock.db import utcnow
from clientdock.jobs.models import ImportJob, JobExecutor, workflow_status
from clientdock.tenants.models import Tenant
from clientdock.tenants.scoping import TenantRef, readable_columns

QUEUED = "queued"
RUNNING = "running"


def queue_positions(session: Session, tenant: TenantRef, job_ids: Collection[str]) -> dict[str, int]:
    """The queue position of each of ``job_ids`` that is queued (others are left out), in one query."""
    if not job_ids:
        return {}
    position = func.row_number().over(order_by=(ImportJob.created_at, ImportJob.id)).label("position")
    ranked = readable_columns(tenant, ImportJob.id, position).where(ImportJob.status == QUEUED).subquery()
    rows = session.execute(select(ranked.c.id, ranked.c.position).where(ranked.c.id.in_(sorted(set(job_ids)))))
    return {job_id: int(place) for job_id, place in rows}


@dataclass(frozen=True)
class JobBrief:
    """One job as the operators' views list it."""

    id: str
    tenant: str
    door: str
    status: str
    done: int
    total: int
    created_at: datetime
    started_at: datetime | None
    #: Queued jobs: 1 = the next of its tenant's to start.
    queue_position: int | None = None
    #: The worker running it (as DBOS says), if any.
    executor_id: str | None = None


@dataclass(frozen=True)
class WorkerState:
    executor_id: str
    hostname: str | None
    pid: int | None
    concurrency: int | None
    started_at: datetime
    heartbeat_at: datetime
    #: Its last heartbeat is within ``worker_dead_after``.
    alive: bool
    running_jobs: list[JobBrief] = field(default_factory=list)


@dataclass(frozen=True)
class TenantQueue:
    tenant: str
    running: list[JobBrief]
    queued: list[JobBrief]


def _has_workflows(session: Session) -> bool:
    """DBOS creates its tables when a worker (or an enqueue) first meets the database."""
    bind = session.connection()
    return inspect(bind).has_table("workflow_status", schema="dbos" if bind.dialect.name == "postgresql" else None)


def _running_on(session: Session, executors: Iterable[str] | None = None) -> list[tuple[str, JobBrief]]:
    """The jobs whose workflow is pending on a worker (of ``executors``, or any), with that worker."""
    if not _has_workflows(session):
        return []
    status = workflow_status(session.get_bind().dialect.name)
    query = (
        select(status.c.executor_id, ImportJob, Tenant.code)
        .join(ImportJob, ImportJob.workflow_id == status.c.workflow_uuid)
        .join(Tenant, Tenant.id == ImportJob.tenant_id)
        .where(status.c.status == "PENDING")
        .order_by(ImportJob.created_at, ImportJob.id)
    )
    if executors is not None:
        query = query.where(status.c.executor_id.in_(sorted(executors)))
    return [(executor, _brief(job, code, executor_id=executor)) for executor, job, code in session.execute(query).tuples()]


def _brief(job: ImportJob, tenant: str, *, position: int | None = None, executor_id: str | None = None) -> JobBrief:
    return JobBrief(job.id, tenant, job.door, job.status, job.done, job.total, job.created_at, job.started_at, position, executor_id)


def workers(session: Session, dead_after: float, now: datetime | None = None) -> list[WorkerState]:
    """Every worker with a heartbeat row (a cleanly stopped one has none), and the jobs it runs."""
    cutoff = (now or utcnow()) - timedelta(seconds=dead_after)
    rows = list(session.scalars(select(JobExecutor).order_by(JobExecutor.executor_id)))
    running: dict[str, list[JobBrief]] = {}
    if rows:
        for executor, job in _running_on(session, [row.executor_id for row in rows]):
            running.setdefault(executor, []).append(job)
    return [
        WorkerState(
            row.executor_id,
            row.hostname,
            row.pid,
            row.concurrency,
            row.started_at,
            row.heartbeat_at,
            row.heartbeat_at >= cutoff,
            running.get(row.executor_id, []),
        )  # fmt: skip
        for row in rows
    ]


def queues(session: Session) -> list[TenantQueue]:
    """Every tenant with running or queued jobs: its running jobs, then its queue in order, by tenant code."""
    place = (
        func.row_number()
        .over(partition_by=(ImportJob.tenant_id, ImportJob.status), order_by=(ImportJob.created_at, ImportJob.id))
        .label("place")
    )
    query = (
        select(ImportJob, Tenant.code, place)
        .join(Tenant, Tenant.id == ImportJob.tenant_id)
        .where(ImportJob.status.in_((QUEUED, RUNNING)))
        .order_by(Tenant.code, ImportJob.created_at, ImportJob.id)
    )
    found = session.execute(query).tuples().all()
    owners = {brief.id: executor for executor, brief in _running_on(session)} if found else {}
    by_tenant: dict[str, TenantQueue] = {}
    for job, code, at in found:
        queue = by_tenant.setdefault(code, TenantQueue(code, [], []))
        if job.status == QUEUED:
            queue.queued.append(_brief(job, code, position=int(at)))
        else:
            queue.running.append(_brief(job, code, executor_id=owners.get(job.id)))
    return list(by_tenant.values())
