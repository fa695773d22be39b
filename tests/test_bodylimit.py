"""Every route refuses an oversized body with 413 before reading it whole (clientdock.bodylimit);
the file uploads keep their own, larger limit and their own answers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient
from starlette.requests import Request
from starlette.types import Message, Receive, Scope, Send

from clientdock.bodylimit import BodyLimitMiddleware
from clientdock.problems import PROBLEM
from clientdock.settings import Settings
from tests.conftest import TenantInfo

LIMIT = 4096
UPLOAD_LIMIT = 64 * 1024


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=db_url, max_json_bytes=LIMIT, max_upload_bytes=UPLOAD_LIMIT)


def client_of_size(size: int, name: str = "Sized") -> bytes:
    """A client's JSON body of exactly ``size`` bytes (the note pads it)."""
    bare = json.dumps({"name": name, "note": ""}).encode()
    return json.dumps({"name": name, "note": "n" * (size - len(bare))}).encode()


def chunks(body: bytes, size: int = 1000) -> Iterator[bytes]:
    """The body as a stream: sent chunked, without a Content-Length."""
    for start in range(0, len(body), size):
        yield body[start : start + size]


def json_headers(tenant: TenantInfo, **extra: str) -> dict[str, str]:
    return {**tenant.headers, "Content-Type": "application/json", **extra}


def assert_too_large(response: httpx2.Response) -> None:
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["title"] == "Payload too large"
    assert body["errors"] == [{"field": "body", "message": body["errors"][0]["message"], "code": "too_large"}]
    assert f"larger than {LIMIT} bytes" in body["detail"]


def count(client: TestClient, tenant: TenantInfo) -> int:
    total: int = client.get(tenant.path("/clients"), headers=tenant.headers).json()["total"]
    return total


def test_a_body_at_the_limit_passes_declared_or_streamed(client: TestClient, tenant: TenantInfo) -> None:
    declared = client.post(tenant.path("/clients"), content=client_of_size(LIMIT, "Declared"), headers=json_headers(tenant))
    assert declared.status_code == 201, declared.text
    streamed = client.post(tenant.path("/clients"), content=chunks(client_of_size(LIMIT, "Streamed")), headers=json_headers(tenant))
    assert streamed.status_code == 201, streamed.text
    assert count(client, tenant) == 2


def test_a_declared_length_over_the_limit_is_413_and_nothing_is_written(client: TestClient, tenant: TenantInfo) -> None:
    response = client.post(tenant.path("/clients"), content=client_of_size(LIMIT + 1), headers=json_headers(tenant))
    assert_too_large(response)
    assert f"Content-Length {LIMIT + 1}" in response.json()["detail"]
    assert count(client, tenant) == 0


def test_a_streamed_body_without_a_length_is_413_once_past_the_limit(client: TestClient, tenant: TenantInfo) -> None:
    response = client.post(tenant.path("/clients"), content=chunks(client_of_size(LIMIT + 1)), headers=json_headers(tenant))
    assert_too_large(response)
    assert count(client, tenant) == 0


def test_every_method_and_route_has_the_limit(client: TestClient, tenant: TenantInfo) -> None:
    created = client.post(tenant.path("/clients"), json={"name": "Small"}, headers=tenant.headers).json()
    big = client_of_size(LIMIT * 2)
    assert_too_large(client.patch(tenant.path(f"/clients/{created['id']}"), content=big, headers=json_headers(tenant)))
    assert_too_large(client.post(tenant.path("/clients/upsert"), content=chunks(big), headers=json_headers(tenant)))
    assert_too_large(client.post("/users/bulk/sourceId", content=big, headers=json_headers(tenant)))
    assert_too_large(
        client.post("/", content=b"email=a%40b.c&password=" + b"p" * LIMIT, headers={"Content-Type": "application/x-www-form-urlencoded"})
    )
    assert_too_large(client.post("/no/such/route", content=big))  # declared: refused before routing
    assert client.post("/no/such/route", content=chunks(big)).status_code == 404  # streamed: never read, so never too large
    assert client.get(tenant.path(f"/clients/{created['id']}"), headers=tenant.headers).json()["name"] == "Small"


