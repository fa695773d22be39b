"""The JSON of imports: a job, its row outcomes, an undo, the S4 bulk answer.

Every door reports the one result shape (:func:`row_json`, from the stored outcome); the
bulk and partner-app doors rename keys only where their seed's wire format asks for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from clientdock.clients.schemas import CamelModel, FieldWarningOut
from clientdock.imports.service import queue_position
from clientdock.jobs.models import ImportJob as ImportJobRow
from clientdock.jobs.models import ImportRow as ImportRowRow
from clientdock.jobs.policy import on_existing_of
from clientdock.pipeline.existing import DOC, ON_EXISTING
from clientdock.pipeline.report import ACTIONS


class Progress(BaseModel):
    done: int
    total: int
    percent: float


class Counts(BaseModel):
    created: int
    updated: int
    unchanged: int
    skipped: int
    failed: int


class JobLinks(BaseModel):
    model_config = ConfigDict(extra="allow")

    self: str
    rows: str
    failedRows: str  # noqa: N815 - wire name
    warnedRows: str  # noqa: N815 - wire name
    errors: str


class FieldErrorOut(BaseModel):
    """A problem located by field (camelCase, or as the door's item named it) and row."""

    model_config = ConfigDict(extra="allow")

    field: str | None
    row: int | None = None
    message: str
    code: str | None = None


class FieldChange(BaseModel):
    """One field of an updated client: its value before the row and the value the row wrote (or, in a dry run, would write)."""

    before: Any = Field(description="The client's value before the row (null: it had none)")
    after: Any = Field(description="The value written, or that a dry run would write")


class ImportRow(CamelModel):
    """One input item's outcome: the one result shape of every door."""

    index: int = Field(description="The record number (files) or the position in the request (0-based)")
    line: int | None = Field(description="The physical line of a file's record")
    lookup_key: str | None
    action: str = Field(description="created, updated, unchanged, skipped or failed")
    id: str | None = Field(description="The client's id")
    messages: list[str] = Field(description="Readable 'field: message' per error, then per warning")
    errors: list[FieldErrorOut]
    warnings: list[FieldWarningOut] = Field(description="{field, value, message}: values the row imported without, other notes")
    changes: dict[str, FieldChange] | None = Field(
        description="An updated row (real or dry run): each field it changes (camelCase) with its value before and after; "
        "under onExisting=fillEmpty only the fields that were empty on the client. Null for other rows."
    )


class ImportRowPage(CamelModel):
    items: list[ImportRow]
    total: int
    page: int
    page_size: int


class PreviewRows(BaseModel):
    items: list[ImportRow]
    total: int
    shown: int


class ImportJob(CamelModel):
    """An import of any door: status, progress, counts, timings and links."""

    model_config = ConfigDict(extra="allow")

    id: str
    job_id: str
    door: str = Field(description="csv, bulk, app, …")
    status: str = Field(description="queued, running, succeeded, failed or cancelled")
    dry_run: bool
    preview: bool = Field(
        default=False, description="A check made while mapping in the web import dialog: a dry run that the import lists leave out"
    )
    on_existing: str = Field(description="What the import does to a client that already exists: update, fillEmpty or skip")
    progress: Progress
    counts: Counts
    warned: int = Field(
        description="Rows, whatever their action in counts, that carry a warning (a date of birth, type or gender left out, "
        "a phone kept as given, other notes); listed by links.warnedRows (rows?outcome=warning)"
    )
    queue_position: int | None = Field(
        description="While queued: 1 + the number of this tenant's queued imports submitted before it (1 = the next of "
        "the tenant's to start); null otherwise"
    )
    started_by: str | None
    created_at: str
    started_at: str | None
    finished_at: str | None
    duration_seconds: float | None
    error: str | None
    undone_at: str | None
    summary: dict[str, Any] = Field(description="How the input was read and mapped (files)")
    links: JobLinks
    rows: PreviewRows | None = Field(default=None, description="A finished file import: its first row outcomes")


class ImportJobPage(CamelModel):
    items: list[ImportJob]
    total: int
    page: int
    page_size: int


class Restored(CamelModel):
    client_id: str
    fields: list[str]


class UndoConflict(CamelModel):
    client_id: str
    field: str | None = Field(description='The field left as it is; "*" for a whole client the undo does not delete')
    reason: str
    later_job_ids: list[str] = Field(default_factory=list, description="The later imports that changed it since")


class UndoCounts(CamelModel):
    deleted: int = Field(description="Clients the import created, deleted by the undo")
    restored: int = Field(description="Clients whose changed fields the undo sets back (some fields may be left, see conflicts)")
    left_alone: int = Field(description="Clients the import created or changed that the undo leaves as they are (changed since)")


class UndoResult(CamelModel):
    job: ImportJob
    counts: UndoCounts
    deleted: list[str] = Field(description="Clients the import created, now deleted")
    restored: list[Restored] = Field(description="Fields the import changed, now back to their earlier values")
    conflicts: list[UndoConflict] = Field(description="What changed since the import and was left as it is")


class UndoPreview(CamelModel):
    job: ImportJob
    counts: UndoCounts = Field(description="What POST .../undo would do now; it is computed by running it and rolling back")
    deleted: list[str] = Field(description="Clients the undo would delete")
    restored: list[Restored] = Field(description="Clients whose fields the undo would set back")
    conflicts: list[UndoConflict] = Field(description="What changed since the import and would be left as it is")


class BulkItem(CamelModel):
    action: str = Field(description="created, updated, skipped (onExisting=skip) or failed")
    id: str | None
    key: str | None = Field(description="The item's sourceId")
    lookup_key: str | None
    success: bool
    changed: bool = Field(description="false when an update changed nothing")
    warnings: list[FieldWarningOut] = Field(description="What the item imported without, named by its key as sent (fullName, …)")


class BulkResult(CamelModel):
    data: list[BulkItem]
    messages: list[str] = Field(description="users[i].field: … for each problem")
    total: int
    import_id: str


def job_json(session: Session, job: ImportJobRow, tenant_code: str, positions: Mapping[str, int] | None = None) -> dict[str, Any]:
    """The job's JSON. ``positions``: the queue positions of a page of jobs, read in one query
    (``jobs.service.queue_positions``); without them the job's own is read."""
    base = f"/tenants/{tenant_code}/imports/{job.id}"
    duration = (job.finished_at - job.started_at).total_seconds() if job.finished_at and job.started_at else None
    percent = round(100 * job.done / job.total, 1) if job.total else (100.0 if job.finished_at else 0.0)
    summary = {k: v for k, v in job.summary.items() if k != "header"}
    position = None
    if job.status == "queued":
        position = positions.get(job.id) if positions is not None else queue_position(session, job)
    return {
        "id": job.id,
        "jobId": job.id,
        "door": job.door,
        "status": job.status,
        "dryRun": job.dry_run,
        "preview": job.preview,
        "onExisting": on_existing_of(job.options or {}),
        "progress": {"done": job.done, "total": job.total, "percent": percent},
        "counts": {action: getattr(job, action) for action in ACTIONS},
        "warned": job.warned,
        "queuePosition": position,
        "startedBy": job.started_by,
        "createdAt": job.created_at.isoformat(),
        "startedAt": job.started_at.isoformat() if job.started_at else None,
        "finishedAt": job.finished_at.isoformat() if job.finished_at else None,
        "durationSeconds": duration,
        "error": job.error,
        "undoneAt": job.undone_at.isoformat() if job.undone_at else None,
        "summary": summary,
        "links": {
            "self": base,
            "rows": f"{base}/rows",
            "failedRows": f"{base}/rows?outcome=failed",
            "warnedRows": f"{base}/rows?outcome=warning",
            "errors": f"{base}/errors.csv",
        },  # fmt: skip
    }


def row_json(row: ImportRowRow) -> dict[str, Any]:
    return {
        "index": row.row_index,
        "line": row.line,
        "lookupKey": row.lookup_key,
        "action": row.action,
        "id": row.client_id,
        "messages": row.messages,
        "errors": row.errors,
        "warnings": row.warnings or [],
        "changes": row.changes or None,
    }


IMPORT_DESCRIPTION = """
Imports the clients of a CSV file (or an .xlsx/.xls/.ods spreadsheet: the first visible sheet,
or `sheet`) as a job, with the hybrid answer: 201 with the finished job (counts, summary and
the first 100 row outcomes in `rows`) when it finishes within the wait, else 202 with
`Location` (the job; its rows and `errors.csv` are linked from it).

**Form** (multipart/form-data): `file` (required); optional `mapping` (a JSON object
`{"Column header": "clientField"}`; `""` ignores a column), `dryRun` (true: nothing is
written; the answer shows the mapping, the counts and per-field changes before → after),
`encoding` (e.g. `cp1252`, honoured strictly; detected otherwise), `sheet`, `onExisting` (what a row that matches
a client does: `update`, the default, writes its values; `fillEmpty` writes only the fields
that are empty on the client; `skip` leaves the client as it is, the row `skipped`; another
value is 400 naming `onExisting`). The options may also be given as query parameters.

**Updates, before → after**: every updated row, in a dry run as in a real import, carries
`changes` (`{"phone": {"before": "…", "after": "…"}}`); list them with
`GET /tenants/{tenant}/imports/{id}/rows?outcome=updated`.

**Refused before anything is written**: over the byte limit (413), not a CSV or a macro-free
spreadsheet by content — executables, archives, xlsm/xlsb, NUL bytes (415), unreadable (400),
empty or only blank lines (400 naming `file`), not wholly valid in one encoding — e.g. UTF-8
except for some lines — (400 naming `encoding`, one error per line, `row` = the line), no
column for the client's name (`firstName`, `name` or `company`; the error names `firstName`)
or for `email` after header matching (400 naming them), a bad `mapping`
(400 naming `mapping`), more non-blank records than the tenant's `importRowLimit` (413 naming
the limit and the count).

**Rows**: headers match case-, space- and underscore-insensitively with synonyms (First Name,
Vorname, Prénom, E-mail, Courriel, Client Name, Company Name, Raison sociale...). A row is an
individual or an organisation: `email` is required on every row, `firstName` of an individual,
`name` of an organisation (every other type; SoleTrader included: its trading name or its
owner's name). The type comes from the `type` column (aliases such as "Private limited
company", "Limited company", "Sole trader", "LLP"), else from the name: a name or company ending
in Ltd/Limited → `PrivateLimitedCompany`, PLC, LLP, Trust, Charity/CIO, Partnership, "& Co" or
"& Partners"; a company number → `PrivateLimitedCompany`; a name or company without a person's
first/last name → `Other`. A type read from the name is given to new clients only (an existing
client keeps its type unless the file has a `type`); a person's row without one gets the
tenant's default type. A company column beside a person's name is their employer. An
individual with only a full name is split: "Ada Lovelace" and "Lovelace, Ada" → first name Ada,
last name Lovelace (the first word is the first name; a leading Mr/Mrs/Dr... becomes the title).
A failing row names the field and its row (record number; `line` is the physical line) and the
others still import. A row matches our client by `ID` (the export's column), then by email
(case-insensitive); two rows with one email: the first wins. A date of birth without a year
or that does not exist, a type or gender not known: the row imports without that value and
carries a warning `{field, value, message}` (a phone that will not parse is kept as given,
without E.164, also with a warning); `warned` counts such rows, `rows?outcome=warning` lists
them, and `errors.csv` (failed and warned rows) has `reason` and `warning` columns in words.
An empty cell leaves the field
unchanged (the tenant default on create). A record of only empty cells is skipped (counted in
`summary.blankRecords`); cells beyond the header are reported on their row. Dates: ISO 8601,
or dd/mm/yyyy vs mm/dd/yyyy decided by the whole column (the first unambiguous value, else the
tenant's `dateOrder`), shown in `summary.dateOrder`. A leading apostrophe before `= + - @`
(the formula neutralisation of our own CSVs) is removed, so an export imports back unchanged.
"""


IMPORT_FORM: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary", "description": "The CSV or spreadsheet."},
                        "mapping": {"type": "string", "description": 'JSON object {"Column header": "clientField"}.'},
                        "dryRun": {"type": "string", "enum": ["true", "false"], "default": "false", "description": "true: write nothing."},
                        "encoding": {
                            "type": "string",
                            "description": "Text encoding of a CSV, e.g. utf-8, cp1252; every byte must decode in it.",
                        },
                        "sheet": {"type": "string", "description": "Sheet of a workbook (default: the first visible one)."},
                        "enrich": {"type": "string", "enum": ["companies-house"], "description": "Enrich the companies it creates."},
                        "onExisting": {"type": "string", "enum": list(ON_EXISTING), "default": "update", "description": DOC},
                    },
                }
            }
        },
    }
}
