"""Notifications and webhooks: the logic, no HTTP. Services only flush; the caller commits.

The import job runner calls :func:`job_finished` inside the transaction that ends a job, so
the notification and the pending webhook deliveries exist exactly when the job's end is
committed; :mod:`clientdock.notify.dispatcher` sends the deliveries afterwards.

Errors: ``NotificationNotFound`` and ``WebhookNotFound`` (404), ``ValidationFailed`` (400)
naming ``url`` or ``events``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import structlog
from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.orm import Session

from clientdock import secrets
from clientdock.db import utcnow
from clientdock.errors import FieldError, NotFound, ValidationFailed
from clientdock.notify import ssrf
from clientdock.notify.models import Notification, Webhook, WebhookDelivery
from clientdock.notify.webhooks import EVENTS, new_secret
from clientdock.settings import Settings
from clientdock.tenants.scoping import owned, readable

log = structlog.get_logger(__name__)

COUNT_KEYS = ("created", "updated", "unchanged", "skipped", "failed")
VERBS = {"succeeded": "Import finished", "failed": "Import failed", "cancelled": "Import cancelled"}


class NotificationNotFound(NotFound):
    pass


class WebhookNotFound(NotFound):
    pass


def tenant_notifications(tenant_id: str) -> Select[Notification]:
    return readable(tenant_id, Notification)


def tenant_webhooks(tenant_id: str) -> Select[Webhook]:
    return readable(tenant_id, Webhook)


# --- in-app notifications ---------------------------------------------------------------


def notify(session: Session, tenant_id: str, kind: str, title: str, body: str = "", data: Mapping[str, Any] | None = None) -> Notification:
    row = Notification(tenant_id=tenant_id, kind=kind, title=title[:255], body=body, data=dict(data or {}))
    session.add(row)
    session.flush()
    return row


def list_notifications(
    session: Session, tenant_id: str, *, unread: bool = False, page: int = 1, page_size: int = 50
) -> tuple[list[Notification], int, int]:
    """One page, newest first, with the total of the filtered list and the unread count."""
    query = tenant_notifications(tenant_id)
    unread_query = query.where(Notification.read_at.is_(None))
    if unread:
        query = unread_query
    total = _count(session, query)
    unread_count = total if unread else _count(session, unread_query)
    ordered = query.order_by(Notification.created_at.desc(), Notification.id.desc())
    rows = session.scalars(ordered.offset((page - 1) * page_size).limit(page_size))
    return list(rows), total, unread_count


def unread_count(session: Session, tenant_id: str) -> int:
    return _count(session, tenant_notifications(tenant_id).where(Notification.read_at.is_(None)))


def _count(session: Session, query: Select[Any]) -> int:
    return session.scalar(select(func.count()).select_from(query.subquery())) or 0


def mark_read(session: Session, tenant_id: str, notification_id: str) -> Notification:
    row = session.scalar(tenant_notifications(tenant_id).where(Notification.id == notification_id))
    if row is None:
        raise NotificationNotFound(f"no notification '{notification_id}' in this tenant")
    if row.read_at is None:
        row.read_at = utcnow()
        session.flush()
    return row


def mark_all_read(session: Session, tenant_id: str) -> int:
    unread = update(Notification).where(owned(Notification, tenant_id), Notification.read_at.is_(None))
    result = session.execute(unread.values(read_at=utcnow()), execution_options={"synchronize_session": False})
    return int(getattr(result, "rowcount", 0) or 0)


# --- webhooks -----------------------------------------------------------------------------


def _checked_events(events: list[str] | None) -> tuple[list[str], list[FieldError]]:
    if events is None:
        return list(EVENTS), []
    unknown = [e for e in events if e not in EVENTS]
    if unknown:
        return [], [FieldError("events", f"unknown event(s) {unknown}; use {', '.join(EVENTS)}")]
    if not events:
        return [], [FieldError("events", f"must list at least one of {', '.join(EVENTS)}")]
    return list(dict.fromkeys(events)), []


def _checked_url(url: str, settings: Settings) -> list[FieldError]:
    try:
        ssrf.resolve_target(url.strip(), allow_private=settings.allow_private_webhooks)
    except ssrf.UnsafeUrl as exc:
        return [FieldError("url", str(exc))]
    return []


def create_webhook(
    session: Session, tenant_id: str, settings: Settings, *, url: str, events: list[str] | None = None, secret: str | None = None
) -> tuple[Webhook, str]:
    """Register a webhook; returns it with its plain secret, which is never shown again.

    The URL is checked (and its host resolved) before the first statement, so no database
    lock is held during DNS.
    """
    chosen, errors = _checked_events(events)
    errors = _checked_url(url, settings) + errors
    if errors:
        raise ValidationFailed("; ".join(f"{e.field}: {e.message}" for e in errors), errors)
    plain = secret or new_secret()
    row = Webhook(tenant_id=tenant_id, url=url.strip(), events=chosen, secret_encrypted=secrets.encrypt(settings.data_dir, plain))
    session.add(row)
    session.flush()
    log.info("webhook_created", tenant_id=tenant_id, webhook_id=row.id, events=chosen)
    return row, plain


def list_webhooks(session: Session, tenant_id: str) -> list[Webhook]:
    return list(session.scalars(tenant_webhooks(tenant_id).order_by(Webhook.created_at, Webhook.id)))


def get_webhook(session: Session, tenant_id: str, webhook_id: str) -> Webhook:
    row = session.scalar(tenant_webhooks(tenant_id).where(Webhook.id == webhook_id))
    if row is None:
        raise WebhookNotFound(f"no webhook '{webhook_id}' in this tenant")
    return row


def delete_webhook(session: Session, tenant_id: str, webhook_id: str) -> None:
    """Delete a webhook; its deliveries (pending ones too) go with it."""
    row = get_webhook(session, tenant_id, webhook_id)
    session.execute(delete(WebhookDelivery).where(WebhookDelivery.webhook_id == row.id))
    session.delete(row)
    session.flush()
    log.info("webhook_deleted", tenant_id=tenant_id, webhook_id=webhook_id)


def list_deliveries(
    session: Session, tenant_id: str, webhook_id: str, *, page: int = 1, page_size: int = 50
) -> tuple[list[WebhookDelivery], int]:
    webhook = get_webhook(session, tenant_id, webhook_id)
    query = select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook.id)
    total = _count(session, query)
    ordered = query.order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
    return list(session.scalars(ordered.offset((page - 1) * page_size).limit(page_size))), total


def enqueue(session: Session, tenant_id: str, event: str, payload: Mapping[str, Any]) -> int:
    """One pending delivery per webhook of the tenant subscribed to ``event``."""
    due = utcnow()
    rows = [
        WebhookDelivery(tenant_id=tenant_id, webhook_id=hook.id, event=event, payload=dict(payload), next_attempt_at=due, created_at=due)
        for hook in list_webhooks(session, tenant_id)
        if event in (hook.events or [])
    ]
    session.add_all(rows)
    session.flush()
    return len(rows)


# --- the import job runner's entry point -------------------------------------------------


def job_finished(session: Session, tenant_id: str, event: str, payload: dict[str, Any]) -> None:
    """Record the end of an import: an in-app notification and one delivery per subscribed
    webhook, in the caller's transaction.

    ``payload``: ``jobId``, ``door``, ``status``, ``counts`` {created, updated, unchanged,
    skipped, failed}, ``links`` {job, errors} and optionally ``error``; it is also the
    ``data`` of the webhook body.
    """
    if event not in EVENTS:
        raise ValueError(f"unknown event {event!r}; expected one of {EVENTS}")
    raw_counts = payload.get("counts") or {}
    counts = {key: int(raw_counts.get(key) or 0) for key in COUNT_KEYS}
    status = str(payload.get("status") or ("failed" if event == "import.failed" else "succeeded"))
    verb = VERBS.get(status, "Import finished")
    title = f"{verb}: {counts['created']} created, {counts['updated']} updated, {counts['failed']} failed"
    body = f"The {payload.get('door') or 'import'} import {payload.get('jobId', '')} {status}: " + ", ".join(
        f"{counts[key]} {key}" for key in COUNT_KEYS
    )
    if payload.get("error"):
        body += f". Error: {payload['error']}"
    data = {"jobId": payload.get("jobId"), "door": payload.get("door"), "status": status, "counts": counts}
    data["links"] = dict(payload.get("links") or {})
    notify(session, tenant_id, event, title, body, data)
    queued = enqueue(session, tenant_id, event, payload)
    log.info("job_finished_notified", tenant_id=tenant_id, job_id=payload.get("jobId"), notify_event=event, deliveries=queued)
