"""Every page of the web app under one router (``app.include_router(web.routes.router)``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from clientdock.web import client_pages, signin
from clientdock.web.auth import CurrentUser
from clientdock.web.routing import PageRoute
from clientdock.web.templating import render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
router.include_router(signin.router)
router.include_router(client_pages.router)


@router.get("/imports")
def imports_page(request: Request, user: CurrentUser) -> Response:
    return render(request, "imports/index.html", nav="imports", title="Imports")


@router.get("/connections")
def connections_page(request: Request, user: CurrentUser) -> Response:
    return render(request, "connections/index.html", nav="connections", title="Connections")
