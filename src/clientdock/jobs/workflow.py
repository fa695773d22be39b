"""The import workflow: plan, one checkpointed step per chunk, finalize.

Each chunk step applies its rows, stores their outcomes and advances the job's counters in
ONE transaction, and skips itself when ``chunks_done`` shows it already committed, so a
worker killed at any point resumes at the chunk that was running with no row lost and
none applied twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import structlog
from dbos import DBOS
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from clientdock.db import Database, new_id, strict_json, table_of, utcnow
from clientdock.jobs import staging
from clientdock.jobs.models import ImportJob, ImportRow
from clientdock.jobs.policy import from_options
from clientdock.notify import service as notify
from clientdock.pipeline import run as pipeline
from clientdock.pipeline.records import RawRecord, RowOutcome
from clientdock.pipeline.report import counts
from clientdock.settings import Settings
from clientdock.tenants.context import load_context
from clientdock.tenants.models import Tenant

log = structlog.get_logger(__name__)

Stager = Callable[[Database, Settings, ImportJob], Iterable[RawRecord]]
FinishHook = Callable[[Session, ImportJob], None]

# Doors whose input is turned into records by the worker (e.g. a file to parse) register here.
STAGERS: dict[str, Stager] = {}
# Called in the finalize transaction (notifications, webhooks).
FINISH_HOOKS: list[FinishHook] = []
TERMINAL = ("succeeded", "failed", "cancelled")


@dataclass
class _Runtime:
    db: Database | None = None
    settings: Settings | None = None


_runtime = _Runtime()


def bind(db: Database, settings: Settings) -> None:
    _runtime.db, _runtime.settings = db, settings


def _db() -> Database:
    assert _runtime.db is not None, "jobs not started"
    return _runtime.db


def _settings() -> Settings:
    assert _runtime.settings is not None, "jobs not started"
    return _runtime.settings


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
    db, settings = _db(), _settings()
    with db.session() as session:
        job = session.get_one(ImportJob, job_id)
    staged = job.options.get("staged")
    if staged is None:
        # No transaction is held while a large file is parsed and staged.
        records = STAGERS[job.door](db, settings, job)
        total, offsets = staging.write(settings.data_dir, job_id, records, settings.chunk_size)
        staged = {"total": total, "offsets": offsets}
    with db.session() as session:
        job = session.get_one(ImportJob, job_id)
        if job.status == "queued":
            job.status = "running"
            job.started_at = job.started_at or utcnow()
        job.total = staged["total"]
        job.options = {**job.options, "staged": staged}
    return list(staged["offsets"])


@DBOS.step(name="clientdock.import.chunk", retries_allowed=True, max_attempts=3)
def chunk_step(job_id: str, index: int, offset: int) -> bool:
    """Apply one chunk; False when the job was cancelled."""
    db, settings = _db(), _settings()
    with db.session() as session:
        job = _lock_job(session, job_id)
        if job.cancel_requested or job.status in TERMINAL:
            return False
        if job.chunks_done > index:
            return True
        records = staging.read_chunk(settings.data_dir, job_id, offset, settings.chunk_size)
        apply_records(session, job, records)
        job.chunks_done = index + 1
    return True


def apply_records(session: Session, job: ImportJob, records: list[RawRecord]) -> list[RowOutcome]:
    """Run the pipeline on records for a job, store their outcomes and count them."""
    tenant = session.get_one(Tenant, job.tenant_id)
    ctx = load_context(session, tenant)
    policy = from_options(job.options, job_id=job.id, actor=job.started_by)
    if job.dry_run:
        savepoint = session.begin_nested()
        outcomes = pipeline.run(session, ctx, records, policy)
        savepoint.rollback()
    else:
        outcomes = pipeline.run(session, ctx, records, policy)
    _store_rows(session, job, records, outcomes)
    tally = counts(outcomes)
    job.done += len(outcomes)
    for action, number in tally.items():
        setattr(job, action, getattr(job, action) + number)
    return outcomes


def _store_rows(session: Session, job: ImportJob, records: list[RawRecord], outcomes: list[RowOutcome]) -> None:
    rows: list[dict[str, Any]] = []
    for record, outcome in zip(records, outcomes, strict=True):
        rows.append(
            {
                "id": new_id(),
                "job_id": job.id,
                "row_index": outcome.index,
                "line": record.line,
                "lookup_key": outcome.lookup_key,
                "action": outcome.action,
                "client_id": outcome.client_id,
                "errors": [e.as_dict() for e in outcome.errors],
                "messages": outcome.messages,
                "changes": {f: {"before": b, "after": a} for f, (b, a) in outcome.changes.items()},
                "source": strict_json(record.source) if outcome.action == "failed" or job.dry_run else None,
            }
        )
    for start in range(0, len(rows), 500):
        session.connection().execute(insert(table_of(ImportRow)), rows[start : start + 500])


def _lock_job(session: Session, job_id: str) -> ImportJob:
    query = select(ImportJob).where(ImportJob.id == job_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    job = session.scalar(query)
    assert job is not None
    return job


@DBOS.step(name="clientdock.import.finalize")
def finalize_step(job_id: str) -> str:
    with _db().session() as session:
        job = _lock_job(session, job_id)
        if job.status not in TERMINAL:
            job.status = "cancelled" if job.cancel_requested else "succeeded"
            job.finished_at = utcnow()
            finish(session, job)
        status = job.status
    staging.remove(_settings().data_dir, job_id)
    return status


@DBOS.step(name="clientdock.import.fail")
def fail_step(job_id: str, error: str) -> str:
    with _db().session() as session:
        job = _lock_job(session, job_id)
        if job.status not in TERMINAL:
            job.status = "failed"
            job.error = error[:2000]
            job.finished_at = utcnow()
            finish(session, job)
        status = job.status
    staging.remove(_settings().data_dir, job_id)
    return status


def notify_tenant(session: Session, job: ImportJob) -> None:
    """Finish hook: every import that really ran tells the business how it ended, with an
    in-app notification and its webhooks, in the transaction that ends the job (so exactly
    once). Dry runs stay quiet, and so does a door that opted out with ``options["notify"]``
    set to false (a partner app's ``send_notifications_when_done: false``)."""
    if job.dry_run or (job.options or {}).get("notify") is False:
        return
    tenant = session.get_one(Tenant, job.tenant_id)
    base = f"/tenants/{tenant.code}/imports/{job.id}"
    payload: dict[str, Any] = {
        "jobId": job.id, "door": job.door, "status": job.status, "app": job.options.get("app"),
        "counts": {action: getattr(job, action) for action in ("created", "updated", "unchanged", "skipped", "failed")},
        "links": {"job": base, "errors": f"{base}/errors.csv"},
    }  # fmt: skip
    if job.error:
        payload["error"] = job.error
    notify.job_finished(session, job.tenant_id, "import.failed" if job.status == "failed" else "import.completed", payload)


FINISH_HOOKS.append(notify_tenant)


def finish(session: Session, job: ImportJob) -> None:
    for hook in FINISH_HOOKS:
        hook(session, job)
    log.info(
        "import_finished", job_id=job.id, door=job.door, status=job.status, created=job.created, updated=job.updated, failed=job.failed
    )
