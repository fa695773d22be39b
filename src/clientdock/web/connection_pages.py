"""The Connections page: partner apps, and accounting platforms to connect, list, import
from and disconnect. Each action is a form (with the session's CSRF token) that calls the
same services as the API, then goes back to a page."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from clientdock.apps.service import connected_apps
from clientdock.connections import browser, door, service
from clientdock.deps import Db, DbSession
from clientdock.imports.deps import AppSettings, Engine
from clientdock.settings import Settings
from clientdock.tenants.context import load_context
from clientdock.web.auth import CheckedUser, CurrentUser
from clientdock.web.import_flow import actor
from clientdock.web.routing import SECURITY_HEADERS, PageRoute
from clientdock.web.templating import render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
PROVIDER_NAMES = {"xero": "Xero", "quickbooks": "QuickBooks Online"}
#: Contacts one search of the picker lists (the platform is asked each time).
PICK_LIMIT = 50


@router.get("/connections")
def connections_page(
    request: Request, session: DbSession, user: CurrentUser, settings: AppSettings, connected: int | None = None
) -> Response:
    ctx = load_context(session, user.tenant)
    platforms = [(name, label, service.provider_for(settings, name).configured()) for name, label in PROVIDER_NAMES.items()]
    return render(
        request, "connections/index.html", nav="connections", title="Connections", apps=connected_apps(session, user.tenant.id),
        connections=service.list_connections(session, ctx), platforms=platforms, provider_names=PROVIDER_NAMES, connected=connected,
        headers={"Content-Security-Policy": _policy_allowing_consent_pages(settings)},
    )  # fmt: skip


def _policy_allowing_consent_pages(settings: Settings) -> str:
    """The page's CSP, whose ``form-action`` also lets the Connect forms' redirect reach the
    platforms' consent pages (Chromium checks every redirect of a form submission)."""
    origins = sorted({_origin(settings.xero_login_url), _origin(settings.quickbooks_auth_url)})
    return SECURITY_HEADERS["Content-Security-Policy"].replace("form-action 'self'", "form-action 'self' " + " ".join(origins))


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@router.post("/connections/{provider}/connect")
def connect(provider: str, request: Request, session: DbSession, user: CheckedUser, settings: AppSettings) -> Response:
    """Off to the platform's consent page with the round trip's cookie; the callback, which
    completes only in this browser, brings it back here."""
    ctx = load_context(session, user.tenant)
    started = service.start_authorize(session, settings, ctx, provider, started_by=actor(user), return_to="/connections")
    return browser.bind(RedirectResponse(started.url, status_code=303), request, settings, started)


@router.post("/connections/{code}/import")
def import_contacts(
    code: str,
    session: DbSession,
    user: CheckedUser,
    settings: AppSettings,
    engine: Engine,
    external_ids: Annotated[list[str] | None, Form(alias="externalIds")] = None,
) -> Response:
    """Import the picked contacts, or every contact when none was picked; the import's page
    shows its progress."""
    ctx = load_context(session, user.tenant)
    picked = [value for value in external_ids or [] if value.strip()]
    wanted = door.ConnectionImport(code, not picked, list(dict.fromkeys(picked)))
    job = door.start(session, engine, settings, ctx, wanted, actor(user))
    return RedirectResponse(f"/imports/{job.id}", status_code=303)


@router.get("/connections/{code}/pick")
def pick_contacts(
    code: str, request: Request, session: DbSession, db: Db, user: CurrentUser, settings: AppSettings, search: str = ""
) -> Response:
    """The platform's contacts matching a search, to tick the ones to import."""
    connection = service.connection_ref(session, load_context(session, user.tenant), code)
    session.commit()  # no transaction is held while the platform answers
    found = service.search_contacts(db, settings, connection, search[:100], PICK_LIMIT)
    return render(
        request, "connections/pick.html", nav="connections", title=f"Pick contacts from {connection.organisation_name}",
        connection=connection, contacts=found, search=search[:100], limit=PICK_LIMIT, provider_names=PROVIDER_NAMES,
    )  # fmt: skip


@router.post("/connections/{code}/disconnect")
def disconnect(code: str, session: DbSession, user: CheckedUser, settings: AppSettings) -> Response:
    service.disconnect(session, settings, load_context(session, user.tenant), code)
    return RedirectResponse("/connections", status_code=303)
