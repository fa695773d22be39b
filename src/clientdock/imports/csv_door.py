"""S3 over HTTP: upload a CSV or spreadsheet, download the import template and the export.

The upload is streamed to disk (``imports.upload``) and checked in full before anything is
written (``files.submit``); then the hybrid answer of S0.3 waits for the job. No database
transaction is held while the file is received, checked, or waited for.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from clientdock.clients.export import export_lines, template_lines
from clientdock.clients.service import ClientFilter
from clientdock.deps import Db
from clientdock.errors import ValidationFailed
from clientdock.imports import files, respond, upload
from clientdock.imports.deps import AppSettings, Engine, Waiters
from clientdock.imports.files import FileImport
from clientdock.tenants.auth import ClientsRead, ImportsWrite
from clientdock.tenants.context import load_context

router = APIRouter(prefix="/tenants/{tenant}/clients", tags=["csv import"])

OptionalText = Annotated[str | None, Query()]
_TRUE = {"true", "1", "yes", "y", "on"}
_FALSE = {"false", "0", "no", "n", "off", ""}

IMPORT_DESCRIPTION = """
Imports the clients of a CSV file (or an .xlsx/.xls/.ods spreadsheet: the first visible sheet,
or `sheet`) as a job, with the hybrid answer: 201 with the finished job (counts, summary and
the first 100 row outcomes in `rows`) when it finishes within the wait, else 202 with
`Location` (the job; its rows and `errors.csv` are linked from it).

**Form** (multipart/form-data): `file` (required); optional `mapping` (a JSON object
`{"Column header": "clientField"}`; `""` ignores a column), `dryRun` (true: nothing is
written; the answer shows the mapping, the counts and per-field changes before → after),
`encoding` (e.g. `cp1252`; detected otherwise), `sheet`. The options may also be given as
query parameters.

**Refused before anything is written**: over the byte limit (413), not a CSV or a macro-free
spreadsheet by content — executables, archives, xlsm/xlsb, NUL bytes (415), unreadable (400),
no column for `firstName` or `email` after header matching (400 naming them), a bad `mapping`
(400 naming `mapping`), more non-blank records than the tenant's `importRowLimit` (413 naming
the limit and the count).

**Rows**: headers match case-, space- and underscore-insensitively with synonyms (First Name,
Vorname, Prénom, E-mail, Courriel...). `firstName` and `email` are required on every row; a
failing row names the field and its row (record number; `line` is the physical line) and the
others still import. A row matches our client by `ID` (the export's column), then by email
(case-insensitive); two rows with one email: the first wins. An empty cell leaves the field
unchanged (the tenant default on create). A record of only empty cells is skipped (counted in
`summary.blankRecords`); cells beyond the header are reported on their row. Dates: ISO 8601,
or dd/mm/yyyy vs mm/dd/yyyy decided by the whole column (the first unambiguous value, else the
tenant's `dateOrder`), shown in `summary.dateOrder`. A leading apostrophe before `= + - @`
(the formula neutralisation of our own CSVs) is removed, so an export imports back unchanged.
"""


def _option(fields: dict[str, str], name: str, query: str | None) -> str | None:
    value = fields.get(name)
    return value if value is not None else query


def _flag(name: str, value: str | None) -> bool:
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
        dry_run=_flag("dryRun", _option(fields, "dryRun", query["dryRun"])),
        started_by=started_by,
    )


_MULTIPART_BODY: dict[str, Any] = {
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
                        "encoding": {"type": "string", "description": "Text encoding of a CSV, e.g. utf-8, cp1252."},
                        "sheet": {"type": "string", "description": "Sheet of a workbook (default: the first visible one)."},
                    },
                }
            }
        },
    }
}


@router.post(
    "/import/csv",
    summary="Import clients from a CSV or spreadsheet file (S3)",
    description=IMPORT_DESCRIPTION,
    openapi_extra=_MULTIPART_BODY,
    responses={
        201: {"description": "finished: the job with counts, summary and the first row outcomes"},
        202: {"description": "still running: the job so far; Location points at it"},
        413: {"description": "over the byte limit or the tenant's record limit"},
        415: {"description": "not a CSV or macro-free spreadsheet"},
    },
)
async def import_csv(
    request: Request,
    scope: ImportsWrite,
    db: Db,
    engine: Engine,
    settings: AppSettings,
    cap: Waiters,
    mapping: OptionalText = None,
    dry_run: Annotated[str | None, Query(alias="dryRun")] = None,
    encoding: OptionalText = None,
    sheet: OptionalText = None,
) -> JSONResponse:
    received = await upload.receive(request, files.uploads_dir(settings), settings.max_upload_bytes)
    query = {"mapping": mapping, "dryRun": dry_run, "encoding": encoding, "sheet": sheet}
    try:
        wanted = file_import(received, query, scope.actor)
        job_id = await run_in_threadpool(files.submit, db, engine, settings, scope.tenant, wanted)
    except BaseException:
        received.path.unlink(missing_ok=True)
        raise
    render = files.renderer(scope.tenant.code)
    return await run_in_threadpool(respond.answer, request, db, settings, cap, scope.tenant.code, job_id, render)


@router.get(
    "/import/template.csv",
    summary="An import file to fill in: the import columns and an example row",
    description="The same columns as the export. It holds no tenant data, so no API key is needed (the web page links to it).",
    response_class=StreamingResponse,
)
def import_template(tenant: str) -> StreamingResponse:
    headers = {"Content-Disposition": 'attachment; filename="clients-import-template.csv"'}
    return StreamingResponse(template_lines(), media_type="text/csv; charset=utf-8", headers=headers)


@router.get(
    "/export.csv",
    summary="Export clients as CSV (the import's columns; re-uploading it updates them by ID)",
    description=(
        "The clients matching the list filters, ordered by name: ID, firstName, lastName, email, project, desk, active, "
        "type, created, then the other flat fields. Cells starting with = + - @, tab, CR or LF get a leading apostrophe "
        "(formula neutralisation), which the import removes again: re-uploading the file unchanged reports every row "
        "`unchanged`, and an edited cell updates that client (matched by ID). UTF-8 with a byte order mark."
    ),
    response_class=StreamingResponse,
)
def export_clients(
    db: Db,
    scope: ClientsRead,
    search: str | None = None,
    tag: str | None = None,
    client_group_id: Annotated[str | None, Query(alias="clientGroupId")] = None,
    type: str | None = None,
) -> StreamingResponse:
    with db.session() as session:
        ctx = load_context(session, scope.tenant)
    flt = ClientFilter(search=search, tag=tag, client_group_id=client_group_id, type=type)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    headers = {"Content-Disposition": f'attachment; filename="clients-{scope.tenant.code}-{stamp}.csv"'}
    return StreamingResponse(export_lines(db, ctx, flt), media_type="text/csv; charset=utf-8", headers=headers)
