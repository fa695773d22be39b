"""Import jobs: start one for any door, read its state and rows, cancel and undo it."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from clientdock.clients.labels import field_sentence
from clientdock.csvsafe import csv_lines
from clientdock.db import after_commit, utcnow
from clientdock.errors import Conflict, NotFound
from clientdock.jobs import staging, workflow
from clientdock.jobs.engine import JobEngine
from clientdock.jobs.models import ImportJob, ImportRow
from clientdock.jobs.policy import to_options
from clientdock.jobs.service import queue_positions
from clientdock.pipeline.records import Policy, RawRecord, RowOutcome
from clientdock.settings import Settings
from clientdock.tenants.context import TenantContext
from clientdock.tenants.scoping import readable

TERMINAL = workflow.TERMINAL


@dataclass(frozen=True)
class NewJob:
    """What a door asks for. ``records`` None means the worker stages them (a registered stager)."""

    door: str
    policy: Policy
    records: Iterable[RawRecord] | None = None
    options: dict[str, Any] | None = None
    dry_run: bool = False
    started_by: str | None = None


def start(session: Session, engine: JobEngine, settings: Settings, ctx: TenantContext, request: NewJob) -> ImportJob:
    """Create the job row and enqueue its workflow in the caller's transaction."""
    job = ImportJob(
        tenant_id=ctx.tenant_id, door=request.door, status="queued", dry_run=request.dry_run, started_by=request.started_by,
        options={**(request.options or {}), **to_options(request.policy)},
    )  # fmt: skip
    session.add(job)
    session.flush()
    if request.records is not None:
        total, offsets = _stage(session, engine, settings, job.id, request.records)
        job.total = total
        job.options = {**job.options, "staged": {"total": total, "offsets": offsets}}
    job.workflow_id = engine.enqueue_in_transaction(session, job.id, ctx.tenant_id)
    session.flush()
    return job


def _stage(session: Session, engine: JobEngine, settings: Settings, job_id: str, records: Iterable[RawRecord]) -> tuple[int, list[int]]:
    """Stage a door's records in a scratch folder and hand them to the deployment's storage in
    the caller's transaction (so the worker that runs the job, wherever it is, reads them)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=settings.data_dir, prefix=".staging-") as scratch:
        total, offsets = staging.write(Path(scratch), job_id, records, settings.chunk_size)
        engine.blobs.take(session, staging.records_key(job_id), staging.job_dir(Path(scratch), job_id) / staging.RECORDS)
    return total, offsets


def run_inline(
    session: Session, engine: JobEngine, ctx: TenantContext, request: NewJob, records: list[RawRecord]
) -> tuple[ImportJob, list[RowOutcome]]:
    """A small batch run in the request itself, recorded as a finished job (bulk API)."""
    now = utcnow()
    job = ImportJob(
        tenant_id=ctx.tenant_id, door=request.door, status="running", total=len(records), started_by=request.started_by,
        options={**(request.options or {}), **to_options(request.policy)}, started_at=now, created_at=now,
    )  # fmt: skip
    session.add(job)
    session.flush()
    outcomes = workflow.apply_records(session, job, records)
    job.chunks_done = 1
    job.status = "succeeded"
    job.finished_at = utcnow()
    engine.finish(session, job)
    return job, outcomes


def get_job(session: Session, ctx: TenantContext, job_id: str) -> ImportJob:
    job = session.scalar(readable(ctx, ImportJob).where(ImportJob.id == job_id))
    if job is None:
        raise NotFound(f"no import '{job_id}' in this tenant")
    return job


def jobs_by_id(session: Session, ctx: TenantContext, job_ids: Iterable[str]) -> list[ImportJob]:
    wanted = sorted(set(job_ids))
    return list(session.scalars(readable(ctx, ImportJob).where(ImportJob.id.in_(wanted)))) if wanted else []


def list_jobs(
    session: Session, ctx: TenantContext, page: int, page_size: int, door: str | None = None, *, previews: bool = False
) -> tuple[list[ImportJob], int]:
    """The tenant's imports, newest first. The import dialog's checks (``preview`` dry runs)
    are left out unless ``previews``: they are readable by id, but they are not imports."""
    query = readable(ctx, ImportJob)
    if not previews:
        query = query.where(ImportJob.preview.is_(False))
    if door:
        query = query.where(ImportJob.door == door)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(ImportJob.created_at.desc(), ImportJob.id.desc()).offset((page - 1) * page_size).limit(page_size))
    return list(rows), total


def queue_position(session: Session, job: ImportJob) -> int | None:
    """1 = next of its tenant's jobs to start (1 + its tenant's queued jobs submitted before it);
    None when the job is not queued."""
    if job.status != "queued":
        return None
    return queue_positions(session, job.tenant_id, [job.id]).get(job.id)


#: The rows filter that lists rows with a warning, whatever their action.
WARNING = "warning"


def job_rows(session: Session, job: ImportJob, outcome: str | None, page: int, page_size: int) -> tuple[list[ImportRow], int]:
    """A page of the job's rows: all, those of one action, or (``outcome="warning"``) those with a warning."""
    query = select(ImportRow).where(ImportRow.job_id == job.id)
    if outcome == WARNING:
        query = query.where(func.json_array_length(ImportRow.warnings) > 0)
    elif outcome:
        query = query.where(ImportRow.action == outcome)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(ImportRow.row_index).offset((page - 1) * page_size).limit(page_size))
    return list(rows), total


