"""The job tables: an import job (whatever its door), its per-row outcomes, and the workers' heartbeats."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, TableClause, Text, UniqueConstraint, column, false, table
from sqlalchemy.orm import Mapped, mapped_column

from clientdock.db import Base, new_id, utcnow


class ImportJob(Base):
    """The user-facing record of one import, whatever its door. DBOS runs it; we report it."""

    __tablename__ = "import_jobs"
    __table_args__ = (Index("ix_import_jobs_tenant_created", "tenant_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    door: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    dry_run: Mapped[bool] = mapped_column(default=False)
    #: A check made while mapping in the import dialog: a dry run that Imports never lists.
    preview: Mapped[bool] = mapped_column(default=False, server_default=false())
    total: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    created: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    unchanged: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    #: Rows that imported with a warning (a secondary value left out), whatever their action.
    warned: Mapped[int] = mapped_column(default=0, server_default="0")
    chunks_done: Mapped[int] = mapped_column(default=0)
    started_by: Mapped[str | None] = mapped_column(String(255))
    workflow_id: Mapped[str | None] = mapped_column(String(64))
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    undone_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class ImportRow(Base):
    """One input item's outcome, tied back to its row number or position."""

    __tablename__ = "import_rows"
    __table_args__ = (UniqueConstraint("job_id", "row_index"), Index("ix_import_rows_job_action", "job_id", "action"))

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    job_id: Mapped[str] = mapped_column(ForeignKey("import_jobs.id", ondelete="CASCADE"))
    row_index: Mapped[int]
    line: Mapped[int | None]
    lookup_key: Mapped[str | None] = mapped_column(String(500))
    action: Mapped[str] = mapped_column(String(16))
    client_id: Mapped[str | None] = mapped_column(String(32))
    errors: Mapped[list[Any]] = mapped_column(JSON, default=list)
    messages: Mapped[list[Any]] = mapped_column(JSON, default=list)
    #: ``[{field, value, message}]``: secondary values the row imported without.
    warnings: Mapped[list[Any]] = mapped_column(JSON, default=list, server_default="[]")
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    source: Mapped[Any | None] = mapped_column(JSON)


class FileMapping(Base):
    """The mapping last used for a file with this header set (``headers_key``: a hash of its
    normalised headers), so the same export is mapped the same way next time."""

    __tablename__ = "file_mappings"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    headers_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    headers: Mapped[list[Any]] = mapped_column(JSON)
    mapping: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class JobExecutor(Base):
    """A worker process's heartbeat; a silent one's pending jobs are resumed elsewhere. A worker
    that stops cleanly removes its row."""

    __tablename__ = "job_executors"

    executor_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    heartbeat_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    hostname: Mapped[str | None] = mapped_column(String(255))
    pid: Mapped[int | None]
    #: Imports this worker runs at once.
    concurrency: Mapped[int | None]


def workflow_status(dialect: str) -> TableClause:
    """DBOS's table of workflows (read only): in the schema ``dbos`` on PostgreSQL, beside ours on SQLite."""
    return table(
        "workflow_status",
        column("workflow_uuid", String),
        column("status", String),
        column("executor_id", String),
        schema="dbos" if dialect == "postgresql" else None,
    )
