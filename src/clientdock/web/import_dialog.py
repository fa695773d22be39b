"""The Import dialog's steps: attach a file, check its mapping with a dry run, start it.

Each step answers with the fragment that replaces ``#import-step`` (or, after a dropdown
changes, ``#dry-run``); a request without htmx gets the same step as a whole page. The routes
that receive a file or wait for a dry run resolve the user in a short transaction of their own
(``ShortUser``): nothing holds the database while a file arrives or a job runs.

A refusal of the file (too large, not a table, no email column...) is part of the step's
answer, with a 200 for htmx (so it is swapped in) and its own status otherwise.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from clientdock.blobs import store_for
from clientdock.clients.export import template_lines
from clientdock.db import Database, bind_tenant
from clientdock.deps import Db, DbSession
from clientdock.errors import ClientdockError, ValidationFailed
from clientdock.imports import upload
from clientdock.imports.deps import AppSettings, Engine, Waiters
from clientdock.imports.respond import WaiterCap
from clientdock.jobs.engine import JobEngine
from clientdock.pipeline.existing import OnExisting
from clientdock.settings import Settings
from clientdock.tenants.context import load_context
from clientdock.users.service import SignedIn
from clientdock.web import auth, import_flow, import_review, uploads
from clientdock.web.auth import CheckedShortUser, CurrentUser, ShortUser
from clientdock.web.import_flow import FileColumns
from clientdock.web.routing import PageRoute
from clientdock.web.templating import is_htmx, render
from clientdock.web.uploads import KeptUpload

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Token = Annotated[str, Form(max_length=64)]


def dialog_context(settings: Settings, row_limit: int) -> dict[str, Any]:
    """What the dialog's first step shows: the tenant's record limit and the upload limit."""
    return {"row_limit": row_limit, "max_upload_mb": max(1, settings.max_upload_bytes // (1024 * 1024))}


def _step(request: Request, name: str, *, status: int = 200, headers: dict[str, str] | None = None, **context: Any) -> Response:
    """A step of the dialog: the fragment for htmx, else the step on a page of its own."""
    context.setdefault("field_choices", import_flow.FIELD_CHOICES)
    context.setdefault("existing_choices", import_flow.ON_EXISTING)
    if is_htmx(request):
        return render(request, name, status=200, headers=headers, **context)
    return render(
        request, "imports/dialog_page.html", status=status, headers=headers, step=name, nav="clients", title="Import clients", **context
    )


def _upload_step(
    request: Request, db: Database, settings: Settings, user: SignedIn, error: ClientdockError | None = None, *, restart: bool = False
) -> Response:
    """The first step, saying why the file was refused. ``restart``: the request came from a
    later step, whose region htmx is told to leave for the whole step."""
    with db.session() as session:
        bind_tenant(session, user.tenant.id)
        row_limit = int(load_context(session, user.tenant).setting("importRowLimit"))
    headers = {"HX-Retarget": "#import-step", "HX-Reswap": "innerHTML"} if restart else None
    status = error.status if error else 200
    message = import_flow.refusal_text(error) if error else ""
    context = dialog_context(settings, row_limit)
    return _step(request, "imports/_step_upload.html", status=status, headers=headers, error=message, **context)


@router.get("/clients/import/template.csv")
def import_template(user: CurrentUser) -> StreamingResponse:
    """The API's template (``csv_door.import_template``), for a signed-in browser."""
    headers = {"Content-Disposition": 'attachment; filename="clients-import-template.csv"'}
    return StreamingResponse(template_lines(), media_type="text/csv; charset=utf-8", headers=headers)


@router.get("/clients/import")
def import_page(request: Request, session: DbSession, user: CurrentUser, settings: AppSettings) -> Response:
    """The dialog's first step (a page without script; htmx asks for the fragment)."""
    row_limit = int(load_context(session, user.tenant).setting("importRowLimit"))
    return _step(request, "imports/_step_upload.html", error="", **dialog_context(settings, row_limit))


