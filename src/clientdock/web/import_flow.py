"""The Import dialog's steps over the CSV door (no HTTP): read a file's columns, dry-run it
with a mapping, start the import the user confirmed.

Every check and every row goes through the door's own functions (``files.submit``: the
survey, then a job of the one pipeline); this module only keeps the file between steps
(``web.uploads``) and shapes what the dialog shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from itertools import islice
from typing import Any

from clientdock.db import Database, bind_tenant
from clientdock.errors import ClientdockError, FieldError, NotFound
from clientdock.imports import file_mappings, file_records, files, service
from clientdock.imports.file_records import REQUIRED_COLUMNS, is_blank
from clientdock.imports.files import FileImport
from clientdock.imports.respond import WaiterCap, wait_for
from clientdock.jobs import workflow
from clientdock.jobs.engine import JobEngine
from clientdock.jobs.models import ImportJob
from clientdock.jobs.policy import on_existing_of
from clientdock.pipeline.decoding import EncodingRefused
from clientdock.pipeline.existing import OnExisting, parse_on_existing
from clientdock.pipeline.headers import CANONICAL_FIELDS, match_headers
from clientdock.pipeline.parse import TableInfo, open_table
from clientdock.settings import Settings
from clientdock.tenants.context import load_context
from clientdock.tenants.models import Tenant
from clientdock.users.service import SignedIn
from clientdock.web import import_review, import_views, uploads
from clientdock.web.templating import field_label
from clientdock.web.uploads import KeptUpload

#: How long a request waits for a dry run before the dialog polls for it instead.
DRY_RUN_WAIT_SECONDS = 8.0
SAMPLES = 2
_SAMPLE_ROWS = 25
_CHOICE_LABELS = {"id": "Client ID (from an export)", "name": "Client name", "created": "Created", "clientGroupId": "Client group ID"}
#: The mapping dropdown's options: "" (not imported), then every field the header matcher knows.
FIELD_CHOICES: tuple[tuple[str, str], ...] = (
    ("", "Don't import"),
    *sorted(((name, _CHOICE_LABELS.get(name) or field_label(name)) for name in CANONICAL_FIELDS), key=lambda pair: pair[1].casefold()),
)
_FIELDS = frozenset(CANONICAL_FIELDS)
#: What an import does to a client that is already in the list (the job option ``onExisting``).
ON_EXISTING: tuple[tuple[str, str, str], ...] = (
    ("update", "Update them", "Fields in the file replace what the client has."),
    ("fillEmpty", "Fill empty fields only", "Only fields the client has no value for are written."),
    ("skip", "Skip them", "Clients already in your list are left as they are."),
)
#: Rows the review grid and the update preview show at most (fixed rows leave, the next come).
REVIEW_ROWS = 50
UPDATES_SHOWN = 50


def actor(user: SignedIn) -> str:
    """``started_by`` of the jobs a web user starts."""
    return f"user:{user.user.email}"


@dataclass(frozen=True)
class Column:
    """One column of the file as the dialog shows it: its header, a few values, its field."""

    index: int
    header: str
    field: str  # "" = not imported
    samples: list[str]
    repeated: bool = False  # headed like an earlier column: a mapping cannot name it apart

    @property
    def control(self) -> str:
        return f"col-{self.index}"

    @property
    def required(self) -> bool:
        return any(self.field in group for group in REQUIRED_COLUMNS)


@dataclass(frozen=True)
class FileColumns:
    info: TableInfo
    columns: list[Column]

    def chosen(self, form: Mapping[str, str]) -> FileColumns:
        """The columns with the fields picked in the dialog's dropdowns (unknown values ignored)."""
        picked = []
        for column in self.columns:
            value = form.get(column.control)
            if column.repeated or value is None or (value and value not in _FIELDS):
                picked.append(column)
            else:
                picked.append(replace(column, field=value))
        return FileColumns(self.info, picked)

    def mapping(self) -> dict[str, str]:
        """An explicit mapping of every column (header -> field, "" = ignore) for the door."""
        return {column.header: column.field for column in self.columns if not column.repeated}

    def missing(self) -> list[str]:
        """Required fields no column is mapped to ("firstName" standing for any name column)."""
        return file_records.missing_columns([column.field for column in self.columns])

    def twice(self) -> list[str]:
        """Fields picked for more than one column."""
        fields = [column.field for column in self.columns if column.field]
        return sorted({name for name in fields if fields.count(name) > 1})


