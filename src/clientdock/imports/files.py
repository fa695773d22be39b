"""The file door (S3) without HTTP: check an upload, then start its import job.

Used by ``POST /tenants/{tenant}/clients/import/csv`` and by ``clientdock import``. Every
refusal happens in :func:`submit` before anything is written; then the job row, its summary
and its workflow are created in one transaction, and the file moves into the job's folder
(before that transaction commits, so a worker never starts a job without its file).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from clientdock.db import after_rollback
from clientdock.errors import ValidationFailed
from clientdock.imports import enrich, file_records, service, upload
from clientdock.imports.file_records import Survey
from clientdock.imports.upload import too_large
from clientdock.jobs import staging
from clientdock.jobs.engine import JobEngine
from clientdock.jobs.models import ImportJob
from clientdock.pipeline.existing import OPTION, OnExisting, parse_on_existing
from clientdock.pipeline.records import Policy
from clientdock.settings import Settings
from clientdock.tenants.context import TenantContext

DOOR = "csv"
#: Match on our client id (the export's ID column), then email. Every row needs an email; an
#: individual a first name (S3.2), an organisation (any other type) a name. A row's addresses
#: update the client's addresses of the same types only.
CSV_POLICY = Policy(
    match_on=("id", "email"),
    required=("email",),
    required_of_individuals=("firstName",),
    required_of_organisations=("name",),
    addresses_by_type=True,
)


@dataclass(frozen=True)
class FileImport:
    """An upload on disk and how to import it. ``path`` is moved into the job's folder."""

    path: Path
    filename: str | None = None
    mapping: dict[str, str] | None = None
    encoding: str | None = None
    sheet: str | None = None
    dry_run: bool = False
    started_by: str | None = None
    #: Enrich the private limited companies it creates from Companies House once it succeeds.
    enrich: bool = False
    #: What a row that matches a client does (``pipeline.existing``).
    on_existing: OnExisting = "update"


def uploads_dir(settings: Settings) -> Path:
    return settings.data_dir / "uploads"


def check(settings: Settings, ctx: TenantContext, request: FileImport) -> Survey:
    """Every refusal of S3.5/S3.6, before anything is written (see ``file_records.survey``)."""
    if request.path.stat().st_size > settings.max_upload_bytes:
        raise too_large(settings.max_upload_bytes)
    enrich.options(settings, request.enrich)  # 400 now, not after the import, when it cannot enrich
    return file_records.survey(
        request.path,
        filename=request.filename,
        encoding=request.encoding,
        sheet=request.sheet,
        mapping=request.mapping,
        date_order=str(ctx.setting("dateOrder")),
        limit=int(ctx.setting("importRowLimit")),
    )


def submit(session: Session, engine: JobEngine, settings: Settings, ctx: TenantContext, request: FileImport) -> ImportJob:
    """Check the file, then create and enqueue its job in the caller's transaction."""
    return create(session, engine, settings, ctx, request, check(settings, ctx, request))


def create(session: Session, engine: JobEngine, settings: Settings, ctx: TenantContext, request: FileImport, found: Survey) -> ImportJob:
    """Create and enqueue the job of a checked file in the caller's transaction; the file moves
    into the job's folder before that transaction commits (and is removed if it rolls back)."""
    policy = replace(CSV_POLICY, on_existing=request.on_existing)
    new = service.NewJob(door=DOOR, policy=policy, options=_options(request, found), dry_run=request.dry_run, started_by=request.started_by)
    job = service.start(session, engine, settings, ctx, new)
    job.total = found.importable
    job.summary = summary(found, request)
    engine.blobs.take(session, file_records.upload_key(job.id), request.path)
    after_rollback(session, lambda: staging.remove(settings.data_dir, job.id))
    return job


def _options(request: FileImport, found: Survey) -> dict[str, Any]:
    """What the worker needs to read the file again exactly as it was surveyed."""
    info = found.info
    return {
        "filename": request.filename,
        "encoding": info.encoding,
        "delimiter": info.delimiter,
        "sheet": info.sheet,
        "mapping": request.mapping,
        "dateOrders": {name: order.order for name, order in found.date_orders.items()},
        **({"enrich": enrich.OPTION} if request.enrich else {}),
    }