@router.post("/clients/import/upload")
@upload.streams_upload
async def upload_file(request: Request, user: ShortUser, db: Db, engine: Engine, settings: AppSettings, cap: Waiters) -> Response:
    # htmx sends the token as a header: a forged upload is refused before its body is read.
    header_token = request.headers.get(auth.CSRF_HEADER)
    if header_token is not None:
        auth.require_token(user, header_token)
    await run_in_threadpool(uploads.sweep, engine.blobs, settings, user.tenant.id)
    try:
        received = await upload.receive(request, uploads.folder(settings, user.tenant.id), settings.max_upload_bytes)
    except ClientdockError as exc:
        return await run_in_threadpool(_upload_step, request, db, settings, user, exc)
    try:
        if header_token is None:
            auth.require_token(user, received.fields.get("csrf_token"))
    except BaseException:
        received.path.unlink(missing_ok=True)
        raise
    kept = await run_in_threadpool(uploads.keep, engine.blobs, user.tenant.id, received)
    return await run_in_threadpool(_check, request, db, engine, settings, cap, user, kept)


@router.get("/clients/import/upload-form")
def upload_form(request: Request, user: ShortUser, db: Db, settings: AppSettings) -> Response:
    return _upload_step(request, db, settings, user)


@router.post("/clients/import/preview")
async def preview(
    request: Request, user: CheckedShortUser, db: Db, engine: Engine, settings: AppSettings, cap: Waiters, token: Token
) -> Response:
    """The dropdowns (or the "Existing clients" choice) changed: check the file again as they show."""
    form = await request.form()
    picked = {key: value for key, value in form.items() if key.startswith("col-") and isinstance(value, str)}
    existing = form.get("onExisting")
    return await run_in_threadpool(
        _recheck, request, db, engine, settings, cap, user, token, picked, existing if isinstance(existing, str) else None
    )


@router.post("/clients/import/fix")
async def fix_row(
    request: Request,
    user: CheckedShortUser,
    db: Db,
    engine: Engine,
    settings: AppSettings,
    cap: Waiters,
    token: Token,
    dry_run: Annotated[str, Form(max_length=64)],
    row: Annotated[int, Form(ge=1)],
) -> Response:
    """A row of the review grid was corrected: keep its cells with the file and check again."""
    form = await request.form()
    cells = {key.removeprefix("cell-"): value for key, value in form.items() if key.startswith("cell-") and isinstance(value, str)}
    return await run_in_threadpool(_fix, request, db, engine, settings, cap, user, token, dry_run, row, cells)


@router.get("/clients/import/dry-runs/{job_id}")
def dry_run_status(request: Request, job_id: str, token: str, user: ShortUser, db: Db, settings: AppSettings) -> Response:
    """The dry run the dialog is waiting for (polled every second until it ends)."""
    try:
        kept = uploads.find(store_for(settings, db), user.tenant.id, token)
    except ClientdockError as exc:
        return _upload_step(request, db, settings, user, exc, restart=True)
    found = import_flow.load_dry_run(db, user.tenant, job_id)
    return _step(request, "imports/_dry_run.html", kept=kept, dry=found, error=None, missing=[], twice=[], oob_footer=True)


@router.post("/clients/import/start")
def start(
    request: Request,
    user: CheckedShortUser,
    db: Db,
    engine: Engine,
    settings: AppSettings,
    token: Token,
    dry_run: Annotated[str, Form(max_length=64)],
    on_existing: Annotated[str | None, Form(alias="onExisting", max_length=16)] = None,
) -> Response:
    """Import the file as its last check showed it (the same file, mapping and corrections),
    treating clients already in the list as the "Existing clients" choice says."""
    checked = import_flow.load_dry_run(db, user.tenant, dry_run)
    try:
        existing = import_flow.on_existing(on_existing if on_existing is not None else checked.on_existing)
        kept = uploads.find(store_for(settings, db), user.tenant.id, token)
        job_id = import_flow.start(db, engine, settings, user, kept, checked.job, existing)
    except ClientdockError as exc:
        return _upload_step(request, db, settings, user, exc, restart=True)
    progress = import_flow.load_progress(db, user.tenant, job_id)
    return _step(request, "imports/_step_progress.html", **progress.context("dialog"))


# --- the checks ---------------------------------------------------------------------------


