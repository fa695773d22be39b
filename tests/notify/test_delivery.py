"""Delivering webhooks to a real HTTP receiver on loopback: signatures, retries, Retry-After,
giving up, the delivery log, and the SSRF check repeated at delivery time."""

from __future__ import annotations

import json
import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from clientdock.db import Database, utcnow
from clientdock.notify import dispatcher, routes
from clientdock.notify.dispatcher import DeliveryWorker, deliver_due
from clientdock.notify.webhooks import verify
from clientdock.settings import Settings
from tests.conftest import TenantInfo
from tests.notify.helpers import Receiver, Reply, finish_job, register


def _deliveries(client: TestClient, tenant: TenantInfo, hook: dict[str, Any]) -> list[dict[str, Any]]:
    response = client.get(tenant.path(f"/webhooks/{hook['id']}/deliveries"), headers=tenant.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_delivery_is_signed_and_logged(
    client: TestClient, database: Database, settings: Settings, tenant: TenantInfo, receiver: Receiver
) -> None:
    hook = register(client, tenant, receiver.url)
    payload = finish_job(database, tenant.id, job_id="j7", created=3, updated=1, failed=2)
    now = utcnow()

    sent = deliver_due(database, now=now, settings=settings)

    assert sent == 1
    (request,) = receiver.requests
    headers = {k.lower(): v for k, v in request.headers.items()}
    body = json.loads(request.body)
    timestamp = int(now.timestamp())
    assert request.path == "/hooks/clientdock"
    assert headers["content-type"] == "application/json"
    assert headers["x-clientdock-event"] == "import.completed"
    assert headers["x-clientdock-timestamp"] == str(timestamp)
    assert headers["x-clientdock-delivery"] == body["id"]
    assert verify(hook["secret"], request.headers, request.body, now=timestamp)
    assert not verify("whsec_someone-else", request.headers, request.body, now=timestamp)
    assert not verify(hook["secret"], request.headers, request.body + b" ", now=timestamp)
    assert not verify(hook["secret"], request.headers, request.body, now=timestamp + 3600)  # replayed later
    assert body["event"] == "import.completed"
    assert body["data"] == payload
    assert datetime.fromisoformat(body["createdAt"]) <= now
    (logged,) = _deliveries(client, tenant, hook)
    assert logged["id"] == body["id"]
    assert logged["status"] == "delivered"
    assert logged["attempts"] == 1
    assert logged["statusCode"] == 200
    assert logged["error"] is None
    assert logged["nextAttemptAt"] is None
    assert datetime.fromisoformat(logged["deliveredAt"]) == now
    assert deliver_due(database, now=now + timedelta(hours=1), settings=settings) == 0


def test_a_500_is_retried_with_backoff_then_succeeds(
    client: TestClient, database: Database, settings: Settings, tenant: TenantInfo, receiver: Receiver
) -> None:
    hook = register(client, tenant, receiver.url)
    finish_job(database, tenant.id)
    receiver.reply(Reply(500), Reply(502))
    start = utcnow()

    assert deliver_due(database, now=start, settings=settings) == 1
    (after_first,) = _deliveries(client, tenant, hook)
    assert deliver_due(database, now=start + timedelta(seconds=9), settings=settings) == 0
    assert deliver_due(database, now=start + timedelta(seconds=10), settings=settings) == 1
    (after_second,) = _deliveries(client, tenant, hook)
    assert deliver_due(database, now=start + timedelta(seconds=29), settings=settings) == 0
    assert deliver_due(database, now=start + timedelta(seconds=30), settings=settings) == 1
    (final,) = _deliveries(client, tenant, hook)

    assert (after_first["status"], after_first["attempts"], after_first["statusCode"]) == ("pending", 1, 500)
    assert after_first["error"] == "HTTP 500"
    assert datetime.fromisoformat(after_first["nextAttemptAt"]) == start + timedelta(seconds=10)
    assert datetime.fromisoformat(after_second["nextAttemptAt"]) == start + timedelta(seconds=30)
    assert (final["status"], final["attempts"], final["statusCode"], final["error"]) == ("delivered", 3, 200, None)
    ids = {r.headers["X-Clientdock-Delivery"] for r in receiver.requests}
    assert len(receiver.requests) == 3
    assert len(ids) == 1  # the same delivery id on every retry: receivers de-duplicate by it


@pytest.mark.parametrize("retry_after", ["120", "date"])
def test_retry_after_is_honoured(
    client: TestClient, database: Database, settings: Settings, tenant: TenantInfo, receiver: Receiver, retry_after: str
) -> None:
    hook = register(client, tenant, receiver.url)
    finish_job(database, tenant.id)
    start = (utcnow() + timedelta(seconds=1)).replace(microsecond=0)
    value = retry_after if retry_after != "date" else (start + timedelta(seconds=120)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    receiver.reply(Reply(429, {"Retry-After": value}))

    deliver_due(database, now=start, settings=settings)
    (waiting,) = _deliveries(client, tenant, hook)
    early = deliver_due(database, now=start + timedelta(seconds=60), settings=settings)
    due = deliver_due(database, now=start + timedelta(seconds=120), settings=settings)

    assert waiting["statusCode"] == 429
    assert datetime.fromisoformat(waiting["nextAttemptAt"]) == start + timedelta(seconds=120)
    assert (early, due) == (0, 1)
    assert _deliveries(client, tenant, hook)[0]["status"] == "delivered"


def test_gives_up_after_the_last_attempt(
    client: TestClient, database: Database, settings: Settings, tenant: TenantInfo, receiver: Receiver
) -> None:
    hook = register(client, tenant, receiver.url)
    finish_job(database, tenant.id)
    receiver.default = Reply(503)
    now = utcnow()

    for _ in range(dispatcher.MAX_ATTEMPTS):
        assert deliver_due(database, now=now, settings=settings) == 1
        now += timedelta(hours=2)

    (logged,) = _deliveries(client, tenant, hook)
    assert (logged["status"], logged["attempts"], logged["statusCode"]) == ("failed", dispatcher.MAX_ATTEMPTS, 503)
    assert logged["nextAttemptAt"] is None
    assert deliver_due(database, now=now + timedelta(days=30), settings=settings) == 0
    assert len(receiver.requests) == dispatcher.MAX_ATTEMPTS


def test_network_errors_and_timeouts_are_retried(
    client: TestClient, database: Database, settings: Settings, tenant: TenantInfo, receiver: Receiver
) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    refused_url = f"http://127.0.0.1:{closed.getsockname()[1]}/hook"
    closed.close()
    refused = register(client, tenant, refused_url)
    slow = register(client, tenant, receiver.url)
    finish_job(database, tenant.id)
    receiver.reply(Reply(200, delay=1.0))
    quick = httpx.Client(timeout=httpx.Timeout(0.2))

    with quick:
        assert deliver_due(database, now=utcnow(), settings=settings, client=quick) == 2

    (refused_log,) = _deliveries(client, tenant, refused)
    (slow_log,) = _deliveries(client, tenant, slow)
    assert (refused_log["status"], refused_log["statusCode"]) == ("pending", None)
    assert refused_log["error"].startswith("ConnectError")
    assert (slow_log["status"], slow_log["statusCode"]) == ("pending", None)
    assert slow_log["error"].startswith("ReadTimeout")


def test_redirects_are_not_followed(
    client: TestClient, database: Database, settings: Settings, tenant: TenantInfo, receiver: Receiver
) -> None:
    hook = register(client, tenant, receiver.url)
    finish_job(database, tenant.id)
    receiver.reply(Reply(307, {"Location": "http://169.254.169.254/latest/meta-data/"}))

    deliver_due(database, now=utcnow(), settings=settings)

    (logged,) = _deliveries(client, tenant, hook)
    assert (logged["status"], logged["statusCode"], logged["error"]) == ("pending", 307, "HTTP 307")
    assert len(receiver.requests) == 1


def test_rebinding_to_a_private_address_is_refused_at_delivery(
    client: TestClient, database: Database, tmp_path: Path, settings: Settings, tenant: TenantInfo, receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    port = receiver.server.server_address[1]
    answers = {"hooks.example.net": "93.184.216.34"}
    real = socket.getaddrinfo

    def fake(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host in answers:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host], port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    strict = settings.model_copy(update={"allow_private_webhooks": False})
    hook = register(client, tenant, f"http://hooks.example.net:{port}/hooks/clientdock")
    finish_job(database, tenant.id)
    answers["hooks.example.net"] = "127.0.0.1"  # the attacker's DNS now points at us

    assert deliver_due(database, now=utcnow(), settings=strict) == 1

    (logged,) = _deliveries(client, tenant, hook)
    assert logged["status"] == "pending"
    assert "refused" in logged["error"]
    assert "127.0.0.1" in logged["error"]
    assert receiver.requests == []


def test_the_request_goes_to_the_checked_address(
    database: Database, settings: Settings, tenant: TenantInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The name is resolved once; the connection uses that address, Host and SNI keep the name."""
    monkeypatch.setattr(
        socket, "getaddrinfo", lambda host, port, *a, **k: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port))]
    )
    strict = settings.model_copy(update={"allow_private_webhooks": False})
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    from clientdock.notify import service

    with database.session() as session:
        service.create_webhook(session, tenant.id, strict, url="https://hooks.example.net:8443/in?x=1")
    finish_job(database, tenant.id)

    with httpx.Client(transport=httpx.MockTransport(handler)) as mock:
        assert deliver_due(database, now=utcnow(), settings=strict, client=mock) == 1

    (request,) = seen
    assert str(request.url) == "https://93.184.216.34:8443/in?x=1"
    assert request.headers["host"] == "hooks.example.net:8443"
    assert request.extensions["sni_hostname"] == "hooks.example.net"


def test_two_workers_never_claim_the_same_attempt(client: TestClient, database: Database, tenant: TenantInfo) -> None:
    register(client, tenant, "https://hooks.example.com/x")
    finish_job(database, tenant.id)
    now = utcnow()

    first = dispatcher.claim_due(database, now)
    second = dispatcher.claim_due(database, now)
    after_lease = dispatcher.claim_due(database, now + dispatcher.LEASE)

    assert [item.attempt for item in first] == [1]
    assert second == []
    assert [item.attempt for item in after_lease] == [2]  # a worker that died mid-request is retried


def test_a_stopping_worker_hands_claims_back(client: TestClient, database: Database, settings: Settings, tenant: TenantInfo) -> None:
    hook = register(client, tenant, "https://hooks.example.com/x")
    finish_job(database, tenant.id)
    stop = threading.Event()
    stop.set()
    now = utcnow()

    assert deliver_due(database, now=now, settings=settings, stop=stop) == 0

    (logged,) = _deliveries(client, tenant, hook)
    assert (logged["status"], logged["attempts"]) == ("pending", 0)
    assert datetime.fromisoformat(logged["nextAttemptAt"]) == now


def test_worker_delivers_in_the_background(database: Database, settings: Settings, tenant: TenantInfo, receiver: Receiver) -> None:
    from clientdock.notify import service

    with database.session() as session:
        service.create_webhook(session, tenant.id, settings, url=receiver.url)
    worker = DeliveryWorker(database, settings, interval=0.05)
    worker.start()
    try:
        finish_job(database, tenant.id)
        deadline = time.monotonic() + 10
        while not receiver.requests and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        worker.stop()

    assert len(receiver.requests) == 1
    assert not worker.running


def test_router_lifespan_runs_the_worker(database: Database, settings: Settings) -> None:
    app = FastAPI()
    app.state.db = database
    app.state.settings = settings.model_copy(update={"start_workers": True})
    app.include_router(routes.router)

    with TestClient(app):
        worker = app.state.delivery_worker
        assert worker.running
    assert not worker.running


def test_no_worker_when_workers_are_off(client: TestClient) -> None:
    assert client.app.state.delivery_worker is None  # type: ignore[attr-defined]


def test_backoff_and_retry_after_parsing() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)

    assert [dispatcher.backoff(n) for n in range(1, 9)] == [10, 20, 40, 80, 160, 320, 640, 1280]
    assert dispatcher.backoff(30) == dispatcher.MAX_DELAY
    assert dispatcher.retry_after_seconds("30", now) == 30
    assert dispatcher.retry_after_seconds("Thu, 01 Jan 2026 00:01:00 GMT", now) == 60
    assert dispatcher.retry_after_seconds("Wed, 31 Dec 2025 00:00:00 GMT", now) == 0
    assert dispatcher.retry_after_seconds("soon", now) is None
    assert dispatcher.retry_after_seconds(None, now) is None