def summary(found: Survey, request: FileImport) -> dict[str, Any]:
    """How the file was read and mapped; shown on the job (``header`` only feeds errors.csv)."""
    info, match = found.info, found.match
    return {
        "filename": request.filename,
        "kind": info.kind,
        "encoding": info.encoding,
        "bom": info.bom,
        "delimiter": info.delimiter,
        "newline": info.newline,
        "sheet": info.sheet,
        "headerLine": info.header_line,
        "header": info.header,
        "mapping": match.mapping,
        "explicitMapping": request.mapping,
        "unknownColumns": match.unknown,
        "dateOrder": {name: order.as_json() for name, order in found.date_orders.items()},
        "records": found.records,
        "blankRecords": found.blank,
        "raggedRecords": found.ragged,
        "warnings": _warnings(found),
    }


def _warnings(found: Survey) -> list[str]:
    info, match = found.info, found.match
    out: list[str] = []
    if info.header_line > 1:
        out.append(f"the header was read from line {info.header_line}; the empty lines above it were skipped")
    for header, name in match.guessed.items():
        out.append(f"column {header!r} was taken as {name} (a near match of a known header)")
    for header, name in match.duplicates.items():
        out.append(f"column {header!r} also matches {name}, which an earlier column fills: it was not imported")
    if match.unknown:
        shown = ", ".join(repr(text) for text in match.unknown[:10]) + (", ..." if len(match.unknown) > 10 else "")
        out.append(f"{len(match.unknown)} column(s) were not imported (unknown): {shown}")
    if found.blank:
        out.append(f"{found.blank} blank record(s) were skipped")
    if found.ragged:
        out.append(f"{found.ragged} record(s) have more cells than the header; the extra cells were not imported")
    return out


_TRUE = {"true", "1", "yes", "y", "on"}
_FALSE = {"false", "0", "no", "n", "off", ""}


def _option(fields: dict[str, str], name: str, query: str | None) -> str | None:
    value = fields.get(name)
    return value if value is not None else query


def flag(name: str, value: str | None) -> bool:
    """A true/false option of a form or query (empty is false); 400 naming it otherwise."""
    text = (value or "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValidationFailed.for_field(name, f"{value!r} is not a boolean (use true or false)")


def parse_mapping(value: str | None) -> dict[str, str] | None:
    """The ``mapping`` option: a JSON object of header -> field (null or "" ignores a column)."""
    if value is None or not value.strip():
        return None
    try:
        parsed = json.loads(value)
    except ValueError as exc:
        raise ValidationFailed.for_field("mapping", f"is not valid JSON ({exc.args[0]})") from exc
    if not isinstance(parsed, dict):
        raise ValidationFailed.for_field("mapping", 'must be a JSON object such as {"Given Name": "firstName"}')
    out: dict[str, str] = {}
    for header, name in parsed.items():
        if name is not None and not isinstance(name, str):
            raise ValidationFailed.for_field("mapping", f"the field for column {header!r} must be a string (or null to ignore it)")
        out[header] = name or ""
    return out


def _text_option(name: str, value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    if len(value) > 200:
        raise ValidationFailed.for_field(name, "is longer than 200 characters")
    return value.strip() if name == "encoding" else value


def file_import(received: upload.Received, query: dict[str, str | None], started_by: str) -> FileImport:
    """The upload and its options (form fields win over query parameters)."""
    fields = received.fields
    return FileImport(
        path=received.path,
        filename=received.filename,
        mapping=parse_mapping(_option(fields, "mapping", query["mapping"])),
        encoding=_text_option("encoding", _option(fields, "encoding", query["encoding"])),
        sheet=_text_option("sheet", _option(fields, "sheet", query["sheet"])),
        dry_run=flag("dryRun", _option(fields, "dryRun", query["dryRun"])),
        started_by=started_by,
        enrich=enrich.wanted(_option(fields, "enrich", query.get("enrich"))),
        on_existing=parse_on_existing(_option(fields, OPTION, query.get(OPTION))),
    )
