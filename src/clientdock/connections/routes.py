"""Thin HTTP for connections to accounting platforms, and the import from a connection (S0)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from clientdock.connections import browser, door, mapping, service
from clientdock.connections.schemas import Connected, ConnectionList, PlatformContactList, connection_json
from clientdock.deps import Db, DbSession
from clientdock.errors import ClientdockError
from clientdock.imports import respond
from clientdock.imports.deps import AppSettings, Engine, OnExistingQuery, Waiters
from clientdock.imports.schemas import ImportJob
from clientdock.problems import bad_gateway, problem
from clientdock.tenants.auth import ClientsRead, ImportsWrite, TenantAdmin

router = APIRouter(tags=["connections"])
TENANT = "/tenants/{tenant}"

IMPORT_DESCRIPTION = """
Imports the clients of a connected accounting platform (Xero contacts, QuickBooks Online
customers) as a job, with the hybrid answer: 201 with the finished job (counts and the first
row outcomes in `rows`) when it ends within the wait (`Prefer: wait=N`, `Prefer:
respond-async`), else 202 with `Location`.

**Query**: `connectionCode` (required; 400 naming it when missing, 404 when the tenant has no
such connection); `importAll` (`true`: every contact, every page, archived ones as
`active=false`, the body ignored; default `false`: only `externalIds`); `since=last`: only
contacts modified since the connection's last successful import.

**Body** (when `importAll` is false): `{"externalIds": ["..."]}`, 1 to 10,000 of the platform's
ids (Xero ContactID, QuickBooks Customer Id); an id the platform does not know fails its row,
naming it. Nothing is written and the platform is not called for a refused request.

**Matching**: a client this connection imported before (connection code + external id) is
updated, never duplicated; then a client with the same email; else a new client. An unchanged
contact is reported `unchanged`. `onExisting` decides what a match does: `update` (default),
`fillEmpty` (only the client's empty fields are written) or `skip` (the client is left as it is,
reference included; the row is `skipped`); another value is 400 naming `onExisting`.

**Enrichment**: `enrichFromCompaniesHouse=true` enriches the private limited companies the import
created from Companies House once it succeeds (a job of its own; 400 when not configured).

