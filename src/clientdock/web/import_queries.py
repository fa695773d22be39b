"""What each import page needs from the database, loaded through the imports service."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from clientdock.clients.repository import existing_ids
from clientdock.imports import service
from clientdock.imports.undo import UndoCounts, UndoResult
from clientdock.imports.undo import preview as preview_undo
from clientdock.imports.undo import undo as undo_import
from clientdock.jobs.models import ImportJob
from clientdock.pipeline.report import ACTIONS
from clientdock.tenants.context import TenantContext
from clientdock.web import import_views as iv
from clientdock.web import views
from clientdock.web.templating import field_label, value_text

UNDO_SHOWN = 20


@dataclass(frozen=True)
class ImportList:
    jobs: list[ImportJob]
    pager: views.Pager

    def context(self, filters: iv.ImportFilters) -> dict[str, Any]:
        return {
            "jobs": self.jobs, "pager": self.pager, "filters": filters, "doors": iv.DOORS,
            "refreshing": any(iv.active(job) for job in self.jobs),
        }  # fmt: skip


def import_list(session: Session, ctx: TenantContext, filters: iv.ImportFilters, page: int) -> ImportList:
    jobs, total = service.list_jobs(session, ctx, page, views.PAGE_SIZE, filters.door or None)
    return ImportList(jobs, views.Pager(page, total))


@dataclass(frozen=True)
class ImportDetail:
    job: ImportJob
    rows: list[iv.RowView]
    pager: views.Pager
    filters: iv.RowFilters
    queue_position: int | None

    def context(self) -> dict[str, Any]:
        job = self.job
        return {
            "job": job, "rows": self.rows, "pager": self.pager, "filters": self.filters, "queue_position": self.queue_position,
            "outcomes": [(action, iv.OUTCOMES[action], getattr(job, action)) for action in ACTIONS],
            "summary_items": iv.summary_items(job), "mapping": (job.summary or {}).get("mapping") or {},
            "unknown_columns": (job.summary or {}).get("unknownColumns") or [],
            "warnings": (job.summary or {}).get("warnings") or [], "can_undo": iv.can_undo(job),
            "active": iv.active(job), "percent": iv.percent(job), "undo": None, "shown": UNDO_SHOWN,
        }  # fmt: skip


def import_detail(session: Session, ctx: TenantContext, job_id: str, filters: iv.RowFilters, page: int) -> ImportDetail:
    job = service.get_job(session, ctx, job_id)
    rows, total = service.job_rows(session, job, filters.outcome or None, page, iv.ROWS_PAGE_SIZE)
    there = existing_ids(session, ctx, (row.client_id for row in rows if row.client_id))
    shown = [iv.row_view(row, field_label, value_text, row.client_id in there) for row in rows]
    return ImportDetail(job, shown, views.Pager(page, total, iv.ROWS_PAGE_SIZE), filters, service.queue_position(session, job))


def job_progress(session: Session, ctx: TenantContext, job_id: str) -> tuple[ImportJob, int | None]:
    job = service.get_job(session, ctx, job_id)
    return job, service.queue_position(session, job)


def undo_preview(session: Session, ctx: TenantContext, job_id: str) -> tuple[ImportJob, iv.UndoView]:
    """What undoing the import would do now (it is run and rolled back)."""
    job = service.get_job(session, ctx, job_id)
    return job, _undo_view(session, ctx, job, preview_undo(session, ctx, job))


def undo(session: Session, ctx: TenantContext, job_id: str, actor: str, expect: UndoCounts | None) -> tuple[ImportJob, iv.UndoView]:
    """Undo the import (refused with ``CountsChanged`` if it would not do ``expect``); what it
    did, told by the rows' keys (the deleted clients are gone)."""
    job = service.get_job(session, ctx, job_id)
    result = undo_import(session, ctx, job, actor=actor, expect=expect)
    return job, _undo_view(session, ctx, job, result)


def _undo_view(session: Session, ctx: TenantContext, job: ImportJob, result: UndoResult) -> iv.UndoView:
    keys = _row_keys(session, job)
    deleted = [keys.get(client_id, client_id) for client_id in result.deleted]
    restored = [
        (client_id, keys.get(client_id, client_id), [field_label(name) for name in fields]) for client_id, fields in result.restored.items()
    ]
    by_client: dict[str, list[dict[str, Any]]] = {}
    for conflict in result.conflicts:
        by_client.setdefault(str(conflict.get("clientId")), []).append(conflict)
    later_ids = {job_id for c in result.conflicts for job_id in c.get("laterJobIds") or []}
    later_names = {other.id: iv.source_label(other) for other in service.jobs_by_id(session, ctx, later_ids)}
    there = existing_ids(session, ctx, by_client)
    left = []
    for client_id, conflicts in by_client.items():
        fields = [field_label(str(c["field"])) for c in conflicts if c.get("field") and c.get("field") != "*"]
        later = sorted({(j, later_names.get(j, "another import")) for c in conflicts for j in c.get("laterJobIds") or []})
        reason = str(conflicts[0].get("reason") or "")
        left.append(iv.LeftAlone(client_id, keys.get(client_id, client_id), fields, reason, later, client_id in there))
    return iv.UndoView(result.counts, deleted, restored, left)


def _row_keys(session: Session, job: ImportJob) -> dict[str, str]:
    """client id -> the key (email) of the row that created or updated it."""
    keys: dict[str, str] = {}
    for action in ("created", "updated"):
        page = 1
        while True:
            rows, total = service.job_rows(session, job, action, page, 1000)
            keys.update({row.client_id: row.lookup_key or row.client_id for row in rows if row.client_id})
            if page * 1000 >= total:
                break
            page += 1
    return keys
