"""Thin HTTP for import jobs: list, status, rows, error report, cancel, undo."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from clientdock.deps import Db, DbSession
from clientdock.imports import service, undo
from clientdock.imports.deps import AppSettings, Engine
from clientdock.imports.views import job_json, row_json
from clientdock.tenants.auth import ClientsRead, ImportsWrite
from clientdock.tenants.context import load_context

router = APIRouter(prefix="/tenants/{tenant}/imports", tags=["imports"])
Outcome = Literal["created", "updated", "unchanged", "skipped", "failed"]


@router.get("", summary="Imports of every door, newest first")
def list_imports(
    session: DbSession,
    scope: ClientsRead,
    door: str | None = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(alias="pageSize", ge=1, le=200)] = 50,
) -> dict[str, Any]:
    jobs, total = service.list_jobs(session, load_context(session, scope.tenant), page, page_size, door)
    return {"items": [job_json(session, j, scope.tenant.code) for j in jobs], "total": total, "page": page, "pageSize": page_size}


@router.get("/{job_id}", summary="One import: status, progress, counts, timings, links")
def get_import(job_id: str, session: DbSession, scope: ClientsRead) -> dict[str, Any]:
    job = service.get_job(session, load_context(session, scope.tenant), job_id)
    return job_json(session, job, scope.tenant.code)


@router.get("/{job_id}/rows", summary="Per-row outcomes (paged)")
def get_rows(
    job_id: str,
    session: DbSession,
    scope: ClientsRead,
    outcome: Outcome | None = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(alias="pageSize", ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    job = service.get_job(session, load_context(session, scope.tenant), job_id)
    rows, total = service.job_rows(session, job, outcome, page, page_size)
    return {"items": [row_json(r) for r in rows], "total": total, "page": page, "pageSize": page_size}


@router.get("/{job_id}/errors.csv", summary="The failed rows as they came in, plus a reason column")
def get_errors_csv(job_id: str, session: DbSession, scope: ClientsRead) -> StreamingResponse:
    job = service.get_job(session, load_context(session, scope.tenant), job_id)
    lines = list(service.errors_csv(session, job))
    headers = {"Content-Disposition": f'attachment; filename="import-{job_id}-errors.csv"'}
    return StreamingResponse(iter(lines), media_type="text/csv; charset=utf-8", headers=headers)


@router.post("/{job_id}/cancel", summary="Cancel a queued or running import (takes effect at the next chunk)")
def cancel_import(job_id: str, db: Db, engine: Engine, settings: AppSettings, scope: ImportsWrite) -> dict[str, Any]:
    with db.session() as session:
        ctx = load_context(session, scope.tenant)
    service.cancel(db, engine, settings, ctx, job_id)
    with db.session() as session:
        return job_json(session, service.get_job(session, ctx, job_id), scope.tenant.code)


@router.post("/{job_id}/undo", summary="Revert a finished import from the audit trail")
def undo_import(job_id: str, session: DbSession, scope: ImportsWrite) -> dict[str, Any]:
    ctx = load_context(session, scope.tenant)
    job = service.get_job(session, ctx, job_id)
    result = undo.undo(session, ctx, job, actor=scope.actor)
    return {
        "job": job_json(session, job, scope.tenant.code),
        "deleted": result.deleted,
        "restored": [{"clientId": k, "fields": v} for k, v in result.restored.items()],
        "conflicts": result.conflicts,
    }
