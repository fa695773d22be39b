"""JSON of jobs and rows (the one result shape every door projects from)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from clientdock.imports.service import queue_position
from clientdock.jobs.models import ImportJob, ImportRow
from clientdock.pipeline.report import ACTIONS


def job_json(session: Session, job: ImportJob, tenant_code: str) -> dict[str, Any]:
    base = f"/tenants/{tenant_code}/imports/{job.id}"
    duration = (job.finished_at - job.started_at).total_seconds() if job.finished_at and job.started_at else None
    percent = round(100 * job.done / job.total, 1) if job.total else (100.0 if job.finished_at else 0.0)
    summary = {k: v for k, v in job.summary.items() if k != "header"}
    return {
        "id": job.id,
        "jobId": job.id,
        "door": job.door,
        "status": job.status,
        "dryRun": job.dry_run,
        "progress": {"done": job.done, "total": job.total, "percent": percent},
        "counts": {action: getattr(job, action) for action in ACTIONS},
        "queuePosition": queue_position(session, job),
        "startedBy": job.started_by,
        "createdAt": job.created_at.isoformat(),
        "startedAt": job.started_at.isoformat() if job.started_at else None,
        "finishedAt": job.finished_at.isoformat() if job.finished_at else None,
        "durationSeconds": duration,
        "error": job.error,
        "undoneAt": job.undone_at.isoformat() if job.undone_at else None,
        "summary": summary,
        "links": {"self": base, "rows": f"{base}/rows", "failedRows": f"{base}/rows?outcome=failed", "errors": f"{base}/errors.csv"},
    }


def row_json(row: ImportRow) -> dict[str, Any]:
    return {
        "index": row.row_index,
        "line": row.line,
        "lookupKey": row.lookup_key,
        "action": row.action,
        "id": row.client_id,
        "messages": row.messages,
        "errors": row.errors,
        "changes": row.changes or None,
    }
