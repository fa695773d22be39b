"""Who is calling, and may they touch this tenant? One place for tenant scoping.

Every tenant route depends on :class:`TenantAccess`, which resolves the path's tenant from
the credential: no route filters by tenant by hand. A checked key and a loaded tenant are kept
a few seconds in :mod:`clientdock.tenants.authcache` (a revocation made through this process
applies at once, one made by another process within that time).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from clientdock.db import Database, bind_tenant
from clientdock.deps import Db, bind_request
from clientdock.errors import Forbidden, Unauthorized
from clientdock.tenants.authcache import CACHE
from clientdock.tenants.context import TenantContext, load_context
from clientdock.tenants.keys import hash_key
from clientdock.tenants.models import Tenant
from clientdock.tenants.service import find_key


@dataclass(frozen=True)
class Principal:
    kind: str
    key_id: str
    tenant_id: str | None
    scopes: frozenset[str]
    app_id: str | None = None

    def has(self, scope: str) -> bool:
        return scope in self.scopes


@dataclass(frozen=True)
class TenantScope:
    """An authenticated caller bound to the one tenant it may act on, with that tenant's
    context (settings, default group), loaded once per request."""

    tenant: Tenant
    principal: Principal
    ctx: TenantContext

    @property
    def tenant_id(self) -> str:
        return self.tenant.id

    @property
    def actor(self) -> str:
        return f"{self.principal.kind}:{self.principal.key_id}"


def presented_key(request: Request) -> str | None:
    key = request.headers.get("x-api-key")
    if key:
        return key.strip()
    auth = request.headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


async def authenticate(request: Request, db: Db) -> Principal:
    """The caller's credential: from the cache, else checked in a short read of its own (in a
    worker thread), so no lock outlives the check. Async so that a cached key costs no thread hop."""
    key = presented_key(request)
    if not key:
        raise Unauthorized("missing API key: send X-API-Key or Authorization: Bearer")
    cache_key = ("key", db.url, hash_key(key))
    principal: Principal | None = CACHE.get(cache_key)
    if principal is None:
        principal = await run_in_threadpool(_check_key, db, key, cache_key)
    request.state.principal = principal
    return principal


async def known_principal(request: Request, db: Database) -> Principal | None:
    """The caller's credential as :func:`authenticate` checks it, or None when there is none or
    it is unknown or revoked (for code before the routes, such as the Idempotency-Key replay)."""
    try:
        return await authenticate(request, db)
    except Unauthorized:
        return None


def _check_key(db: Database, key: str, cache_key: tuple[str, ...]) -> Principal:
    generation = CACHE.generation
    with db.read_session() as session:
        row = find_key(session, key)
    if row is None:
        raise Unauthorized("invalid or revoked API key")
    principal = Principal(row.kind, row.id, row.tenant_id, frozenset(row.scopes or []), row.app_id)
    CACHE.put(cache_key, principal, generation)
    return principal


Authenticated = Annotated[Principal, Depends(authenticate)]


class TenantAccess:
    """Dependency: the path's tenant, if the caller's key belongs to it and carries ``scope``."""

    def __init__(self, scope: str) -> None:
        self.scope = scope

    async def __call__(self, request: Request, tenant: str, principal: Authenticated, db: Db) -> TenantScope:
        if principal.kind != "tenant":
            raise Forbidden(f"an API key of kind {principal.kind!r} cannot act on tenant data")
        cache_key = ("tenant", db.url, principal.tenant_id, tenant)
        loaded: tuple[Tenant, TenantContext] | None = CACHE.get(cache_key)
        if loaded is None:
            loaded = await run_in_threadpool(_load_tenant, db, tenant, principal, cache_key)
        if not principal.has(self.scope):
            raise Forbidden(f"this API key lacks the scope '{self.scope}'")
        bind_request(request, loaded[0].id)
        return TenantScope(loaded[0], principal, loaded[1])


def _load_tenant(db: Database, code: str, principal: Principal, cache_key: tuple[str | None, ...]) -> tuple[Tenant, TenantContext]:
    generation = CACHE.generation
    with db.read_session() as session:
        row = session.scalar(select(Tenant).where(Tenant.code == code))
        if row is None or row.id != principal.tenant_id:
            raise Forbidden(f"this API key has no access to tenant '{code}'")
        bind_tenant(session, row.id)
        loaded = (row, load_context(session, row))
    CACHE.put(cache_key, loaded, generation)
    return loaded


ClientsRead = Annotated[TenantScope, Depends(TenantAccess("clients:read"))]
ClientsWrite = Annotated[TenantScope, Depends(TenantAccess("clients:write"))]
ImportsWrite = Annotated[TenantScope, Depends(TenantAccess("imports:write"))]
TenantAdmin = Annotated[TenantScope, Depends(TenantAccess("admin"))]


class KeyTenantAccess:
    """Dependency for seed paths without a tenant in them: the tenant is the key's own."""

    def __init__(self, scope: str) -> None:
        self.scope = scope

    def __call__(self, request: Request, principal: Authenticated, db: Db) -> TenantScope:
        if principal.kind != "tenant" or principal.tenant_id is None:
            raise Forbidden(f"an API key of kind {principal.kind!r} cannot act on tenant data here")
        if not principal.has(self.scope):
            raise Forbidden(f"this API key lacks the scope '{self.scope}'")
        bind_request(request, principal.tenant_id)
        with db.read_session() as session:
            bind_tenant(session, principal.tenant_id)
            tenant = session.get_one(Tenant, principal.tenant_id)
            return TenantScope(tenant, principal, load_context(session, tenant))


KeyImportsWrite = Annotated[TenantScope, Depends(KeyTenantAccess("imports:write"))]
