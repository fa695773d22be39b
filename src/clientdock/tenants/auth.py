"""Who is calling, and may they touch this tenant? One place for tenant scoping.

Every tenant route depends on :class:`TenantAccess`, which resolves the path's tenant from
the credential: no route filters by tenant by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import select

from clientdock.deps import Db
from clientdock.errors import Forbidden, Unauthorized
from clientdock.tenants.context import TenantContext, load_context
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


def authenticate(request: Request, db: Db) -> Principal:
    """Check the key in a short transaction of its own, so no lock outlives the check."""
    key = presented_key(request)
    if not key:
        raise Unauthorized("missing API key: send X-API-Key or Authorization: Bearer")
    with db.session() as session:
        row = find_key(session, key)
    if row is None:
        raise Unauthorized("invalid or revoked API key")
    principal = Principal(row.kind, row.id, row.tenant_id, frozenset(row.scopes or []), row.app_id)
    request.state.principal = principal
    return principal


Authenticated = Annotated[Principal, Depends(authenticate)]


class TenantAccess:
    """Dependency: the path's tenant, if the caller's key belongs to it and carries ``scope``."""

    def __init__(self, scope: str) -> None:
        self.scope = scope

    def __call__(self, tenant: str, principal: Authenticated, db: Db) -> TenantScope:
        if principal.kind != "tenant":
            raise Forbidden(f"an API key of kind {principal.kind!r} cannot act on tenant data")
        with db.session() as session:
            row = session.scalar(select(Tenant).where(Tenant.code == tenant))
            if row is None or row.id != principal.tenant_id:
                raise Forbidden(f"this API key has no access to tenant '{tenant}'")
            if not principal.has(self.scope):
                raise Forbidden(f"this API key lacks the scope '{self.scope}'")
            return TenantScope(row, principal, load_context(session, row))


ClientsRead = Annotated[TenantScope, Depends(TenantAccess("clients:read"))]
ClientsWrite = Annotated[TenantScope, Depends(TenantAccess("clients:write"))]
ImportsWrite = Annotated[TenantScope, Depends(TenantAccess("imports:write"))]
TenantAdmin = Annotated[TenantScope, Depends(TenantAccess("admin"))]


class KeyTenantAccess:
    """Dependency for seed paths without a tenant in them: the tenant is the key's own."""

    def __init__(self, scope: str) -> None:
        self.scope = scope

    def __call__(self, principal: Authenticated, db: Db) -> TenantScope:
        if principal.kind != "tenant" or principal.tenant_id is None:
            raise Forbidden(f"an API key of kind {principal.kind!r} cannot act on tenant data here")
        if not principal.has(self.scope):
            raise Forbidden(f"this API key lacks the scope '{self.scope}'")
        with db.session() as session:
            tenant = session.get_one(Tenant, principal.tenant_id)
            return TenantScope(tenant, principal, load_context(session, tenant))


KeyImportsWrite = Annotated[TenantScope, Depends(KeyTenantAccess("imports:write"))]
