"""Import jobs: start one for any door, read its state and rows, cancel and undo it."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clientdock.clients.fields import BY_JSON
from clientdock.clients.models import Client, ClientChange
from clientdock.csvsafe import csv_lines
from clientdock.db import Database, utcnow
from clientdock.errors import Conflict, NotFound
from clientdock.imports import runner, staging
from clientdock.imports.models import ImportJob, ImportRow
from clientdock.imports.policy import to_options
from clientdock.jobs.engine import JobEngine
from clientdock.pipeline import run as pipeline
from clientdock.pipeline.context import TenantContext
from clientdock.pipeline.records import Policy, RawRecord, RowOutcome
from clientdock.settings import Settings

TERMINAL = runner.TERMINAL
UNDO_POLICY = Policy(match_on=("id",), allow_create=False)


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
        total, offsets = staging.write(settings.data_dir, job.id, request.records, settings.chunk_size)
        job.total = total
        job.options = {**job.options, "staged": {"total": total, "offsets": offsets}}
    job.workflow_id = engine.enqueue_in_transaction(session, job.id, ctx.tenant_id)
    session.flush()
    return job


def run_inline(session: Session, ctx: TenantContext, request: NewJob, records: list[RawRecord]) -> tuple[ImportJob, list[RowOutcome]]:
    """A small batch run in the request itself, recorded as a finished job (bulk API)."""
    now = utcnow()
    job = ImportJob(
        tenant_id=ctx.tenant_id, door=request.door, status="running", total=len(records), started_by=request.started_by,
        options={**(request.options or {}), **to_options(request.policy)}, started_at=now, created_at=now,
    )  # fmt: skip
    session.add(job)
    session.flush()
    outcomes = runner.apply_records(session, job, records)
    job.chunks_done = 1
    job.status = "succeeded"
    job.finished_at = utcnow()
    runner.finish(session, job)
    return job, outcomes


def get_job(session: Session, ctx: TenantContext, job_id: str) -> ImportJob:
    job = session.scalar(select(ImportJob).where(ImportJob.tenant_id == ctx.tenant_id, ImportJob.id == job_id))
    if job is None:
        raise NotFound(f"no import '{job_id}' in this tenant")
    return job


def list_jobs(session: Session, ctx: TenantContext, page: int, page_size: int, door: str | None = None) -> tuple[list[ImportJob], int]:
    query = select(ImportJob).where(ImportJob.tenant_id == ctx.tenant_id)
    if door:
        query = query.where(ImportJob.door == door)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(ImportJob.created_at.desc(), ImportJob.id.desc()).offset((page - 1) * page_size).limit(page_size))
    return list(rows), total


def queue_position(session: Session, job: ImportJob) -> int | None:
    """1 = next to start for this tenant; None when the job is not waiting."""
    if job.status != "queued":
        return None
    ahead = session.scalar(
        select(func.count()).where(
            ImportJob.tenant_id == job.tenant_id, ImportJob.status.in_(("queued", "running")), ImportJob.created_at < job.created_at
        )
    )
    return int(ahead or 0) + 1


def job_rows(session: Session, job: ImportJob, outcome: str | None, page: int, page_size: int) -> tuple[list[ImportRow], int]:
    query = select(ImportRow).where(ImportRow.job_id == job.id)
    if outcome:
        query = query.where(ImportRow.action == outcome)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(ImportRow.row_index).offset((page - 1) * page_size).limit(page_size))
    return list(rows), total


def errors_csv(session: Session, job: ImportJob) -> Iterator[str]:
    """The failed rows as they came in plus a ``reason`` column, ready to fix and re-upload."""
    failed = list(
        session.scalars(select(ImportRow).where(ImportRow.job_id == job.id, ImportRow.action == "failed").order_by(ImportRow.row_index))
    )
    header: list[str] = list(job.summary.get("header") or [])
    if not header:
        keys: list[str] = []
        for row in failed:
            for key in row.source or {} if isinstance(row.source, dict) else []:
                if key not in keys:
                    keys.append(key)
        header = keys
    return csv_lines([*header, "reason"], (_error_cells(row, header) for row in failed))


def _error_cells(row: ImportRow, header: list[str]) -> list[Any]:
    reason = "; ".join(row.messages or []) or "failed"
    if isinstance(row.source, list):
        cells = list(row.source) + [""] * (len(header) - len(row.source))
        return [*cells[: len(header)], reason]
    source = row.source if isinstance(row.source, dict) else {}
    cells = [v if isinstance(v, str | int | float | bool) or v is None else json.dumps(v) for v in (source.get(k) for k in header)]
    return [*cells, reason]


def cancel(db: Database, engine: JobEngine, settings: Settings, ctx: TenantContext, job_id: str) -> None:
    """Cancel a queued or running import. A queued one ends now: its workflow is dropped and
    its staged input removed; a running one stops at its next chunk (the runner cleans up)."""
    with db.session() as session:
        job = get_job(session, ctx, job_id)
        drop_workflow = request_cancel(session, job)
        workflow_id = job.workflow_id
    if drop_workflow:
        if workflow_id:
            engine.cancel(workflow_id)
        staging.remove(settings.data_dir, job_id)


def request_cancel(session: Session, job: ImportJob) -> bool:
    """Mark the job cancelled; True when the engine must also drop a still-queued workflow."""
    if job.status in TERMINAL:
        raise Conflict(f"import {job.id} already {job.status}")
    job.cancel_requested = True
    if job.status == "queued":
        job.status = "cancelled"
        job.finished_at = utcnow()
        runner.finish(session, job)
        return True
    return False


@dataclass
class UndoResult:
    deleted: list[str]
    restored: dict[str, list[str]]
    conflicts: list[dict[str, Any]]


def undo(session: Session, ctx: TenantContext, job: ImportJob) -> UndoResult:
    """Revert a finished import from the audit trail; later changes are listed and kept."""
    if job.status not in TERMINAL or job.dry_run:
        raise Conflict(f"import {job.id} is {job.status}{' (dry run)' if job.dry_run else ''}; only a finished import can be undone")
    if job.undone_at is not None:
        raise Conflict(f"import {job.id} was already undone")
    changes = list(session.scalars(select(ClientChange).where(ClientChange.job_id == job.id).order_by(ClientChange.at)))
    result = UndoResult([], {}, [])
    touched = {c.client_id for c in changes}
    later = _changed_since(session, ctx, job, touched)
    created = [c.client_id for c in changes if c.action == "created"]
    for client_id in created:
        if client_id in later:
            result.conflicts.append({"clientId": client_id, "field": "*", "reason": "changed after this import; not deleted"})
            continue
        client = session.get(Client, client_id)
        if client is not None and client.tenant_id == ctx.tenant_id:
            session.delete(client)
            session.add(
                ClientChange(tenant_id=ctx.tenant_id, client_id=client_id, job_id=None, action="undone", field="*", before=None, after=None)
            )
            result.deleted.append(client_id)
    session.flush()
    _restore_fields(session, ctx, [c for c in changes if c.action == "updated" and c.client_id not in created], later, result)
    job.undone_at = utcnow()
    return result


def _changed_since(session: Session, ctx: TenantContext, job: ImportJob, client_ids: set[str]) -> dict[str, set[str]]:
    """Fields of these clients changed by anything after the job (another job, an edit)."""
    out: dict[str, set[str]] = {}
    if job.finished_at is None:
        return out
    ids = sorted(client_ids)
    for start in range(0, len(ids), 500):
        query = select(ClientChange.client_id, ClientChange.field).where(
            ClientChange.tenant_id == ctx.tenant_id,
            ClientChange.client_id.in_(ids[start : start + 500]),
            ClientChange.at > job.finished_at,
            (ClientChange.job_id != job.id) | ClientChange.job_id.is_(None),
        )
        for client_id, field in session.execute(query):
            out.setdefault(client_id, set()).add(field)
    return out


def _restore_fields(
    session: Session, ctx: TenantContext, changes: list[ClientChange], later: dict[str, set[str]], result: UndoResult
) -> None:
    first_before: dict[str, dict[str, Any]] = {}
    for change in changes:
        first_before.setdefault(change.client_id, {}).setdefault(change.field, change.before)
    records: list[RawRecord] = []
    for index, (client_id, fields) in enumerate(first_before.items()):
        changed_later = later.get(client_id, set())
        keep = {f: v for f, v in fields.items() if f not in changed_later and f in BY_JSON and "*" not in changed_later}
        for field in sorted(set(fields) - set(keep)):
            result.conflicts.append({"clientId": client_id, "field": field, "reason": "changed after this import; left as it is"})
        if keep:
            records.append(RawRecord(index=index, fields={**keep, "id": client_id}))
    if not records:
        return
    outcomes = pipeline.run(session, ctx, records, UNDO_POLICY)
    for record, outcome in zip(records, outcomes, strict=True):
        client_id = str(record.fields["id"])
        if outcome.action == "failed":
            result.conflicts.append({"clientId": client_id, "field": None, "reason": "; ".join(outcome.messages)})
        else:
            result.restored[client_id] = sorted(k for k in record.fields if k != "id")
