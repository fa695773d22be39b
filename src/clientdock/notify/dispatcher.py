"""Send pending webhook deliveries: claim, POST (no transaction open), record.

1. Claim due deliveries in one short transaction: each claim bumps ``attempts`` and moves
   ``next_attempt_at`` to a lease, guarded by the attempt count it read, so two workers (or
   two machines) never send the same attempt, and a worker that dies mid-request leaves the
   delivery to be retried when the lease ends.
2. POST each one with explicit timeouts and without following redirects. Unless private
   targets are allowed, the host is resolved and checked again and the request goes to the
   very address that was checked (Host header and TLS SNI keep the name), so DNS rebinding
   between the check and the connection gains nothing.
3. Record the outcome in another short transaction: 2xx is delivered; anything else is
   retried after 10 s, 20 s, 40 s … (capped at an hour, never sooner than Retry-After) until
   the eighth attempt, after which the delivery is failed.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import structlog
from cryptography.fernet import InvalidToken
from sqlalchemy import select, update

from clientdock import secrets
from clientdock.db import Database, bind_tenant, utcnow
from clientdock.notify import ssrf
from clientdock.notify.models import Webhook, WebhookDelivery
from clientdock.notify.webhooks import body_bytes, headers
from clientdock.settings import Settings, get_settings

log = structlog.get_logger(__name__)

MAX_ATTEMPTS = 8
BASE_DELAY = 10.0
MAX_DELAY = 3600.0
MAX_RETRY_AFTER = 86400.0
LEASE = timedelta(minutes=2)
BATCH = 50
TIMEOUT = httpx.Timeout(10.0, connect=5.0)


@dataclass(frozen=True)
class Claimed:
    id: str
    tenant_id: str
    webhook_id: str
    event: str
    payload: dict[str, Any]
    created_at: datetime
    attempt: int
    url: str
    secret_encrypted: str


@dataclass(frozen=True)
class Outcome:
    status_code: int | None = None
    error: str | None = None
    retry_after: float | None = None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def backoff(attempt: int) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
    return min(BASE_DELAY * 2.0 ** (attempt - 1), MAX_DELAY)


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """Retry-After as delta-seconds or an HTTP date (RFC 9110 §10.2.3); None when absent or bad."""
    if not value or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max((when - now).total_seconds(), 0.0)


def claim_due(db: Database, now: datetime, limit: int = BATCH) -> list[Claimed]:
    columns = (
        WebhookDelivery.id, WebhookDelivery.tenant_id, WebhookDelivery.webhook_id, WebhookDelivery.event,
        WebhookDelivery.payload, WebhookDelivery.created_at, WebhookDelivery.attempts, Webhook.url, Webhook.secret_encrypted,
    )  # fmt: skip
    due = (
        select(*columns)
        .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
        .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now)
        .order_by(WebhookDelivery.next_attempt_at)
        .limit(limit)
    )
    claimed: list[Claimed] = []
    with db.session() as session:
        for row in session.execute(due).all():
            result = session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id == row.id, WebhookDelivery.status == "pending", WebhookDelivery.attempts == row.attempts)
                .values(attempts=row.attempts + 1, next_attempt_at=now + LEASE, last_attempt_at=now)
            )
            if getattr(result, "rowcount", 0) == 1:
                claimed.append(
                    Claimed(
                        row.id,
                        row.tenant_id,
                        row.webhook_id,
                        row.event,
                        dict(row.payload or {}),
                        row.created_at,
                        row.attempts + 1,
                        row.url,
                        row.secret_encrypted,
                    )  # fmt: skip
                )
    return claimed


def _pinned(target: ssrf.Target) -> tuple[httpx.URL, dict[str, str], dict[str, Any]]:
    """The URL to connect to, plus headers and extensions that keep the original host name."""
    url = httpx.URL(target.url)
    if not target.addresses:
        return url, {}, {}
    address = str(target.addresses[0])
    extensions: dict[str, Any] = {"sni_hostname": url.host} if target.scheme == "https" else {}
    return url.copy_with(host=address), {"Host": url.netloc.decode("ascii")}, extensions


def send(client: httpx.Client, item: Claimed, settings: Settings, now: datetime) -> Outcome:
    """One attempt over HTTP. Never raises for network trouble: it becomes the outcome."""
    try:
        target = ssrf.resolve_target(item.url, allow_private=settings.allow_private_webhooks)
    except ssrf.UnsafeUrl as exc:
        return Outcome(error=f"refused: url {exc}")
    try:
        secret = secrets.decrypt(settings.data_dir, item.secret_encrypted)
    except InvalidToken:
        return Outcome(error=f"the webhook secret cannot be decrypted (was {secrets.ENV_VAR} changed?)")
    timestamp = int(now.timestamp())
    body = body_bytes(item.id, item.event, item.created_at, item.payload)
    url, host_header, extensions = _pinned(target)
    request_headers = {**headers(item.id, item.event, timestamp, secret, body), **host_header}
    try:
        request = client.build_request("POST", url, content=body, headers=request_headers, extensions=extensions)
        response = client.send(request, stream=True, follow_redirects=False)
        response.close()  # the status is all we need; a huge body is never read
    except httpx.HTTPError as exc:
        return Outcome(error=f"{type(exc).__name__}: {exc}"[:1000] or type(exc).__name__)
    error = None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"
    return Outcome(response.status_code, error, retry_after_seconds(response.headers.get("retry-after"), now))


def record(db: Database, item: Claimed, outcome: Outcome, now: datetime) -> str:
    """Store one attempt's outcome; returns the delivery's new status."""
    values: dict[str, Any] = {"status_code": outcome.status_code, "error": outcome.error}
    if outcome.delivered:
        values.update(status="delivered", delivered_at=now, next_attempt_at=None)
    elif item.attempt >= MAX_ATTEMPTS:
        values.update(status="failed", next_attempt_at=None)
    else:
        delay = max(backoff(item.attempt), min(outcome.retry_after or 0.0, MAX_RETRY_AFTER))
        values.update(status="pending", next_attempt_at=now + timedelta(seconds=delay))
    with db.session() as session:
        bind_tenant(session, item.tenant_id)  # one tenant's delivery (claiming spans tenants: login role)
        # The attempt guard drops a late answer whose lease ran out and was claimed again.
        session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == item.id, WebhookDelivery.attempts == item.attempt, WebhookDelivery.status == "pending")
            .values(**values)
        )
    status = str(values["status"])
    fields = {"delivery_id": item.id, "webhook_id": item.webhook_id, "tenant_id": item.tenant_id, "attempt": item.attempt}
    if status == "delivered":
        log.info("webhook_delivered", status_code=outcome.status_code, **fields)
    elif status == "failed":
        log.error("webhook_gave_up", status_code=outcome.status_code, error=outcome.error, **fields)
    else:
        log.warning(
            "webhook_attempt_failed",
            status_code=outcome.status_code,
            error=outcome.error,
            retry_at=str(values["next_attempt_at"]),
            **fields,
        )
    return status


def release(db: Database, items: list[Claimed], now: datetime) -> None:
    """Hand back claimed deliveries that were not attempted (the worker is stopping)."""
    with db.session() as session:
        for item in items:
            session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id == item.id, WebhookDelivery.attempts == item.attempt, WebhookDelivery.status == "pending")
                .values(attempts=item.attempt - 1, next_attempt_at=now)
            )


def deliver_due(
    db: Database,
    *,
    now: datetime | None = None,
    client: httpx.Client | None = None,
    settings: Settings | None = None,
    limit: int = BATCH,
    stop: threading.Event | None = None,
) -> int:
    """Send every delivery due at ``now`` (default: the clock); returns how many were attempted.

    ``now`` lets tests move time forward; ``settings`` (default: the environment's) decides
    whether private targets are allowed and where the secret key lives; once ``stop`` is set
    the deliveries not yet attempted are handed back.
    """
    settings = settings or get_settings()
    claimed = claim_due(db, now or utcnow(), limit)
    if not claimed:
        return 0
    own = client is None
    http = client or httpx.Client(timeout=TIMEOUT, follow_redirects=False)
    try:
        for attempted, item in enumerate(claimed):
            if stop is not None and stop.is_set():
                release(db, claimed[attempted:], now or utcnow())
                return attempted
            outcome = send(http, item, settings, now or utcnow())
            record(db, item, outcome, now or utcnow())
    finally:
        if own:
            http.close()
    return len(claimed)


class DeliveryWorker:
    """A daemon thread that calls :func:`deliver_due` every ``interval`` seconds until stopped."""

    def __init__(self, db: Database, settings: Settings, *, interval: float = 1.0, client: httpx.Client | None = None) -> None:
        self.db, self.settings, self.interval = db, settings, interval
        self._client = client
        self._own_client = client is None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        if self._client is None:
            self._client = httpx.Client(timeout=TIMEOUT, follow_redirects=False)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="clientdock-webhooks", daemon=True)
        self._thread.start()
        log.info("webhook_worker_started", interval=self.interval)

    def stop(self, timeout: float = 15.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout)
            if self._thread.is_alive():  # stuck in a request: leave it its client, it is a daemon
                log.warning("webhook_worker_stop_timeout", timeout=timeout)
                return
            self._thread = None
        if self._own_client and self._client is not None:
            self._client.close()
            self._client = None
        log.info("webhook_worker_stopped")

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.is_set():
            sent = 0
            try:
                sent = deliver_due(self.db, client=self._client, settings=self.settings, stop=self._stop)
            except Exception:
                log.exception("webhook_worker_tick_failed")
            if sent < BATCH:  # a full batch means more may be due: go again at once
                self._stop.wait(self.interval)
