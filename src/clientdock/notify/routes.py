"""Thin HTTP for in-app notifications and webhooks.

The router carries its own lifespan: when ``settings.start_workers`` is on, the app that
includes it runs a :class:`DeliveryWorker` for as long as it serves.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from clientdock.deps import DbSession
from clientdock.notify import service
from clientdock.notify.dispatcher import DeliveryWorker
from clientdock.notify.schemas import (
    DeliveryOut,
    DeliveryPage,
    NotificationOut,
    NotificationPage,
    ReadAllOut,
    WebhookCreated,
    WebhookIn,
    WebhookList,
    WebhookOut,
)
from clientdock.settings import Settings
from clientdock.tenants.auth import ClientsRead, ClientsWrite, TenantAdmin


def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


AppSettings = Annotated[Settings, Depends(get_app_settings)]
Page = Annotated[int, Query(ge=1, le=1_000_000)]
PageSize = Annotated[int, Query(alias="pageSize", ge=1, le=200)]


@asynccontextmanager
async def delivery_lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    worker = DeliveryWorker(app.state.db, settings) if settings.start_workers else None
    app.state.delivery_worker = worker
    if worker is not None:
        worker.start()
    try:
        yield
    finally:
        if worker is not None:
            await run_in_threadpool(worker.stop)


router = APIRouter(prefix="/tenants/{tenant}", lifespan=delivery_lifespan)


@router.get("/notifications", tags=["notifications"], summary="List notifications, newest first")
def list_notifications(
    session: DbSession, scope: ClientsRead, unread: bool = False, page: Page = 1, page_size: PageSize = 50
) -> NotificationPage:
    rows, total, unread_count = service.list_notifications(session, scope.tenant_id, unread=unread, page=page, page_size=page_size)
    items = [NotificationOut.of(r) for r in rows]
    return NotificationPage(items=items, total=total, page=page, page_size=page_size, unread_count=unread_count)


@router.post("/notifications/read-all", tags=["notifications"], summary="Mark every notification read")
def mark_all_notifications_read(session: DbSession, scope: ClientsWrite) -> ReadAllOut:
    return ReadAllOut(updated=service.mark_all_read(session, scope.tenant_id), unread_count=0)


@router.post("/notifications/{notification_id}/read", tags=["notifications"], summary="Mark a notification read")
def mark_notification_read(notification_id: str, session: DbSession, scope: ClientsWrite) -> NotificationOut:
    return NotificationOut.of(service.mark_read(session, scope.tenant_id, notification_id))


@router.get("/webhooks", tags=["webhooks"], summary="List webhooks")
def list_webhooks(session: DbSession, scope: TenantAdmin) -> WebhookList:
    items = [WebhookOut.of(w) for w in service.list_webhooks(session, scope.tenant_id)]
    return WebhookList(items=items, total=len(items))


@router.post(
    "/webhooks",
    status_code=201,
    tags=["webhooks"],
    summary="Register a webhook",
    description=(
        "Events: import.completed, import.failed (default both). The URL must be http(s) and reach the public internet. "
        "The signing secret is returned only here; each delivery carries X-Clientdock-Signature: sha256=<hex HMAC-SHA256 "
        "of '<X-Clientdock-Timestamp>.<raw body>'>."
    ),
)
def create_webhook(body: WebhookIn, session: DbSession, scope: TenantAdmin, settings: AppSettings, response: Response) -> WebhookCreated:
    row, secret = service.create_webhook(session, scope.tenant_id, settings, url=body.url, events=body.events, secret=body.secret)
    response.headers["Cache-Control"] = "no-store"  # the secret is shown once: never cached nor kept for replay
    return WebhookCreated.with_secret(row, secret)


@router.delete(
    "/webhooks/{webhook_id}", status_code=204, response_class=Response, tags=["webhooks"], summary="Delete a webhook and its delivery log"
)
def delete_webhook(webhook_id: str, session: DbSession, scope: TenantAdmin) -> Response:
    service.delete_webhook(session, scope.tenant_id, webhook_id)
    return Response(status_code=204)


@router.get("/webhooks/{webhook_id}/deliveries", tags=["webhooks"], summary="A webhook's deliveries, newest first")
def list_webhook_deliveries(
    webhook_id: str, session: DbSession, scope: TenantAdmin, page: Page = 1, page_size: PageSize = 50
) -> DeliveryPage:
    rows, total = service.list_deliveries(session, scope.tenant_id, webhook_id, page=page, page_size=page_size)
    return DeliveryPage(items=[DeliveryOut.of(r) for r in rows], total=total, page=page, page_size=page_size)
