"""Thin HTTP for the doors of our own API and for import jobs.

The single-record door (create, PATCH, the S2 upsert, delete), the file door (S3), the bulk
door (S4), and the jobs every door makes: list, status, rows, error report, cancel, undo.
Every route uses the request's session, which commits when the route returns; the routes
with the hybrid answer commit it before they wait (``respond.answer``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from clientdock.clients.export import template_lines
from clientdock.clients.repository import client_body
from clientdock.clients.schemas import Client, ClientCreate, ClientFields, ClientUpsert, UpsertedClient, present_fields
from clientdock.db import bind_tenant
from clientdock.deps import Db, DbSession, ReadSession
from clientdock.errors import ValidationFailed
from clientdock.imports import bulk, enrich, files, respond, service, single, undo, upload
from clientdock.imports.deps import AppSettings, Engine, OnExistingQuery, Waiters
from clientdock.imports.schemas import (
    IMPORT_DESCRIPTION,
    IMPORT_FORM,
    BulkResult,
    ImportJob,
    ImportJobPage,
    ImportRowPage,
    UndoPreview,
    UndoResult,
    job_json,
    row_json,
)
from clientdock.jobs.models import ImportJob as ImportJobModel
from clientdock.jobs.service import queue_positions
from clientdock.pipeline.existing import parse_on_existing
from clientdock.pipeline.records import Ref
from clientdock.problems import bad_gateway
from clientdock.tenants.auth import ClientsRead, ClientsWrite, ImportsWrite, KeyImportsWrite

router = APIRouter()
#: An action, or "warning": the rows with a warning whatever their action.
Outcome = Literal["created", "updated", "unchanged", "skipped", "failed", "warning"]
OptionalText = Annotated[str | None, Query()]
JOBS = "/tenants/{tenant}/imports"
CLIENTS = "/tenants/{tenant}/clients"
CSV_TEXT: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "A CSV file (UTF-8)"}
}

# --- the single-record door ------------------------------------------------------------------


@router.post(CLIENTS, status_code=201, tags=["clients"], summary="Create a client", response_model=Client)
def create_client(body: ClientCreate, session: DbSession, scope: ClientsWrite) -> dict[str, Any]:
    refs = [Ref(r.source.strip(), r.external_id.strip(), (r.language or "").strip()) for r in body.external_refs or []]
    outcome = single.create(session, scope.ctx, present_fields(body), refs, actor=scope.actor)
    assert outcome.client_id is not None
    return client_body(session, scope.ctx, outcome.client_id)


@router.post(
    f"{CLIENTS}/upsert",
    tags=["clients"],
    summary="Upsert a client by trackingId (S2)",
    description=(
        "Creates the client when no client of the tenant has this trackingId (201, result=created), "
        "else updates it (200, result=updated). Omitted fields are unchanged; tags [] clears; "
        "clientGroupId defaults to the Unassigned group on create. Idempotent. `onExisting` decides what happens to "
        "an existing client: `update` (default), `fillEmpty` (only its empty fields are written) or `skip` (200, "
        "result=skipped, the client as it is); another value is 400 naming `onExisting`. "
        "A dateOfBirth, type or gender that cannot be read does not fail the call: the client is written without it "
        "(a phone that will not parse is kept as given, without E.164) and `warnings` names each field and value."
    ),
    response_model=UpsertedClient,
    responses={201: {"description": "created", "model": UpsertedClient}, 200: {"description": "updated"}},
)
def upsert_client(
    body: ClientUpsert, db: Db, scope: ClientsWrite, response: Response, on_existing: OnExistingQuery = None
) -> dict[str, Any]:
    # Its own session, committed here before the answer is sent: the write lock (SQLite) and the
    # connection are held for the work alone, not for the hops back through the event loop.
    wanted = parse_on_existing(on_existing)
    with db.session() as session:
        bind_tenant(session, scope.tenant_id)
        outcome = single.upsert(session, scope.ctx, present_fields(body), actor=scope.actor, on_existing=wanted)
        assert outcome.client_id is not None
        client = client_body(session, scope.ctx, outcome.client_id)
    response.status_code = 201 if outcome.action == "created" else 200
    result = outcome.action if outcome.action in ("created", "skipped") else "updated"
    return {**client, "result": result, "warnings": [w.as_dict() for w in outcome.warnings]}


@router.patch(
    f"{CLIENTS}/{{client_id}}",
    tags=["clients"],
    summary="Change a client (omitted fields unchanged)",
    response_model=Client,
    responses={409: {"description": "Another client of the tenant already has this email or reference; `errors` names the field"}},
)
def patch_client(client_id: str, body: ClientFields, session: DbSession, scope: ClientsWrite) -> dict[str, Any]:
    single.patch(session, scope.ctx, client_id, present_fields(body), actor=scope.actor)
    return client_body(session, scope.ctx, client_id)


@router.delete(f"{CLIENTS}/{{client_id}}", status_code=204, tags=["clients"], summary="Delete a client", response_class=Response)
def delete_client(client_id: str, session: DbSession, scope: ClientsWrite) -> Response:
    single.delete(session, scope.ctx, client_id, actor=scope.actor)
    return Response(status_code=204)


@router.post(
    f"{CLIENTS}/{{client_id}}/enrich",
    tags=["enrichment"],
    summary="Enrich a client from Companies House (register data, key dates, officers)",
    description=(
        "Asks the register for the client's company number (normalised to 8 characters), or, without one, for the one "
        "active company whose name is exactly the client's. Writes `enrichment` (shown as `companiesHouse` and `keyDates`), "
        "the active officers as `contacts` (other contacts are kept) and a company number found by name; the firm's own "
        "`companyNumber` and `company` are replaced only with `overwrite=true`. A number the register does not know is "
        "recorded as not found. 400 naming `companyNumber` when the register cannot identify the client; 400 when "
        "enrichment is not configured. Answers are cached (`CLIENTDOCK_COMPANIES_HOUSE_CACHE_SECONDS`)."
    ),
    response_model=Client,
    responses=bad_gateway("Companies House"),
)
def enrich_client(
    client_id: str, session: DbSession, db: Db, engine: Engine, settings: AppSettings, scope: ClientsWrite, overwrite: str | None = None
) -> dict[str, Any]:
    enrich.enrich_one(session, db, engine, settings, scope.ctx, client_id, overwrite=files.flag("overwrite", overwrite), actor=scope.actor)
    return client_body(session, scope.ctx, client_id)


@router.post(
    f"{CLIENTS}/enrich",
    tags=["enrichment"],
    summary="Enrich several clients from Companies House, as a job",
    description=(
        'Body `{"clientIds": [...]}` or `{"filter": {"search", "tag", "clientGroupId", "type"}}` (at most 10,000 clients). '
        "Runs as a job with the hybrid answer (201 finished / 202 with `Location`); each client is a row: `updated`, "
        "`unchanged`, or `failed` saying why the register could not identify it."
    ),
    status_code=201,
    response_model=ImportJob,
    responses={
        202: {"description": "still running: the job so far; Location points at it", "model": ImportJob},
        413: {"description": "more than 10,000 clients"},
    },
)
async def enrich_clients(
    request: Request,
    session: DbSession,
    engine: Engine,
    settings: AppSettings,
    cap: Waiters,
    scope: ClientsWrite,
    overwrite: str | None = None,
    body: Any = Body(default=None),
) -> JSONResponse:
    ids = await run_in_threadpool(enrich.client_ids_of, session, scope.ctx, body)
    again = files.flag("overwrite", overwrite)
    job = await run_in_threadpool(lambda: enrich.start(session, engine, settings, scope.ctx, ids, overwrite=again, actor=scope.actor))
    return await run_in_threadpool(respond.answer, request, session, settings, cap, scope.tenant, job.id)


# --- the file door (S3) ------------------------------------------------------------------------


@router.post(
    f"{CLIENTS}/import/csv",
    tags=["csv import"],
    summary="Import clients from a CSV or spreadsheet file (S3)",
    description=IMPORT_DESCRIPTION,
    openapi_extra=IMPORT_FORM,
    status_code=201,
    response_model=ImportJob,
    responses={
        201: {"description": "finished: the job with counts, summary and the first row outcomes"},
        202: {"description": "still running: the job so far; Location points at it", "model": ImportJob},
        413: {"description": "over the byte limit or the tenant's record limit"},
        415: {"description": "not a CSV or macro-free spreadsheet"},
    },
)
@upload.streams_upload
async def import_csv(
    request: Request,
    scope: ImportsWrite,
    session: DbSession,
    engine: Engine,
    settings: AppSettings,
    cap: Waiters,
    mapping: OptionalText = None,
    dry_run: Annotated[str | None, Query(alias="dryRun")] = None,
    encoding: OptionalText = None,
    sheet: OptionalText = None,
    enrich_option: Annotated[str | None, Query(alias="enrich")] = None,
    on_existing: OnExistingQuery = None,
) -> JSONResponse:
    received = await upload.receive(request, files.uploads_dir(settings), settings.max_upload_bytes)
    query = {
        "mapping": mapping, "dryRun": dry_run, "encoding": encoding, "sheet": sheet, "enrich": enrich_option, "onExisting": on_existing,
    }  # fmt: skip
    try:
        wanted = files.file_import(received, query, scope.actor)
        job = await run_in_threadpool(files.submit, session, engine, settings, scope.ctx, wanted)
    except BaseException:
        received.path.unlink(missing_ok=True)
        raise
    return await run_in_threadpool(respond.answer, request, session, settings, cap, scope.tenant, job.id)


@router.get(
    f"{CLIENTS}/import/template.csv",
    tags=["csv import"],
    summary="An import file to fill in: the import columns and an example row",
    description=(
        "The export's columns and those of a postal address (`addresses.postal.line1`, …). It holds no tenant data, so no API key "
        "is needed (the web page links to it)."
    ),
    response_class=StreamingResponse,
    responses=CSV_TEXT,
)
def import_template(tenant: str) -> StreamingResponse:
    headers = {"Content-Disposition": 'attachment; filename="clients-import-template.csv"'}
    return StreamingResponse(template_lines(), media_type="text/csv; charset=utf-8", headers=headers)


# --- the bulk door (S4) ------------------------------------------------------------------------


@router.post(
    "/users/bulk/sourceId",
    tags=["bulk"],
    summary="Bulk upsert clients by source id (S4)",
    description=(
        "Each item is matched by (source, sourceId, language); no match creates, a match updates (omitted fields unchanged). "
        "A parent given in the same request resolves whatever the order. A bad item fails alone (success false, its reasons "
        "in `messages` as `users[i].field: …`). At most 1,000 items (413 above). `changed` is false when an update changed "
        "nothing. The batch is recorded as an import (see `importId`). Beside `users`, `onExisting` decides what a match "
        "does: `update` (default), `fillEmpty` (only the client's empty fields are written) or `skip` (action `skipped`, "
        "the client as it is, a message says so); another value is 400 naming `onExisting`."
    ),
    response_model=BulkResult,
    responses={413: {"description": "More items than the bulk limit (1,000 by default)"}},
)
def bulk_upsert_by_source_id(
    session: DbSession,
    scope: KeyImportsWrite,
    settings: AppSettings,
    engine: Engine,
    body: Any = Body(...),
    enrich_option: Annotated[str | None, Query(alias="enrich", description="companies-house: enrich the companies it creates")] = None,
) -> dict[str, Any]:
    users = bulk.users_of(body, settings.bulk_batch_limit)
    on_existing = bulk.on_existing_of(body)
    options = enrich.options(settings, enrich.wanted(enrich_option))
    return bulk.upsert(session, engine, scope.ctx, users, scope.actor, options=options, on_existing=on_existing)


# --- jobs ----------------------------------------------------------------------------------------


@router.get(JOBS, tags=["imports"], summary="Imports of every door, newest first", response_model=ImportJobPage)
def list_imports(
    session: ReadSession,
    scope: ClientsRead,
    door: str | None = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(alias="pageSize", ge=1, le=200)] = 50,
    previews: Annotated[
        str | None, Query(description="true: also list the web import dialog's checks (dry runs with preview true), hidden by default")
    ] = None,
) -> dict[str, Any]:
    jobs, total = service.list_jobs(session, scope.ctx, page, page_size, door, previews=files.flag("previews", previews))
    positions = queue_positions(session, scope.ctx, [j.id for j in jobs if j.status == "queued"])
    items = [job_json(session, j, scope.tenant.code, positions) for j in jobs]
    return {"items": items, "total": total, "page": page, "pageSize": page_size}


@router.get(
    f"{JOBS}/{{job_id}}",
    tags=["imports"],
    summary="One import: status, progress, counts, timings, links",
    response_model=ImportJob,
    response_model_exclude_unset=True,
)
def get_import(job_id: str, session: ReadSession, scope: ClientsRead) -> dict[str, Any]:
    return job_json(session, service.get_job(session, scope.ctx, job_id), scope.tenant.code)


@router.get(
    f"{JOBS}/{{job_id}}/rows",
    tags=["imports"],
    summary="Per-row outcomes (paged)",
    description="`outcome` lists the rows of one action, or with `warning` the rows that carry a warning, whatever their action.",
    response_model=ImportRowPage,
)
def list_import_rows(
    job_id: str,
    session: ReadSession,
    scope: ClientsRead,
    outcome: Annotated[Outcome | None, Query(description="created, updated, unchanged, skipped, failed, or warning")] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(alias="pageSize", ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    job = service.get_job(session, scope.ctx, job_id)
    rows, total = service.job_rows(session, job, outcome, page, page_size)
    return {"items": [row_json(r) for r in rows], "total": total, "page": page, "pageSize": page_size}


@router.get(
    f"{JOBS}/{{job_id}}/errors.csv",
    tags=["imports"],
    summary="The failed rows and the rows with a warning as they came in, plus reason and warning columns",
    response_class=StreamingResponse,
    responses=CSV_TEXT,
)
def get_import_errors(job_id: str, session: ReadSession, scope: ClientsRead) -> StreamingResponse:
    job = service.get_job(session, scope.ctx, job_id)
    lines = list(service.errors_csv(session, job))
    headers = {"Content-Disposition": f'attachment; filename="import-{job_id}-errors.csv"'}
    return StreamingResponse(iter(lines), media_type="text/csv; charset=utf-8", headers=headers)


@router.post(
    f"{JOBS}/{{job_id}}/cancel",
    tags=["imports"],
    summary="Cancel a queued or running import (takes effect at the next chunk)",
    response_model=ImportJob,
    response_model_exclude_unset=True,
)
def cancel_import(job_id: str, session: DbSession, engine: Engine, settings: AppSettings, scope: ImportsWrite) -> dict[str, Any]:
    job = service.cancel(session, engine, settings, scope.ctx, job_id)
    return job_json(session, job, scope.tenant.code)


@router.get(
    f"{JOBS}/{{job_id}}/undo",
    tags=["imports"],
    summary="What undoing this import would do now: counts and clients (nothing changes)",
    description=(
        "The undo is run and rolled back, so `counts` are exactly what `POST .../undo` does at this moment. Pass them back as "
        "`expectDeleted`, `expectRestored` and `expectLeftAlone` to have the undo refused (409) if they have changed since."
    ),
    response_model=UndoPreview,
    responses={409: {"description": "The import cannot be undone: not finished, a dry run, or undone already"}},
)
def preview_undo(job_id: str, session: DbSession, scope: ImportsWrite) -> dict[str, Any]:
    job = service.get_job(session, scope.ctx, job_id)
    return _undo_json(session, job, scope.tenant.code, undo.preview(session, scope.ctx, job))


@router.post(
    f"{JOBS}/{{job_id}}/undo", tags=["imports"], summary="Revert a finished import from the audit trail", response_model=UndoResult
)
def undo_import(
    job_id: str,
    session: DbSession,
    scope: ImportsWrite,
    expect_deleted: Annotated[int | None, Query(alias="expectDeleted", ge=0)] = None,
    expect_restored: Annotated[int | None, Query(alias="expectRestored", ge=0)] = None,
    expect_left_alone: Annotated[int | None, Query(alias="expectLeftAlone", ge=0)] = None,
) -> dict[str, Any]:
    job = service.get_job(session, scope.ctx, job_id)
    expect = None
    if expect_deleted is not None and expect_restored is not None and expect_left_alone is not None:
        expect = undo.UndoCounts(expect_deleted, expect_restored, expect_left_alone)
    elif (expect_deleted, expect_restored, expect_left_alone) != (None, None, None):
        raise ValidationFailed("expectDeleted, expectRestored and expectLeftAlone go together: pass all three or none")
    result = undo.undo(session, scope.ctx, job, actor=scope.actor, expect=expect)
    return _undo_json(session, job, scope.tenant.code, result)


def _undo_json(session: Session, job: ImportJobModel, tenant_code: str, result: undo.UndoResult) -> dict[str, Any]:
    return {
        "job": job_json(session, job, tenant_code),
        "counts": result.counts.as_json(),
        "deleted": result.deleted,
        "restored": [{"clientId": k, "fields": v} for k, v in result.restored.items()],
        "conflicts": result.conflicts,
    }
