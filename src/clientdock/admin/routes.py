"""Thin HTTP for the operators' views: the workers and the queues (platform credential only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from clientdock.admin.schemas import QueueCounts, QueueList, TenantQueueOut, Worker, WorkerList
from clientdock.deps import ReadSession
from clientdock.errors import Forbidden
from clientdock.imports.deps import AppSettings
from clientdock.jobs import service
from clientdock.tenants.auth import Authenticated, Principal

router = APIRouter(prefix="/admin", tags=["admin"])

AUTH = "**Auth**: platform credential (`clientdock platform-key create`); a tenant or app key is 403, no key 401."


def platform_credential(principal: Authenticated) -> Principal:
    if principal.kind != "platform":
        raise Forbidden(f"a {principal.kind} key cannot see the workers and queues; use the platform credential")
    return principal


Platform = Annotated[Principal, Depends(platform_credential)]


@router.get(
    "/workers",
    summary="The workers: heartbeats, liveness and the jobs each runs",
    description=(
        f"{AUTH} Every worker process with a heartbeat row (`clientdock worker`, or `clientdock serve` running its "
        "workers): a worker that stopped cleanly removed its row; one that stopped with jobs pending keeps it, so "
        "that they are resumed elsewhere once it is older than `deadAfterSeconds` (then `alive` is false)."
    ),
    response_model=WorkerList,
)
def list_workers(session: ReadSession, settings: AppSettings, _platform: Platform) -> WorkerList:
    found = service.workers(session, settings.worker_dead_after)
    return WorkerList(items=[Worker.of(state) for state in found], total=len(found), dead_after_seconds=settings.worker_dead_after)


@router.get(
    "/queues",
    summary="Every tenant's running and queued jobs, in the order they will start",
    description=(
        f"{AUTH} Per tenant with unfinished jobs: the running ones (and the worker running each) and the queued ones "
        "with their `queuePosition` (1 = the next of that tenant's to start; a tenant runs "
        "CLIENTDOCK_TENANT_CONCURRENCY jobs at once across all workers)."
    ),
    response_model=QueueList,
)
def list_queues(session: ReadSession, _platform: Platform) -> QueueList:
    found = [TenantQueueOut.of(queue) for queue in service.queues(session)]
    counts = QueueCounts(running=sum(q.counts.running for q in found), queued=sum(q.counts.queued for q in found))
    return QueueList(items=found, total=len(found), counts=counts)