def test_an_oversized_body_never_claims_its_idempotency_key(client: TestClient, tenant: TenantInfo) -> None:
    headers = json_headers(tenant, **{"Idempotency-Key": "big-then-small"})
    assert_too_large(client.post(tenant.path("/clients"), content=chunks(client_of_size(LIMIT * 3)), headers=headers))
    answered = client.post(tenant.path("/clients"), content=client_of_size(200), headers=headers)
    assert answered.status_code == 201, answered.text
    assert "Idempotent-Replayed" not in answered.headers


def _multipart(csv: bytes, boundary: str = "limitboundary") -> tuple[bytes, str]:
    head = f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="c.csv"\r\nContent-Type: text/csv\r\n\r\n'.encode()
    return head + csv + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def _csv(rows: int) -> bytes:
    return b"firstName,email\r\n" + b"".join(f"Person {i},p{i}@firm.example.org\r\n".encode() for i in range(rows))


def test_uploads_keep_their_own_larger_limit(client: TestClient, tenant: TenantInfo) -> None:
    csv = _csv(1200)
    assert LIMIT < len(csv) < UPLOAD_LIMIT
    declared = client.post(tenant.path("/clients/import/csv"), files={"file": ("c.csv", csv, "text/csv")}, headers=tenant.headers)
    assert declared.status_code == 201, declared.text
    assert declared.json()["counts"]["created"] == 1200
    body, content_type = _multipart(csv)
    streamed = client.post(
        tenant.path("/clients/import/csv"), content=chunks(body, 8192), headers={**tenant.headers, "Content-Type": content_type}
    )
    assert streamed.status_code == 201, streamed.text
    assert streamed.json()["counts"]["unchanged"] == 1200


def test_an_upload_over_its_own_limit_gets_the_uploads_answer(client: TestClient, tenant: TenantInfo) -> None:
    body, content_type = _multipart(_csv(3000))
    assert len(body) > UPLOAD_LIMIT
    for content in (body, chunks(body, 8192)):
        response = client.post(
            tenant.path("/clients/import/csv"), content=content, headers={**tenant.headers, "Content-Type": content_type}
        )
        assert response.status_code == 413, response.text
        assert response.json()["errors"][0]["field"] == "file"
    assert count(client, tenant) == 0


def test_the_413_is_documented_on_operations_with_a_body(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "413" in paths["/tenants/{tenant}/clients/upsert"]["post"]["responses"]
    assert "413" in paths["/tenants/{tenant}/clients/{client_id}"]["patch"]["responses"]
    assert "413" not in paths["/tenants/{tenant}/clients"]["get"]["responses"]


# --- the middleware alone: how much of an endless body is read -----------------------------------


def _serve(limit: int, receive: Receive, app: Any) -> list[Message]:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {"type": "http", "method": "POST", "path": "/x", "headers": [(b"transfer-encoding", b"chunked")]}
    asyncio.run(BodyLimitMiddleware(app, limit=limit)(scope, receive, send))
    return sent


async def _reads_the_whole_body(scope: Scope, receive: Receive, send: Send) -> None:
    """As a JSON route does; should it get the body, it answers 200."""
    body = await Request(scope, receive).body()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": str(len(body)).encode()})


def test_an_endless_body_is_read_no_further_than_the_limit() -> None:
    reads = 0

    async def endless() -> Message:
        nonlocal reads
        reads += 1
        return {"type": "http.request", "body": b"x" * 1024, "more_body": True}

    sent = _serve(10_000, endless, _reads_the_whole_body)
    assert reads == 10  # 10 KiB is the first read past 10,000 bytes
    assert sent[0]["status"] == 413
    assert (b"connection", b"close") in sent[0]["headers"]
    assert json.loads(sent[1]["body"])["status"] == 413


def test_an_app_that_answers_its_own_error_on_the_cut_body_still_gives_413() -> None:
    async def swallowing(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await Request(scope, receive).body()
        except Exception:  # noqa: BLE001 - as FastAPI turns a failed body read into a 400
            await send({"type": "http.response.start", "status": 400, "headers": []})
            await send({"type": "http.response.body", "body": b"bad"})

    async def big() -> Message:
        return {"type": "http.request", "body": b"x" * 20_000, "more_body": False}

    sent = _serve(10_000, big, swallowing)
    assert [m["status"] for m in sent if m["type"] == "http.response.start"] == [413]


def test_a_failure_that_is_not_the_limit_is_not_hidden() -> None:
    async def failing(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("boom")

    async def small() -> Message:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    with pytest.raises(RuntimeError, match="boom"):
        _serve(10_000, small, failing)