def read_columns(kept: KeptUpload, mapping: Mapping[str, str] | None = None) -> FileColumns:
    """The file's header with the fields the door would map it to, and a few sample values."""
    info, rows = open_table(kept.path, filename=kept.filename)
    match = match_headers(info.header, mapping)
    samples: list[list[str]] = [[] for _ in info.header]
    for row in islice(rows, _SAMPLE_ROWS):
        if is_blank(row.cells):
            continue
        for index, cell in enumerate(row.cells[: len(samples)]):
            text = cell.strip()
            if text and len(samples[index]) < SAMPLES:
                samples[index].append(text[:60])
    columns = [
        Column(index, header, match.fields[index] or "", samples[index], repeated=header in info.header[:index])
        for index, header in enumerate(info.header)
    ]
    return FileColumns(info, columns)


def on_existing(value: str | None) -> OnExisting:
    """The "Existing clients" choice of the dialog's forms (``onExisting``; "update" when absent)."""
    return parse_on_existing(value or None)


def dry_run(
    db: Database,
    engine: JobEngine,
    settings: Settings,
    user: SignedIn,
    kept: KeptUpload,
    mapping: dict[str, str] | None,
    existing: OnExisting,
) -> str:
    """Check the file with a dry run kept as a preview (nothing is written, Imports does not
    list it); returns the job id."""
    path = uploads.copy_for_job(settings, kept)
    wanted = FileImport(path=path, filename=kept.filename, mapping=mapping, dry_run=True, started_by=actor(user), on_existing=existing)
    try:
        return _submit(db, engine, settings, user, wanted, kept, {}, preview=True)
    finally:
        path.unlink(missing_ok=True)  # the job took it, unless the file was refused


def start(
    db: Database, engine: JobEngine, settings: Settings, user: SignedIn, kept: KeptUpload, checked: ImportJob, existing: OnExisting
) -> str:
    """Start the confirmed import of the kept file as its last check showed it (the same
    mapping and corrections; the job takes the file); returns its id. The mapping is
    remembered for the next file with the same headers."""
    wanted = FileImport(
        path=kept.path, filename=kept.filename, mapping=explicit_mapping(checked), started_by=actor(user), on_existing=existing
    )
    job_id = _submit(db, engine, settings, user, wanted, kept, {"previewId": checked.id}, preview=False)
    uploads.forget(engine.blobs, kept)
    return job_id


def _submit(
    db: Database,
    engine: JobEngine,
    settings: Settings,
    user: SignedIn,
    wanted: FileImport,
    kept: KeptUpload,
    options: dict[str, Any],
    *,
    preview: bool,
) -> str:
    with db.session() as session:
        bind_tenant(session, user.tenant.id)
        job = files.submit(session, engine, settings, load_context(session, user.tenant), wanted)
        job.preview = preview
        job.options = {**job.options, **options, **({"fixes": kept.fixes} if kept.fixes else {})}
        if not preview:
            header = [str(text) for text in job.summary.get("header") or []]
            file_mappings.remember(session, user.tenant.id, header, used_mapping(job))
        return job.id


def used_mapping(job: ImportJob) -> dict[str, str]:
    """Every column of a file job's header with the field it was imported as ("" = not imported)."""
    mapped = job.summary.get("mapping") or {}
    return {str(text): str(mapped.get(text) or "") for text in job.summary.get("header") or []}


