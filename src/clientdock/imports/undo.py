"""Undo a finished import from the audit trail.

Clients the import created are deleted and fields it changed get their earlier values back,
except where something else (another import, an edit) changed the client after the import
did: those are listed as conflicts and left as they are. What undo does is audited as
"undone" under the undone import's id, and the changes of an undone import no longer count
as later changes, so imports can be undone newest first. Deleting is set-based (one DELETE
per few hundred clients), so undoing a large import takes seconds, not minutes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy.orm import Session

from clientdock.clients.fields import BY_JSON
from clientdock.clients.models import ClientChange
from clientdock.clients.repository import delete_clients
from clientdock.db import utcnow
from clientdock.errors import Conflict
from clientdock.jobs.models import ImportJob
from clientdock.jobs.workflow import TERMINAL
from clientdock.pipeline import run as pipeline
from clientdock.pipeline.match import chunked
from clientdock.pipeline.records import Policy, RawRecord
from clientdock.tenants.context import TenantContext
from clientdock.tenants.scoping import readable_columns


@dataclass
class UndoResult:
    deleted: list[str]
    restored: dict[str, list[str]]
    conflicts: list[dict[str, Any]]


@dataclass(frozen=True)
class _Change:
    client_id: str
    action: str
    field: str
    before: Any


def undo(session: Session, ctx: TenantContext, job: ImportJob, actor: str | None = None) -> UndoResult:
    """Revert a finished import; later changes are listed and kept."""
    if job.status not in TERMINAL or job.dry_run:
        raise Conflict(f"import {job.id} is {job.status}{' (dry run)' if job.dry_run else ''}; only a finished import can be undone")
    if job.undone_at is not None:
        raise Conflict(f"import {job.id} was already undone")
    query = readable_columns(ctx, ClientChange.client_id, ClientChange.action, ClientChange.field, ClientChange.before).where(
        ClientChange.job_id == job.id, ClientChange.action.in_(("created", "updated"))
    )
    changes = [_Change(*row) for row in session.execute(query.order_by(ClientChange.at, ClientChange.id))]
    later = _changed_since(session, ctx, job)
    result = UndoResult([], {}, [])
    created = [c.client_id for c in changes if c.action == "created"]
    deletable = []
    for client_id in created:
        if client_id in later:
            result.conflicts.append({"clientId": client_id, "field": "*", "reason": "changed after this import; not deleted"})
        else:
            deletable.append(client_id)
    result.deleted = delete_clients(session, ctx, deletable, action="undone", job_id=job.id, actor=actor)
    created_set = set(created)
    updates = [c for c in changes if c.action == "updated" and c.client_id not in created_set]
    _restore_fields(session, ctx, job, updates, later, result, actor)
    job.undone_at = utcnow()
    return result


def _changed_since(session: Session, ctx: TenantContext, job: ImportJob) -> dict[str, set[str]]:
    """Fields that anything but this job (or an import since undone) changed after this job
    last changed the client.

    Two plain indexed reads instead of one join on ``at >``: PostgreSQL planned that join as a
    nested loop (69 s for 30,000 clients).
    """
    mine = readable_columns(ctx, ClientChange.client_id, func.max(ClientChange.at)).where(ClientChange.job_id == job.id)
    last_touched: dict[str, datetime] = {client_id: at for client_id, at in session.execute(mine.group_by(ClientChange.client_id))}
    undone = readable_columns(ctx, ImportJob.id).where(ImportJob.undone_at.is_not(None))
    out: dict[str, set[str]] = {}
    for part in chunked(sorted(last_touched)):
        query = readable_columns(ctx, ClientChange.client_id, ClientChange.field, ClientChange.at).where(
            ClientChange.client_id.in_(part),
            ClientChange.job_id.is_(None) | ((ClientChange.job_id != job.id) & ClientChange.job_id.not_in(undone)),
        )
        for client_id, field, at in session.execute(query):
            if at > last_touched[client_id]:
                out.setdefault(client_id, set()).add(field)
    return out


def _restore_fields(
    session: Session,
    ctx: TenantContext,
    job: ImportJob,
    changes: list[_Change],
    later: dict[str, set[str]],
    result: UndoResult,
    actor: str | None,
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
    policy = Policy(match_on=("id",), allow_create=False, job_id=job.id, actor=actor, update_action="undone")
    outcomes = pipeline.run(session, ctx, records, policy)
    for record, outcome in zip(records, outcomes, strict=True):
        client_id = str(record.fields["id"])
        if outcome.action == "failed":
            result.conflicts.append({"clientId": client_id, "field": None, "reason": "; ".join(outcome.messages)})
        else:
            result.restored[client_id] = sorted(k for k in record.fields if k != "id")