def errors_csv(session: Session, job: ImportJob) -> Iterator[str]:
    """The failed rows and the rows with a warning, as they came in, plus a ``reason`` column
    (why the row failed) and a ``warning`` column (what it imported without), each problem a
    sentence with the field's label ("First name is required"); ready to fix and re-upload."""
    reported = list(
        session.scalars(
            select(ImportRow)
            .where(ImportRow.job_id == job.id, or_(ImportRow.action == "failed", func.json_array_length(ImportRow.warnings) > 0))
            .order_by(ImportRow.row_index)
        )
    )
    header: list[str] = list(job.summary.get("header") or [])
    if not header:
        keys: list[str] = []
        for row in reported:
            for key in row.source or {} if isinstance(row.source, dict) else []:
                if key not in keys:
                    keys.append(key)
        header = keys
    return csv_lines([*header, "reason", "warning"], (_error_cells(row, header) for row in reported))


def reason(row: ImportRow) -> str:
    """Why a row failed, in words: ``First name is required; Email 'x' is not a valid email address``."""
    if row.action != "failed":
        return ""
    said = [field_sentence(e.get("field"), str(e.get("message") or ""), e.get("code")) for e in row.errors or []]
    return "; ".join(said) or "; ".join(row.messages or []) or "failed"


def warning_text(row: ImportRow) -> str:
    """What a row imported without, in words: ``Date of birth '03/14' has no year …``."""
    return "; ".join(field_sentence(w.get("field"), str(w.get("message") or "")) for w in row.warnings or [])


def _error_cells(row: ImportRow, header: list[str]) -> list[Any]:
    why = [reason(row), warning_text(row)]
    if isinstance(row.source, list):
        cells = list(row.source) + [""] * (len(header) - len(row.source))
        return [*cells[: len(header)], *why]
    source = row.source if isinstance(row.source, dict) else {}
    cells = [v if isinstance(v, str | int | float | bool) or v is None else json.dumps(v) for v in (source.get(k) for k in header)]
    return [*cells, *why]


def cancel(session: Session, engine: JobEngine, settings: Settings, ctx: TenantContext, job_id: str) -> ImportJob:
    """Cancel a queued or running import. A queued one ends now: once that commits, its
    workflow is dropped and its staged input removed; a running one stops at its next chunk
    (the workflow cleans up)."""
    job = get_job(session, ctx, job_id)
    if request_cancel(session, engine, job):
        workflow_id = job.workflow_id

        def drop() -> None:
            if workflow_id:
                engine.cancel(workflow_id)
            staging.discard(engine.blobs, settings.data_dir, job_id)

        after_commit(session, drop)
    return job


def request_cancel(session: Session, engine: JobEngine, job: ImportJob) -> bool:
    """Mark the job cancelled; True when the engine must also drop a still-queued workflow."""
    if job.status in TERMINAL:
        raise Conflict(f"import {job.id} already {job.status}")
    job.cancel_requested = True
    if job.status == "queued":
        job.status = "cancelled"
        job.finished_at = utcnow()
        engine.finish(session, job)
        return True
    return False
