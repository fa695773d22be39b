"""The import workflow: plan, one checkpointed step per chunk, finalize.

DBOS registers workflows and steps per process, so the steps find the engine that launched
them through :func:`bind` (the engine calls it in ``start``); doors never import this module's
DBOS parts, they call :class:`~clientdock.jobs.engine.JobEngine`.

Each chunk step applies its rows, stores their outcomes and advances the job's counters in
ONE transaction, and skips itself when ``chunks_done`` shows it already committed, so a
worker killed at any point resumes at the chunk that was running with no row lost and
none applied twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any, Protocol

import structlog
from dbos import DBOS
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from clientdock.blobs import BlobStore
from clientdock.db import Database, bind_tenant, new_id, strict_json, table_of, utcnow
from clientdock.jobs import endings, prefetch, staging
from clientdock.jobs.models import ImportJob, ImportRow
from clientdock.jobs.policy import from_options
from clientdock.jobs.prefetch import prefetcher
from clientdock.pipeline import run as pipeline
from clientdock.pipeline.records import Candidate, Policy, RawRecord, RowOutcome
from clientdock.pipeline.report import counts, outcome_json, warned
from clientdock.rowwrite import insert_rows
from clientdock.settings import Settings
from clientdock.tenants.context import TenantContext, load_context
from clientdock.tenants.models import Tenant

log = structlog.get_logger(__name__)

Stager = Callable[[Database, Settings, ImportJob], Iterable[RawRecord]]
FinishHook = Callable[[Session, ImportJob], None]
TERMINAL = ("succeeded", "failed", "cancelled")


class Runtime(Protocol):
    """What the steps need of the engine that runs them."""

    db: Database
    settings: Settings
    blobs: BlobStore

    def stager(self, door: str) -> Stager: ...

    def finish(self, session: Session, job: ImportJob) -> None: ...


_bound: list[Runtime] = []


def bind(runtime: Runtime) -> None:
    """Make ``runtime`` the engine of this process's steps (DBOS itself is one per process)."""
    _bound[:] = [runtime]


def _runtime() -> Runtime:
    assert _bound, "jobs not started"
    return _bound[0]


@DBOS.workflow(name="clientdock.import")
def import_workflow(job_id: str) -> str:
    try:
        offsets = plan_step(job_id)
        for index, offset in enumerate(offsets):
            if not chunk_step(job_id, index, offset):
                break
        return finalize_step(job_id)
    except Exception as exc:
        log.exception("import_failed", job_id=job_id)
        return fail_step(job_id, f"{type(exc).__name__}: {exc}")


@DBOS.step(name="clientdock.import.plan")
def plan_step(job_id: str) -> list[int]:
    """Stage the input if the door left it to the worker; mark the job running."""
    runtime = _runtime()
    db, settings = runtime.db, runtime.settings
    with db.session() as session:
        job = session.get_one(ImportJob, job_id)
    staged = job.options.get("staged")
    if staged is None:
        # No transaction is held while a large file is parsed and staged.
        records = runtime.stager(job.door)(db, settings, job)
        total, offsets = staging.write(settings.data_dir, job_id, records, settings.chunk_size)
        runtime.blobs.share(None, staging.records_key(job_id))  # any worker can run the chunks
        staged = {"total": total, "offsets": offsets}
    with db.session() as session:
        job = session.get_one(ImportJob, job_id)
        bind_tenant(session, job.tenant_id)
        if job.status == "queued":
            job.status = "running"
            job.started_at = job.started_at or utcnow()
        job.total = staged["total"]
        job.options = {**job.options, "staged": staged}
    return list(staged["offsets"])


#: How long an attempt of a chunk step waits for a database it lost (a restart, a fail-over, a
#: network cut) before it gives up; DBOS makes three attempts before the job fails. DBOS's own
#: retries alone (1 s then 2 s apart) are spent in about 3 s, less than a PostgreSQL restart
#: takes; ``python -m bench soak --terminate-connections --outage 10`` shows it.
DATABASE_PATIENCE_SECONDS = 300.0
#: The longest pause between two tries while the database is away.
DATABASE_RETRY_CAP_SECONDS = 5.0


def while_database_is_away(work: Callable[[], bool], patience: float = DATABASE_PATIENCE_SECONDS) -> bool:
    """``work()``, tried again while it fails because the database cannot be reached (a lost or
    refused connection: an ``OperationalError``, or a connection SQLAlchemy invalidated), for up
    to ``patience`` seconds; any other error, or the same one after that, is raised at once."""
    deadline = time.monotonic() + patience
    pause = 0.5
    while True:
        try:
            return work()
        except DBAPIError as exc:
            if not (isinstance(exc, OperationalError) or exc.connection_invalidated) or time.monotonic() >= deadline:
                raise
            log.warning("database_unreachable_retrying", error=str(exc.orig)[:200], retry_in=pause)
        time.sleep(pause)
        pause = min(pause * 2, DATABASE_RETRY_CAP_SECONDS)


@DBOS.step(name="clientdock.import.chunk", retries_allowed=True, max_attempts=3)
def chunk_step(job_id: str, index: int, offset: int) -> bool:
    """Apply one chunk; False when the job was cancelled. The next chunk is read and prepared
    in the background meanwhile (``jobs.prefetch``). A database that went away is waited for
    (``while_database_is_away``): the chunk's transaction was rolled back, and runs again."""
    return while_database_is_away(lambda: _apply_chunk(job_id, index, offset))


