"""What the import pages show, shaped for the templates (no HTTP, no database)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from clientdock.imports.undo import UndoCounts
from clientdock.jobs.models import ImportJob, ImportRow
from clientdock.jobs.workflow import TERMINAL
from clientdock.pipeline.report import ACTIONS

DOORS = {"csv": "File upload", "bulk": "Bulk API", "app": "Partner app", "connection": "Connection"}
STATUSES = {"queued": "Queued", "running": "Running", "succeeded": "Completed", "failed": "Failed", "cancelled": "Cancelled"}
OUTCOMES = {"created": "Created", "updated": "Updated", "unchanged": "Unchanged", "skipped": "Skipped", "failed": "Failed"}
#: The rows filter of the rows with a warning, whatever their outcome (as the API's ``outcome=warning``).
WARNING = "warning"
ROWS_PAGE_SIZE = 50


def door_label(door: str) -> str:
    return DOORS.get(door, door.replace("_", " ").capitalize())


def who_label(started_by: str | None) -> str:
    """``user:anna@x`` -> ``anna@x``; API keys, partner apps and the CLI in words."""
    if not started_by:
        return "Unknown"
    kind, _, rest = started_by.partition(":")
    if kind == "user":
        return rest
    if kind == "tenant":
        return "API key"
    if kind == "platform":
        return "Platform key"
    if kind == "app":
        return f"Partner app {rest.split(' ', 1)[0]}"
    if started_by == "cli":
        return "Command line"
    return started_by


def status_label(job: ImportJob) -> str:
    return STATUSES.get(job.status, job.status.capitalize())


def source_label(job: ImportJob) -> str:
    """What came in: the file's name, the partner app, or the number of records."""
    summary, options = job.summary or {}, job.options or {}
    if summary.get("filename"):
        return str(summary["filename"])
    if options.get("app"):
        return f"From {options['app']}"
    if job.door == "csv":
        return "Uploaded file"
    return f"{job.total:,} record{'' if job.total == 1 else 's'}"


def percent(job: ImportJob) -> int:
    if job.total:
        return min(100, int(100 * job.done / job.total))
    return 100 if job.status in TERMINAL else 0


def can_undo(job: ImportJob) -> bool:
    return job.status in TERMINAL and not job.dry_run and job.undone_at is None and (job.created + job.updated) > 0


def active(job: ImportJob) -> bool:
    return job.status not in TERMINAL


def progress_context(job: ImportJob, queue_position: int | None, view: str) -> dict[str, Any]:
    """What ``imports/_progress.html`` shows; ``view`` is "dialog" or "page"."""
    return {"job": job, "queue_position": queue_position, "view": view, "percent": percent(job), "active": active(job)}


@dataclass(frozen=True)
class ImportFilters:
    """The Imports list's query: a door, a page."""

    door: str = ""

    @classmethod
    def parse(cls, door: str | None) -> ImportFilters:
        value = (door or "").strip()
        return cls(value if value in DOORS else "")

    def page_href(self, page: int) -> str:
        params: dict[str, Any] = {"door": self.door, "page": page}
        query = urlencode({k: v for k, v in params.items() if v and not (k == "page" and v == 1)})
        return "/imports" + (f"?{query}" if query else "")


@dataclass(frozen=True)
class RowFilters:
    """One import's rows: an outcome, a page."""

    job_id: str
    outcome: str = ""

    @classmethod
    def parse(cls, job_id: str, outcome: str | None) -> RowFilters:
        value = (outcome or "").strip()
        return cls(job_id, value if value in (*ACTIONS, WARNING) else "")

    def href(self, outcome: str | None = None, page: int = 1) -> str:
        chosen = self.outcome if outcome is None else outcome
        params: dict[str, Any] = {"outcome": chosen, "page": page}
        query = urlencode({k: v for k, v in params.items() if v and not (k == "page" and v == 1)})
        return f"/imports/{self.job_id}" + (f"?{query}" if query else "")

    def page_href(self, page: int) -> str:
        return self.href(page=page)


@dataclass(frozen=True)
class RowView:
    """One row's outcome: where it came from, what happened, why."""

    index: int
    line: int | None
    key: str
    action: str
    client_id: str | None
    errors: list[tuple[str, str]]
    warnings: list[tuple[str, str]]  # (label or "", message), as errors
    changes: list[tuple[str, str, str]]
    client_exists: bool = True


def row_view(row: ImportRow, label: Callable[[str], str], value: Callable[[Any], str], exists: bool = True) -> RowView:
    """``label`` names a field for people (``firstName`` -> ``First name``); ``value`` writes a
    value as the client's page does (``templating.value_text``: one date format everywhere)."""
    errors = [(label(str(e["field"])) if e.get("field") else "", str(e.get("message") or "")) for e in row.errors or []]
    warnings = [(label(str(w["field"])) if w.get("field") else "", str(w.get("message") or "")) for w in row.warnings or []]
    if not warnings:  # a row stored before warnings were structured has them only in its messages
        warnings = [("", str(m)) for m in (row.messages or [])[len(errors) :]]
    changes = [
        (label(name), value(change.get("before")), value(change.get("after")))
        for name, change in (row.changes or {}).items()
        if isinstance(change, dict)
    ]
    return RowView(row.row_index, row.line, row.lookup_key or "", row.action, row.client_id, errors, warnings, changes, exists)


def summary_items(job: ImportJob) -> list[tuple[str, str]]:
    """How a file was read: kind, encoding, delimiter, sheet, records."""
    summary = job.summary or {}
    if not summary:
        return []
    kind = str(summary.get("kind") or "")
    items = [("File", str(summary.get("filename") or "")), ("Format", kind.upper() if kind in ("csv", "ods", "xls", "xlsx") else kind)]
    if summary.get("encoding"):
        items.append(("Encoding", str(summary["encoding"]).upper() + (" with BOM" if summary.get("bom") else "")))
    if summary.get("delimiter"):
        items.append(
            ("Delimiter", {",": "Comma", ";": "Semicolon", "\t": "Tab", "|": "Pipe"}.get(summary["delimiter"], summary["delimiter"]))
        )
    if summary.get("sheet"):
        items.append(("Sheet", str(summary["sheet"])))
    if summary.get("records") is not None:
        items.append(("Records", f"{int(summary['records']):,}"))
    if summary.get("blankRecords"):
        items.append(("Blank records skipped", f"{int(summary['blankRecords']):,}"))
    return [(label, value) for label, value in items if value]


@dataclass(frozen=True)
class LeftAlone:
    """A client (or some of its fields) an undo leaves as it is, and why."""

    client_id: str
    key: str
    fields: list[str]  # labels; empty: the whole client
    reason: str
    later: list[tuple[str, str]]  # (import id, what it was) of the imports that changed it since
    exists: bool


@dataclass(frozen=True)
class UndoView:
    """What an undo does (preview) or did, with the rows' keys (emails) in place of client ids."""

    counts: UndoCounts
    deleted: list[str]
    restored: list[tuple[str, str, list[str]]]  # (client id, key, fields)
    left: list[LeftAlone]

    @property
    def nothing(self) -> bool:
        return not (self.deleted or self.restored or self.left)

    @property
    def expect(self) -> dict[str, int]:
        """The counts a confirmation posts back (``undo(expect=...)`` refuses if they moved)."""
        return {"expect_deleted": self.counts.deleted, "expect_restored": self.counts.restored, "expect_left_alone": self.counts.left_alone}