def remembered(db: Database, tenant: Tenant, header: list[str]) -> dict[str, str] | None:
    """The mapping of the last import of a file with this header set, if any."""
    with db.session() as session:
        bind_tenant(session, tenant.id)
        return file_mappings.recall(session, tenant.id, header)


def wait(db: Database, cap: WaiterCap, tenant: Tenant, job_id: str, seconds: float = DRY_RUN_WAIT_SECONDS) -> None:
    """Wait a little for one of the tenant's jobs to end (a waiting slot permitting), holding no transaction."""
    with cap as slot:
        if slot:
            with db.session() as session:
                bind_tenant(session, tenant.id)
                wait_for(session, job_id, seconds)


@dataclass(frozen=True)
class DryRun:
    """A dry run as the dialog shows it."""

    job: ImportJob
    review: list[import_review.ReviewRow]
    to_review: int
    updates: list[import_review.Update]
    queue_position: int | None

    @property
    def finished(self) -> bool:
        return self.job.status in workflow.TERMINAL

    @property
    def ok(self) -> bool:
        return self.job.status == "succeeded"

    @property
    def importable(self) -> int:
        job = self.job
        return job.created + job.updated + job.unchanged

    @property
    def on_existing(self) -> OnExisting:
        return on_existing_of(self.job.options or {})

    @property
    def date_orders(self) -> list[tuple[str, str, str]]:
        """(field label, order in words, what decided it) of each date column."""
        orders = self.job.summary.get("dateOrder") or {}
        return [
            (field_label("createdAt" if name == "created" else name), _order_words(str(value.get("order"))), str(value.get("decidedBy")))
            for name, value in orders.items()
            if isinstance(value, dict)
        ]


def _order_words(order: str) -> str:
    return {"DMY": "day/month/year", "MDY": "month/day/year"}.get(order, order)


def load_dry_run(db: Database, tenant: Tenant, job_id: str) -> DryRun:
    with db.session() as session:
        bind_tenant(session, tenant.id)
        job = service.get_job(session, load_context(session, tenant), job_id)
        if job.door != files.DOOR or not job.dry_run:
            raise NotFound(f"no dry run '{job_id}' in this tenant")
        review, to_review = import_review.review_rows(session, job, REVIEW_ROWS)
        updated, _total = service.job_rows(session, job, "updated", 1, UPDATES_SHOWN)
        updates = [import_review.update_of(row) for row in updated if row.changes]
        return DryRun(job, review, to_review, updates, service.queue_position(session, job))


@dataclass(frozen=True)
class Progress:
    job: ImportJob
    queue_position: int | None

    def context(self, view: str) -> dict[str, Any]:
        return import_views.progress_context(self.job, self.queue_position, view)


def load_progress(db: Database, tenant: Tenant, job_id: str) -> Progress:
    with db.session() as session:
        bind_tenant(session, tenant.id)
        job = service.get_job(session, load_context(session, tenant), job_id)
        return Progress(job, service.queue_position(session, job))


def explicit_mapping(job: ImportJob) -> dict[str, str] | None:
    """The mapping a dry run was made with (None: matched automatically)."""
    mapping = job.options.get("mapping")
    return dict(mapping) if isinstance(mapping, dict) else None


def refusal_text(exc: ClientdockError) -> str:
    """Why a file was refused, in the dialog's words: a file over the record limit is said
    without the API's setting name."""
    located = [error for error in exc.errors if error.field == "file"]
    if exc.status == 413 and located:
        return f"The file {located[0].message}. Split it into smaller files and import them one after the other."
    if isinstance(exc, EncodingRefused):
        return f"{exc.problem} Save the whole file as UTF-8 (in Excel: Save as > CSV UTF-8) and choose it again."
    return exc.detail


def missing_columns(exc: ClientdockError) -> list[str]:
    """The required fields a refusal says no column maps to (empty for other refusals)."""
    return [error.field for error in exc.errors if isinstance(error, FieldError) and error.code == "missing" and error.field]
