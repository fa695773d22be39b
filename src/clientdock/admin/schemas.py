"""The JSON of the operators' views (camelCase), built from ``clientdock.jobs.service``'s answers."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from clientdock.clients.schemas import CamelModel
from clientdock.jobs.service import JobBrief, TenantQueue, WorkerState


class RunningJob(CamelModel):
    id: str
    tenant: str = Field(description="The tenant's code")
    door: str = Field(description="csv, bulk, app, connection, enrich, …")
    status: str = Field(description="The job's status: running, or queued just before its first step")
    done: int = Field(description="Rows done")
    total: int = Field(description="Rows in all (0 while a worker still reads the input)")

    @classmethod
    def of(cls, job: JobBrief) -> RunningJob:
        return cls(id=job.id, tenant=job.tenant, door=job.door, status=job.status, done=job.done, total=job.total)


class Worker(CamelModel):
    """A worker process (``clientdock worker``, or ``clientdock serve`` with its workers), as its heartbeat row says."""

    executor_id: str = Field(description="Its stable name (--executor-id, CLIENTDOCK_EXECUTOR_ID, else the host name)")
    hostname: str | None
    pid: int | None = Field(description="Its process id on that host")
    started_at: datetime
    heartbeat_at: datetime = Field(description="Its last heartbeat (every CLIENTDOCK_HEARTBEAT_SECONDS)")
    alive: bool = Field(
        description="Its last heartbeat is within CLIENTDOCK_WORKER_DEAD_AFTER seconds; a dead worker's jobs are resumed by another"
    )
    concurrency: int | None = Field(description="Imports it runs at once")
    running_jobs: list[RunningJob] = Field(description="The jobs it is running now")

    @classmethod
    def of(cls, state: WorkerState) -> Worker:
        return cls(
            executor_id=state.executor_id, hostname=state.hostname, pid=state.pid, started_at=state.started_at,
            heartbeat_at=state.heartbeat_at, alive=state.alive, concurrency=state.concurrency,
            running_jobs=[RunningJob.of(job) for job in state.running_jobs],
        )  # fmt: skip


class WorkerList(CamelModel):
    items: list[Worker] = Field(description="By executor id; a worker that stopped cleanly is not listed")
    total: int
    dead_after_seconds: float = Field(description="CLIENTDOCK_WORKER_DEAD_AFTER: how long a silent worker is still alive")


class QueueJob(CamelModel):
    id: str
    door: str
    status: str = Field(description="running or queued")
    done: int
    total: int
    created_at: datetime = Field(description="When it was submitted")
    started_at: datetime | None
    queue_position: int | None = Field(description="A queued job: 1 = the next of this tenant's to start; null when running")
    executor_id: str | None = Field(description="A running job: the worker running it")

    @classmethod
    def of(cls, job: JobBrief) -> QueueJob:
        return cls(
            id=job.id, door=job.door, status=job.status, done=job.done, total=job.total, created_at=job.created_at,
            started_at=job.started_at, queue_position=job.queue_position, executor_id=job.executor_id,
        )  # fmt: skip


class QueueCounts(CamelModel):
    running: int
    queued: int


class TenantQueueOut(CamelModel):
    """One tenant's jobs that have not finished."""

    tenant: str = Field(description="The tenant's code")
    counts: QueueCounts
    running: list[QueueJob] = Field(description="Oldest first")
    queued: list[QueueJob] = Field(description="In the order they will start (queuePosition 1, 2, …)")

    @classmethod
    def of(cls, queue: TenantQueue) -> TenantQueueOut:
        return cls(
            tenant=queue.tenant,
            counts=QueueCounts(running=len(queue.running), queued=len(queue.queued)),
            running=[QueueJob.of(job) for job in queue.running],
            queued=[QueueJob.of(job) for job in queue.queued],
        )


class QueueList(CamelModel):
    items: list[TenantQueueOut] = Field(description="Every tenant with a running or queued job, by tenant code")
    total: int = Field(description="Tenants listed")
    counts: QueueCounts = Field(description="Jobs of every tenant")
