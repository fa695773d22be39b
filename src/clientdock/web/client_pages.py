"""The Clients list and one client's page: thin HTTP over ``web.queries``."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, StreamingResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from clientdock.clients.export import export_lines
from clientdock.deps import Db, DbSession
from clientdock.errors import ClientdockError
from clientdock.imports import enrich, single
from clientdock.imports.deps import AppSettings, Engine
from clientdock.tenants.context import TenantContext, load_context
from clientdock.users.service import SignedIn
from clientdock.web import queries, views
from clientdock.web.auth import CheckedUser, CurrentUser
from clientdock.web.import_dialog import dialog_context
from clientdock.web.import_flow import actor
from clientdock.web.routing import PageRoute
from clientdock.web.templating import is_htmx, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
RESULTS = "client-results"


def _ctx(session: Session, user: SignedIn) -> TenantContext:
    return load_context(session, user.tenant)


@router.get("/clients")
def clients_page(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    settings: AppSettings,
    search: str | None = None,
    tag: str | None = None,
    group: str | None = None,
    type: str | None = None,
    due: str | None = None,
    page: str | None = None,
) -> Response:
    ctx = _ctx(session, user)
    filters = views.Filters.parse(search, tag, group, type, due)
    listing = queries.client_list(session, ctx, filters, views.page_number(page))
    headers = {"Vary": "HX-Request, HX-Target"}
    # The filter form and the pager ask htmx for the results region alone; the address bar
    # gets the canonical query (no empty fields) rather than the form's raw one.
    partial = is_htmx(request) and request.headers.get("hx-target") == RESULTS
    if partial:
        query = filters.query(page=listing.pager.page)
        headers["HX-Push-Url"] = "/clients" + (f"?{query}" if query else "")
    name = "clients/_results.html" if partial else "clients/list.html"
    context = {**listing.context(filters), **dialog_context(settings, int(ctx.setting("importRowLimit")))}
    return render(request, name, headers=headers, nav="clients", title="Clients", **context)


@router.get("/clients/export.csv")
def export_clients(
    session: DbSession,
    db: Db,
    user: CurrentUser,
    search: str | None = None,
    tag: str | None = None,
    group: str | None = None,
    type: str | None = None,
) -> StreamingResponse:
    """The Export button: the API's export (``clients.export``) of the clients the list shows."""
    ctx = _ctx(session, user)
    flt = views.Filters.parse(search, tag, group, type).as_filter()
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    headers = {"Content-Disposition": f'attachment; filename="clients-{user.tenant.code}-{stamp}.csv"'}
    return StreamingResponse(export_lines(db.session, ctx, flt), media_type="text/csv; charset=utf-8", headers=headers)


@router.get("/clients/{client_id}")
def client_page(client_id: str, request: Request, session: DbSession, user: CurrentUser, settings: AppSettings) -> Response:
    detail = queries.client_detail(session, _ctx(session, user), client_id)
    context = {**detail.context(), "can_enrich": bool(settings.companies_house_api_key)}
    return render(request, "clients/detail.html", nav="clients", title=detail.client.name, **context)


@router.get("/clients/{client_id}/edit")
def edit_client_page(client_id: str, request: Request, session: DbSession, user: CurrentUser) -> Response:
    form = queries.client_form(session, _ctx(session, user), client_id)
    return render(request, "clients/edit.html", nav="clients", title=f"Edit {form.client.name}", form=form)


@router.post("/clients/{client_id}/edit")
async def edit_client(client_id: str, request: Request, session: DbSession, user: CheckedUser) -> Response:
    """Save the form through the API's PATCH (``imports.single.patch``): only changed fields are
    sent, an emptied one is cleared; errors come back next to their fields."""
    ctx = _ctx(session, user)
    form = queries.client_form(session, ctx, client_id)
    posted = await request.form()
    values = {name: str(posted.get(name) or "") for name in views.EDITABLE}
    changed = form.changes(values)
    if changed:
        try:
            single.patch(session, ctx, client_id, changed, actor=actor(user))
        except ClientdockError as error:
            session.rollback()
            failed = views.ClientForm(form.client, values, views.form_errors(error))
            return render(request, "clients/edit.html", status=400, nav="clients", title=f"Edit {form.client.name}", form=failed)
    return RedirectResponse(f"/clients/{client_id}", status_code=303)


@router.post("/clients/{client_id}/enrich")
def enrich_client(client_id: str, session: DbSession, db: Db, user: CheckedUser, settings: AppSettings, engine: Engine) -> Response:
    """Ask Companies House now (or again); the client's page shows what it said."""
    enrich.enrich_one(session, db, engine, settings, _ctx(session, user), client_id, overwrite=False, actor=actor(user))
    return RedirectResponse(f"/clients/{client_id}", status_code=303)
