"""Every page of the web app under one router (``app.include_router(web.routes.router)``)."""

from __future__ import annotations

from fastapi import APIRouter

from clientdock.web import client_pages, connection_pages, import_dialog, import_pages, notifications, signin
from clientdock.web.routing import PageRoute

router = APIRouter(route_class=PageRoute, include_in_schema=False)
router.include_router(signin.router)
router.include_router(import_dialog.router)  # before client_pages: /clients/import is not a client id
router.include_router(client_pages.router)
router.include_router(import_pages.router)
router.include_router(notifications.router)
router.include_router(connection_pages.router)
