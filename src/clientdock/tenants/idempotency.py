"""Idempotency-Key for every POST (IETF draft semantics).

Same key + same body within 24 h replays the first answer; same key + another body is 422;
same key while the first request is still running is 409. Keys are scoped to the credential
that sent them, so two tenants can never see each other's answers. A tenant key's records carry
its tenant and are read and written bound to it (``db.bind_tenant``): on PostgreSQL row-level
security backs the credential filter.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Awaitable, Callable
from datetime import timedelta

from fastapi import Request, Response
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from clientdock.db import Database, bind_tenant, utcnow
from clientdock.errors import Conflict, FieldError, UnprocessableIdempotency
from clientdock.problems import problem
from clientdock.tenants.auth import Principal, known_principal, presented_key
from clientdock.tenants.keys import hash_key
from clientdock.tenants.models import IdempotencyRecord

HEADER = "idempotency-key"
TTL = timedelta(hours=24)
REPLAYED_HEADERS = ("content-type", "location", "retry-after", "preference-applied", "cache-control")


def _claim(db: Database, principal: str, tenant_id: str | None, key: str, digest: str) -> IdempotencyRecord | None:
    """Record the key as in flight; return the earlier record when there is one."""
    with db.session() as session:
        # Housekeeping of every credential's expired records, before the session acts for the tenant.
        session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < utcnow() - TTL))
        _bind(session, tenant_id)
        found = session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.principal == principal, IdempotencyRecord.key == key))
        if found is not None:
            return found
        session.add(IdempotencyRecord(principal=principal, tenant_id=tenant_id, key=key, request_hash=digest))
        try:
            session.flush()
        except IntegrityError:
            session.rollback()
            return session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.principal == principal, IdempotencyRecord.key == key))
    return None


def _store(db: Database, principal: str, tenant_id: str | None, key: str, status: int, body: bytes, headers: dict[str, str]) -> None:
    with db.session() as session:
        _bind(session, tenant_id)
        record = session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.principal == principal, IdempotencyRecord.key == key))
        if record is None:
            return
        if status >= 500 or status in (401, 403, 429) or "no-store" in headers.get("cache-control", ""):
            # A response that shows a secret once (a webhook or app secret) is never kept.
            session.delete(record)
            return
        record.status_code, record.response_body, record.response_headers = status, body.decode(), headers


def _bind(session: Session, tenant_id: str | None) -> None:
    """A tenant key's records are its tenant's (row-level security on PostgreSQL); a platform or
    app key's belong to no tenant and are read by the login role, by the credential's hash alone."""
    if tenant_id is not None:
        bind_tenant(session, tenant_id)


def tenant_of(caller: Principal) -> str | None:
    """The tenant whose data a caller's stored answers are: a tenant key's own, else none."""
    return caller.tenant_id if caller.kind == "tenant" else None


def _canonical(request: Request, body: bytes) -> bytes:
    """The body as compared between retries. A multipart body carries a boundary that HTTP
    clients choose at random for every send, so a retried upload would never match itself:
    the boundary is taken out before hashing."""
    media_type, _, params = request.headers.get("content-type", "").partition(";")
    if media_type.strip().lower() != "multipart/form-data":
        return body
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.lower() == "boundary" and value.strip('"'):
            return body.replace(value.strip('"').encode("latin-1"), b"")
    return body


#: Whether a valid credential may still be given an earlier answer to this request. A key's
#: tenant and scopes never change, but some access can end while the key lives on (a partner
#: app's assignment to a business): the layer that grants it says so (``apps.access.may_replay``).
ReplayCheck = Callable[[Request, Database, Principal], bool]


async def middleware(
    request: Request, call_next: Callable[[Request], Awaitable[Response]], replay_allowed: ReplayCheck | None = None
) -> Response:
    key = request.headers.get(HEADER)
    credential = presented_key(request)
    if request.method != "POST" or not key or not credential:
        return await call_next(request)
    if len(key) > 255:
        return problem(400, "Bad request", "Idempotency-Key is longer than 255 characters", [FieldError("Idempotency-Key", "too long")])
    db: Database = request.app.state.db
    caller = await known_principal(request, db)
    if caller is None:
        # An unknown or revoked key replays nothing (the answer it once got may hold a tenant's
        # data): the route refuses it with 401 like any other request.
        return await call_next(request)
    body = await request.body()
    acting_for = request.headers.get("x-business-uid", "").encode()  # an app acts for several businesses
    digest = hashlib.sha256(
        request.url.path.encode() + b"\0" + (request.url.query or "").encode() + b"\0" + acting_for + b"\0" + _canonical(request, body)
    ).hexdigest()
    principal = hash_key(credential)[:64]
    tenant_id = tenant_of(caller)
    earlier = await run_in_threadpool(_claim, db, principal, tenant_id, key, digest)
    if earlier is not None:
        if earlier.request_hash != digest:
            exc: Exception = UnprocessableIdempotency("this Idempotency-Key was used with a different request")
            return problem(422, "Idempotency key reused with another request", str(exc), [FieldError("Idempotency-Key", str(exc))])
        if earlier.status_code is None:
            conflict = Conflict("a request with this Idempotency-Key is still being processed; retry later")
            return problem(409, conflict.title, conflict.detail, [FieldError("Idempotency-Key", conflict.detail)])
        if replay_allowed is not None and not await run_in_threadpool(replay_allowed, request, db, caller):
            # The caller may no longer do what it once did (an app unassigned from the business):
            # the route answers, and refuses it, as it would without the key.
            return await call_next(request)
        headers = {**earlier.response_headers, "Idempotent-Replayed": "true"}
        return Response(earlier.response_body or "", status_code=earlier.status_code, headers=headers)
    response = await call_next(request)
    chunks = [chunk async for chunk in response.body_iterator]  # type: ignore[attr-defined]
    payload = b"".join(c if isinstance(c, bytes) else c.encode() for c in chunks)
    kept = {k: v for k, v in response.headers.items() if k.lower() in REPLAYED_HEADERS}
    await run_in_threadpool(_store, db, principal, tenant_id, key, response.status_code, payload, kept)
    return Response(payload, status_code=response.status_code, headers=dict(response.headers))


class IdempotencyMiddleware:
    """:func:`middleware` for the requests it concerns (a POST with an Idempotency-Key); every
    other request goes straight to the app, without the cost of a ``BaseHTTPMiddleware`` (a
    task and a stream per request, a sizeable share of a small request's time)."""

    def __init__(self, app: ASGIApp, replay_allowed: ReplayCheck | None = None) -> None:
        self.app = app
        self.idempotent = BaseHTTPMiddleware(app, dispatch=functools.partial(middleware, replay_allowed=replay_allowed))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and any(name == b"idempotency-key" for name, _ in scope["headers"]):
            await self.idempotent(scope, receive, send)
        else:
            await self.app(scope, receive, send)
