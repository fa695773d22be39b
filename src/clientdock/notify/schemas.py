"""The JSON shapes of notifications, webhooks and deliveries at the API edge (camelCase)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer
from pydantic.alias_generators import to_camel

from clientdock.notify.models import Notification, Webhook, WebhookDelivery

# ISO 8601 with "+00:00", as every other resource of the API writes its instants.
Instant = Annotated[datetime, PlainSerializer(lambda value: value.isoformat(), return_type=str)]


class CamelModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class WebhookIn(CamelModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(description="http(s) URL that receives a signed POST per event; must reach the public internet")
    events: list[str] | None = Field(default=None, description="Subset of import.completed, import.failed (default both)")
    secret: str | None = Field(
        default=None, min_length=16, max_length=256, description="HMAC-SHA256 signing secret; generated and shown once when omitted"
    )


class NotificationOut(CamelModel):
    """An in-app notification of the tenant (e.g. an import that ended)."""

    id: str
    kind: str
    title: str
    body: str
    data: dict[str, Any] = Field(description="What the notification is about, e.g. the import's jobId, counts and links")
    read: bool
    read_at: Instant | None
    created_at: Instant

    @classmethod
    def of(cls, row: Notification) -> NotificationOut:
        return cls(
            id=row.id, kind=row.kind, title=row.title, body=row.body, data=row.data or {},
            read=row.read_at is not None, read_at=row.read_at, created_at=row.created_at,
        )  # fmt: skip


class NotificationPage(CamelModel):
    """A page of notifications, newest first, with the count of unread ones."""

    items: list[NotificationOut]
    total: int
    page: int
    page_size: int
    unread_count: int


class ReadAllOut(CamelModel):
    """How many notifications were marked read; none is left unread."""

    updated: int = Field(description="How many were unread and are now read")
    unread_count: int


class WebhookOut(CamelModel):
    """A registered webhook (without its secret)."""

    id: str
    url: str
    events: list[str]
    created_at: Instant

    @classmethod
    def of(cls, row: Webhook) -> WebhookOut:
        return cls(id=row.id, url=row.url, events=list(row.events or []), created_at=row.created_at)


class WebhookCreated(WebhookOut):
    """The webhook just registered, with its signing secret (shown only here)."""

    secret: str = Field(description="Shown only in this response; verify X-Clientdock-Signature with it")

    @classmethod
    def with_secret(cls, row: Webhook, secret: str) -> WebhookCreated:
        return cls(id=row.id, url=row.url, events=list(row.events or []), created_at=row.created_at, secret=secret)


class WebhookList(CamelModel):
    """Every webhook of the tenant."""

    items: list[WebhookOut]
    total: int


class DeliveryOut(CamelModel):
    """One event sent (or being sent) to a webhook, and how its attempts went."""

    id: str
    webhook_id: str
    event: str
    status: str = Field(description="pending, delivered or failed (gave up)")
    attempts: int
    status_code: int | None = Field(description="HTTP status of the last attempt")
    error: str | None = Field(description="Why the last attempt failed")
    next_attempt_at: Instant | None
    last_attempt_at: Instant | None
    delivered_at: Instant | None
    created_at: Instant

    @classmethod
    def of(cls, row: WebhookDelivery) -> DeliveryOut:
        return cls(
            id=row.id, webhook_id=row.webhook_id, event=row.event, status=row.status, attempts=row.attempts,
            status_code=row.status_code, error=row.error, next_attempt_at=row.next_attempt_at,
            last_attempt_at=row.last_attempt_at, delivered_at=row.delivered_at, created_at=row.created_at,
        )  # fmt: skip


class DeliveryPage(CamelModel):
    """A page of a webhook's deliveries, newest first."""

    items: list[DeliveryOut]
    total: int
    page: int
    page_size: int
