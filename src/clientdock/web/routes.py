"""Every page of the web app under one router (``app.include_router(web.routes.router)``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from clientdock.apps.service import connected_apps
from clientdock.deps import DbSession
from clientdock.web import client_pages, import_dialog, import_pages, notifications, signin
from clientdock.web.auth import CurrentUser
from clientdock.web.routing import PageRoute
from clientdock.web.templating import render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
router.include_router(signin.router)
router.include_router(import_dialog.router)  # before client_pages: /clients/import is not a client id
router.include_router(client_pages.router)
router.include_router(import_pages.router)
router.include_router(notifications.router)


@router.get("/connections")
def connections_page(request: Request, session: DbSession, user: CurrentUser) -> Response:
    apps = connected_apps(session, user.tenant.id)
    return render(request, "connections/index.html", apps=apps, nav="connections", title="Connections")