def _apply_chunk(job_id: str, index: int, offset: int) -> bool:
    runtime = _runtime()
    db, settings = runtime.db, runtime.settings
    size = settings.chunk_size
    with db.session() as session:
        job = _lock_job(session, job_id)
        if job.cancel_requested or job.status in TERMINAL:
            prefetcher.drop(job_id)
            return False
        if job.chunks_done > index:
            return True
        ctx, policy = job_context(session, job)
        runtime.blobs.local_copy(staging.records_key(job_id))  # fetched once by a worker that did not stage them
        chunk = prefetcher.take(job_id, index, ctx) or prefetch.read(settings.data_dir, job_id, index, offset, size, ctx, policy)
        if (index + 1) * size < job.total:
            prefetcher.start(settings.data_dir, job_id, index + 1, chunk.end, size, ctx, policy, processes=settings.prepare_processes)
        apply_prepared(session, job, ctx, policy, chunk.records, chunk.candidates)
        job.chunks_done = index + 1
    return True


def job_context(session: Session, job: ImportJob) -> tuple[TenantContext, Policy]:
    """The tenant context and the door's policy a job's rows are applied with."""
    ctx = load_context(session, session.get_one(Tenant, job.tenant_id))
    return ctx, from_options(job.options, job_id=job.id, actor=job.started_by)


def apply_records(session: Session, job: ImportJob, records: list[RawRecord]) -> list[RowOutcome]:
    """Run the pipeline on records for a job, store their outcomes and count them."""
    ctx, policy = job_context(session, job)
    return apply_prepared(session, job, ctx, policy, records, pipeline.prepare(records, ctx, policy))


def apply_prepared(
    session: Session, job: ImportJob, ctx: TenantContext, policy: Policy, records: list[RawRecord], candidates: list[Candidate]
) -> list[RowOutcome]:
    """Match and write prepared candidates of a job, store their outcomes and count them."""
    if job.dry_run:
        savepoint = session.begin_nested()
        outcomes = pipeline.write(session, ctx, candidates, policy)
        savepoint.rollback()
    else:
        outcomes = pipeline.write(session, ctx, candidates, policy)
    _store_rows(session, job, records, outcomes)
    tally = counts(outcomes)
    job.done += len(outcomes)
    for action, number in tally.items():
        setattr(job, action, getattr(job, action) + number)
    job.warned += warned(outcomes)
    return outcomes


def _store_rows(session: Session, job: ImportJob, records: list[RawRecord], outcomes: list[RowOutcome]) -> None:
    rows: list[dict[str, Any]] = []
    for record, outcome in zip(records, outcomes, strict=True):
        if outcome.errors or outcome.warnings or outcome.changes:
            result = outcome_json(outcome)
            errors, messages, warnings = result["errors"], result["messages"], result["warnings"]
            changes = result.get("changes", {})
        else:
            # Most rows (created, unchanged) carry nothing but their action: the shape
            # ``outcome_json`` would give them, without building it.
            errors, messages, warnings, changes = [], [], [], {}
        rows.append(
            {
                "id": new_id(),
                "job_id": job.id,
                "row_index": outcome.index,
                "line": record.line,
                "lookup_key": outcome.lookup_key,
                "action": outcome.action,
                "client_id": outcome.client_id,
                "errors": errors,
                "messages": messages,
                "warnings": warnings,
                "changes": changes,
                # what the error report (failed and warned rows) and a dry run's review show
                "source": strict_json(record.source) if outcome.action == "failed" or outcome.warnings or job.dry_run else None,
            }
        )
    insert_rows(session, table_of(ImportRow), rows)


def _lock_job(session: Session, job_id: str) -> ImportJob:
    """The job's row, locked, and the session bound to the job's tenant from here on: the
    chunk's writes and the finish hooks run under that tenant's row-level security."""
    query = select(ImportJob).where(ImportJob.id == job_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    job = session.scalar(query)
    assert job is not None
    bind_tenant(session, job.tenant_id)
    return job


@DBOS.step(name="clientdock.import.finalize")
def finalize_step(job_id: str) -> str:
    runtime = _runtime()
    with runtime.db.session() as session:
        job = _lock_job(session, job_id)
        if job.status not in TERMINAL:
            job.status = "cancelled" if job.cancel_requested else "succeeded"
            job.finished_at = utcnow()
            runtime.finish(session, job)
        status = job.status
    endings.ring(job_id)
    prefetcher.drop(job_id)
    staging.discard(runtime.blobs, runtime.settings.data_dir, job_id)
    return status


@DBOS.step(name="clientdock.import.fail")
def fail_step(job_id: str, error: str) -> str:
    runtime = _runtime()
    with runtime.db.session() as session:
        job = _lock_job(session, job_id)
        if job.status not in TERMINAL:
            job.status = "failed"
            job.error = error[:2000]
            job.finished_at = utcnow()
            runtime.finish(session, job)
        status = job.status
    endings.ring(job_id)
    prefetcher.drop(job_id)
    staging.discard(runtime.blobs, runtime.settings.data_dir, job_id)
    return status