def _check(
    request: Request, db: Database, engine: JobEngine, settings: Settings, cap: WaiterCap, user: SignedIn, kept: KeptUpload
) -> Response:
    """Step 2 after an upload: the columns and the dry run with the mapping of the last import
    of a file with the same headers, else the automatic one."""
    try:
        columns = import_flow.read_columns(kept)
        remembered = import_flow.remembered(db, user.tenant, columns.info.header)
        if remembered is not None:
            try:
                columns = import_flow.read_columns(kept, remembered)
            except ValidationFailed:  # a field that is no more: matched automatically instead
                remembered = None
    except ClientdockError as exc:
        uploads.forget(store_for(settings, db), kept)
        return _upload_step(request, db, settings, user, exc)
    mapping = columns.mapping() if remembered is not None else None
    context = _dry_run_context(db, engine, settings, cap, user, kept, columns, mapping, "update")
    if context["fatal"] is not None:
        uploads.forget(store_for(settings, db), kept)
        return _upload_step(request, db, settings, user, context["fatal"])
    return _step(
        request, "imports/_step_preview.html", columns=columns.columns, info=columns.info, remembered=remembered is not None, **context
    )


def _recheck(
    request: Request,
    db: Database,
    engine: JobEngine,
    settings: Settings,
    cap: WaiterCap,
    user: SignedIn,
    token: str,
    picked: dict[str, str],
    existing: str | None,
) -> Response:
    try:
        kept = uploads.find(store_for(settings, db), user.tenant.id, token)
        columns = import_flow.read_columns(kept).chosen(picked)
        choice = import_flow.on_existing(existing)
    except ClientdockError as exc:
        return _upload_step(request, db, settings, user, exc, restart=True)
    context = _dry_run_context(db, engine, settings, cap, user, kept, columns, columns.mapping(), choice)
    if context["fatal"] is not None:
        return _upload_step(request, db, settings, user, context["fatal"], restart=True)
    if is_htmx(request):
        return _step(request, "imports/_dry_run.html", oob_footer=True, columns=columns.columns, **context)
    return _step(request, "imports/_step_preview.html", columns=columns.columns, info=columns.info, remembered=False, **context)


def _fix(
    request: Request,
    db: Database,
    engine: JobEngine,
    settings: Settings,
    cap: WaiterCap,
    user: SignedIn,
    token: str,
    dry_run: str,
    row: int,
    cells: dict[str, str],
) -> Response:
    """Keep the corrected cells of ``row`` with the kept file, then check it again with the
    mapping and choice of the check the grid belonged to."""
    try:
        checked = import_flow.load_dry_run(db, user.tenant, dry_run)
        kept = uploads.find(store_for(settings, db), user.tenant.id, token)
        kept = uploads.with_fixes(store_for(settings, db), kept, row, import_review.corrected_cells(checked.job, cells))
        columns = import_flow.read_columns(kept, import_flow.explicit_mapping(checked.job))
    except ClientdockError as exc:
        return _upload_step(request, db, settings, user, exc, restart=True)
    mapping = import_flow.explicit_mapping(checked.job)
    context = _dry_run_context(db, engine, settings, cap, user, kept, columns, mapping, checked.on_existing)
    if context["fatal"] is not None:
        return _upload_step(request, db, settings, user, context["fatal"], restart=True)
    if is_htmx(request):
        return _step(request, "imports/_dry_run.html", oob_footer=True, **context)
    return _step(request, "imports/_step_preview.html", columns=columns.columns, info=columns.info, remembered=False, **context)


def _dry_run_context(
    db: Database,
    engine: JobEngine,
    settings: Settings,
    cap: WaiterCap,
    user: SignedIn,
    kept: KeptUpload,
    columns: FileColumns,
    mapping: dict[str, str] | None,
    existing: OnExisting,
) -> dict[str, Any]:
    """Start the dry run and wait a little for it. A refusal about the mapping (a required
    column missing, a field picked twice) is shown beside the dropdowns; any other refusal of
    the file is ``fatal``: the dialog goes back to the first step and says why."""
    context: dict[str, Any] = {
        "kept": kept, "dry": None, "error": None, "missing": [], "fatal": None, "twice": columns.twice(),
        "on_existing": existing,
    }  # fmt: skip
    try:
        job_id = import_flow.dry_run(db, engine, settings, user, kept, mapping, existing)
    except ClientdockError as exc:
        missing = import_flow.missing_columns(exc)
        if missing or any(error.field == "mapping" for error in exc.errors):
            context.update(error=exc, missing=missing)
        else:
            context["fatal"] = exc
        return context
    import_flow.wait(db, cap, user.tenant, job_id)
    context["dry"] = import_flow.load_dry_run(db, user.tenant, job_id)
    return context