"""


@router.get(
    f"{TENANT}/connections/{{provider}}/authorize",
    summary="Connect the tenant to Xero or QuickBooks Online (OAuth 2.0 + PKCE): a redirect to the platform",
    description=(
        "The 307 also sets a cookie (`clientdock_oauth_…`: HttpOnly, SameSite=Lax, Path the callback's, 15 minutes) that "
        "the callback needs: open the `Location` with the same browser or cookie jar. A link handed to somebody else "
        "connects nothing. People connect with the Connections page's Connect button."
    ),
    status_code=307,
    response_class=RedirectResponse,
    responses={
        307: {
            "description": "To the platform's consent page, with the cookie that binds the round trip to this browser; "
            "the platform sends the browser back to /connections/{provider}/callback"
        }
    },
)
def authorize_connection(
    provider: str, request: Request, session: DbSession, settings: AppSettings, scope: TenantAdmin
) -> RedirectResponse:
    started = service.start_authorize(session, settings, scope.ctx, provider, started_by=scope.actor)
    return browser.bind(RedirectResponse(started.url, status_code=307), request, settings, started)


@router.get(
    "/connections/{provider}/callback",
    summary="Where the platform sends the browser back: creates one connection per granted organisation",
    description=(
        "Completes only in the browser that started the round trip (it sends back the cookie the authorize redirect "
        'set); otherwise 400 ("must be finished in the browser that started it"), nothing is connected and the '
        "state is spent. Every answer clears the cookie."
    ),
    response_model=Connected,
    status_code=201,
    responses={
        303: {"description": "Back to the web page that started the connection"},
        **bad_gateway("the accounting platform (exchanging the code for tokens)"),
    },
)
def connection_callback(
    provider: str,
    request: Request,
    response: Response,
    session: DbSession,
    settings: AppSettings,
    state: str | None = None,
    code: str | None = None,
    error: str | None = None,
    error_description: str | None = None,
    realm_id: Annotated[str | None, Query(alias="realmId")] = None,
) -> Any:
    callback = service.Callback(state, code, error, error_description, realm_id, browser.presented(request, state))
    try:
        done = service.complete_authorize(session, settings, provider, callback)
    except ClientdockError as exc:
        # The answer the error handler would give; returning it commits the spent state (a
        # callback from another browser must leave nothing to try again) and clears the cookie.
        return browser.forget(problem(exc.status, exc.title, exc.detail, exc.errors), request, settings, provider, state)
    if done.return_to:
        redirect = RedirectResponse(f"{done.return_to}?connected={len(done.connections)}", status_code=303)
        return browser.forget(redirect, request, settings, provider, state)
    browser.forget(response, request, settings, provider, state)
    return {"tenant": done.tenant.code, "connections": [connection_json(c) for c in done.connections]}


@router.get(f"{TENANT}/connections", summary="The tenant's connections (no tokens)", response_model=ConnectionList)
def list_connections(session: DbSession, scope: ClientsRead) -> dict[str, Any]:
    items = [connection_json(c) for c in service.list_connections(session, scope.ctx)]
    return {"items": items, "total": len(items)}


@router.get(
    f"{TENANT}/connections/{{code}}/contacts",
    summary="Search the platform's contacts (one call to the platform), e.g. to pick which to import",
    response_model=PlatformContactList,
    responses={
        409: {"description": "The connection is not active (disconnected or its grant revoked): connect it again"},
        **bad_gateway("the accounting platform (searching, or refreshing the tokens)"),
    },
)
def search_connection_contacts(
    code: str,
    session: DbSession,
    db: Db,
    settings: AppSettings,
    scope: ClientsRead,
    search: Annotated[str, Query(max_length=100)] = "",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    connection = service.connection_ref(session, scope.ctx, code)
    session.commit()  # no transaction is held while the platform answers
    found = service.search_contacts(db, settings, connection, search, limit)
    items = [{"externalId": c.external_id, "name": c.name, "email": c.email, "active": c.active} for c in found]
    return {"items": items, "total": len(items)}


@router.delete(
    f"{TENANT}/connections/{{code}}", status_code=204, response_class=Response, summary="Disconnect (revokes the grant at the platform)"
)
def delete_connection(code: str, session: DbSession, settings: AppSettings, scope: TenantAdmin) -> Response:
    service.disconnect(session, settings, scope.ctx, code)
    return Response(status_code=204)


@router.post(
    f"{TENANT}/clients/import/from-connection",
    tags=["connections"],
    summary="Import clients from a connected platform (S0)",
    description=IMPORT_DESCRIPTION + mapping.MAPPING_DOC,
    status_code=201,
    response_model=ImportJob,
    responses={202: {"description": "still running: the job so far; Location points at it", "model": ImportJob}},
)
async def import_from_connection(
    request: Request,
    session: DbSession,
    engine: Engine,
    settings: AppSettings,
    cap: Waiters,
    scope: ImportsWrite,
    connection_code: Annotated[str | None, Query(alias="connectionCode")] = None,
    import_all: Annotated[str | None, Query(alias="importAll")] = None,
    since: str | None = None,
    enrich_from_companies_house: Annotated[str | None, Query(alias="enrichFromCompaniesHouse")] = None,
    on_existing: OnExistingQuery = None,
    body: Any = Body(default=None),
) -> JSONResponse:
    wanted = door.request_of(connection_code, import_all, since, body, enrich_from_companies_house, on_existing)
    job = await run_in_threadpool(door.start, session, engine, settings, scope.ctx, wanted, scope.actor)
    return await run_in_threadpool(respond.answer, request, session, settings, cap, scope.tenant, job.id)
