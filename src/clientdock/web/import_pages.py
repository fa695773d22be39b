"""The Imports list and one import's page: progress, counts, rows, error report, undo."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from clientdock.deps import DbSession
from clientdock.errors import NotFound
from clientdock.imports import service
from clientdock.imports.deps import AppSettings
from clientdock.imports.undo import CountsChanged, UndoCounts
from clientdock.notify import service as notify
from clientdock.tenants.context import TenantContext, load_context
from clientdock.users.service import SignedIn
from clientdock.web import import_flow, import_queries, views
from clientdock.web import import_views as iv
from clientdock.web.auth import CheckedUser, CurrentUser
from clientdock.web.import_dialog import dialog_context
from clientdock.web.routing import PageRoute
from clientdock.web.templating import is_htmx, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
LIST = "import-list"
ROWS = "import-rows"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _ctx(session: Session, user: SignedIn) -> TenantContext:
    return load_context(session, user.tenant)


def _wants(request: Request, target: str) -> bool:
    return is_htmx(request) and request.headers.get("hx-target") == target


@router.get("/imports")
def imports_page(
    request: Request, session: DbSession, user: CurrentUser, settings: AppSettings, door: str | None = None, page: str | None = None
) -> Response:
    ctx = _ctx(session, user)
    filters = iv.ImportFilters.parse(door)
    listing = import_queries.import_list(session, ctx, filters, views.page_number(page))
    name = "imports/_list.html" if _wants(request, LIST) else "imports/index.html"
    context = {**listing.context(filters), **dialog_context(settings, int(ctx.setting("importRowLimit")))}
    return render(request, name, headers={"Vary": "HX-Request, HX-Target"}, nav="imports", title="Imports", **context)


@router.get("/imports/{job_id}")
def import_page(
    job_id: str,
    request: Request,
    session: DbSession,
    user: CurrentUser,
    outcome: str | None = None,
    page: str | None = None,
    notification: str | None = None,
) -> Response:
    ctx = _ctx(session, user)
    filters = iv.RowFilters.parse(job_id, outcome)
    detail = import_queries.import_detail(session, ctx, job_id, filters, views.page_number(page))
    if notification:
        _mark_read(session, user, notification)
    name = "imports/_rows.html" if _wants(request, ROWS) else "imports/detail.html"
    headers = {"Vary": "HX-Request, HX-Target"}
    return render(request, name, headers=headers, nav="imports", title=iv.source_label(detail.job), **detail.context())


def _mark_read(session: Session, user: SignedIn, notification_id: str) -> None:
    """Opening an import from its notification reads the notification."""
    try:
        notify.mark_read(session, user.tenant.id, notification_id[:64])
    except NotFound:
        pass


@router.get("/imports/{job_id}/progress")
def import_progress(job_id: str, request: Request, session: DbSession, user: CurrentUser, view: str = "dialog") -> Response:
    """The progress bar, polled every second while the import runs. The answer that finds it
    ended tells the page (``HX-Trigger: import-finished``: the bell looks for its notification
    at once) and, on the import's own page, reloads it to show the rows and Undo."""
    job, position = import_queries.job_progress(session, _ctx(session, user), job_id)
    headers: dict[str, str] = {}
    if not iv.active(job):
        headers["HX-Trigger"] = "import-finished"
        if view == "page" and is_htmx(request):
            headers["HX-Refresh"] = "true"
    context = iv.progress_context(job, position, "page" if view == "page" else "dialog")
    return render(request, "imports/_progress.html", headers=headers, **context)


@router.get("/imports/{job_id}/errors.csv")
def import_errors(job_id: str, session: DbSession, user: CurrentUser) -> StreamingResponse:
    """The failed rows as they came in plus a reason column (``imports.service.errors_csv``)."""
    job = service.get_job(session, _ctx(session, user), job_id)
    lines = list(service.errors_csv(session, job))  # read before the request's transaction ends
    stem = _UNSAFE.sub("-", str((job.summary or {}).get("filename") or "").rsplit(".", 1)[0]).strip("-.")[:80]
    name = f"{stem}-errors.csv" if stem else f"import-{job.id}-errors.csv"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return StreamingResponse(iter(lines), media_type="text/csv; charset=utf-8", headers=headers)


@router.get("/imports/{job_id}/undo")
def undo_confirmation(job_id: str, request: Request, session: DbSession, user: CurrentUser) -> Response:
    """The Undo confirmation's counts: what undoing would do now (run and rolled back)."""
    job, plan = import_queries.undo_preview(session, _ctx(session, user), job_id)
    return render(request, "imports/_undo_confirm.html", job=job, plan=plan, changed=False, shown=import_queries.UNDO_SHOWN)


@router.post("/imports/{job_id}/undo")
def undo_import(
    job_id: str,
    request: Request,
    session: DbSession,
    user: CheckedUser,
    expect_deleted: Annotated[int | None, Form(ge=0)] = None,
    expect_restored: Annotated[int | None, Form(ge=0)] = None,
    expect_left_alone: Annotated[int | None, Form(ge=0)] = None,
) -> Response:
    """Undo what the confirmation said; if the counts moved since, nothing is undone and the
    confirmation comes back with the new counts."""
    ctx = _ctx(session, user)
    expect = None
    if expect_deleted is not None and expect_restored is not None and expect_left_alone is not None:
        expect = UndoCounts(expect_deleted, expect_restored, expect_left_alone)
    try:
        job, undone = import_queries.undo(session, ctx, job_id, import_flow.actor(user), expect)
    except CountsChanged:
        if not is_htmx(request):
            raise  # the error page says what undo would do now; nothing was undone
        job, plan = import_queries.undo_preview(session, ctx, job_id)
        headers = {"HX-Retarget": "#undo-confirm", "HX-Reswap": "innerHTML"}
        shown = import_queries.UNDO_SHOWN
        return render(request, "imports/_undo_confirm.html", headers=headers, job=job, plan=plan, changed=True, shown=shown)
    detail = import_queries.import_detail(session, ctx, job_id, iv.RowFilters(job_id), 1)
    context: dict[str, Any] = {**detail.context(), "undo": undone}
    if is_htmx(request):
        return render(request, "imports/_undo.html", **{**context, "can_undo": False})
    return render(request, "imports/detail.html", nav="imports", title=iv.source_label(job), **context)
