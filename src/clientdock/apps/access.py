"""Auth dependencies of the partner-app routes. Each reads in a short transaction of its own.

- :data:`PlatformKey`: the platform credential only (tenant and app keys get 403).
- :data:`AssignmentManager`: the platform key, or a tenant key with the ``admin`` scope
  (which may touch its own business only; the service checks the business, and the request
  is bound to the key's tenant). :data:`AssignmentLister`: any key, bound the same way.
- :class:`AppBusinessAccess`: an app's door into one business. The caller is either the app
  (its credential, plus the business in ``X-Business-Uid``) or the business's own tenant key
  (the business is the key's tenant). Either way the app must exist (404), be of type
  ``import_clients`` and be assigned to that business right now (403).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import unquote

from fastapi import Depends, Header, Request
from sqlalchemy.orm import Session

from clientdock.apps import service
from clientdock.apps.models import App
from clientdock.db import Database, bind_tenant
from clientdock.deps import Db, bind_request
from clientdock.errors import ClientdockError, Forbidden, NotFound, ValidationFailed
from clientdock.tenants.auth import Authenticated, Principal
from clientdock.tenants.context import TenantContext, load_context
from clientdock.tenants.models import Tenant

BUSINESS_HEADER = "X-Business-Uid"


def platform_key(principal: Authenticated) -> Principal:
    if principal.kind != "platform":
        raise Forbidden(f"a {principal.kind} key cannot manage partner apps; use the platform credential")
    return principal


def assignment_manager(request: Request, principal: Authenticated) -> Principal:
    service.check_manager(principal)
    _bind_tenant_key(request, principal)
    return principal


def assignment_lister(request: Request, principal: Authenticated) -> Principal:
    """Any key may ask for the list (the service says what each one sees)."""
    _bind_tenant_key(request, principal)
    return principal


def _bind_tenant_key(request: Request, principal: Principal) -> None:
    """A tenant key manages its own business's assignments only: its request acts for that
    tenant (``deps.bind_request``). The platform key and an app key span businesses (login role)."""
    if principal.kind == "tenant" and principal.tenant_id is not None:
        bind_request(request, principal.tenant_id)


PlatformKey = Annotated[Principal, Depends(platform_key)]
AssignmentManager = Annotated[Principal, Depends(assignment_manager)]
AssignmentLister = Annotated[Principal, Depends(assignment_lister)]


@dataclass(frozen=True)
class AppBusiness:
    """An app allowed, at the time of the check, to act for one business."""

    app: App
    tenant: Tenant
    principal: Principal
    ctx: TenantContext

    @property
    def actor(self) -> str:
        if self.principal.kind == "app":
            return f"app:{self.app.app_code_name}"
        return f"app:{self.app.app_code_name} (tenant:{self.principal.key_id})"


class AppBusinessAccess:
    """Dependency: the path's app acting for a business; ``scope`` applies to tenant keys."""

    def __init__(self, scope: str) -> None:
        self.scope = scope

    def __call__(
        self,
        request: Request,
        app_code_name: str,
        principal: Authenticated,
        db: Db,
        x_business_uid: Annotated[
            str | None,
            Header(
                alias=BUSINESS_HEADER,
                description="The business (tenant code or id) the app acts for. Required with an app credential; "
                "with a business's own key it may be omitted (it is the key's business).",
            ),
        ] = None,
    ) -> AppBusiness:
        business = self.check(app_code_name, principal, db, x_business_uid)
        bind_request(request, business.tenant.id)
        return business

    def check(self, app_code_name: str, principal: Principal, db: Database, x_business_uid: str | None) -> AppBusiness:
        """The app acting for the business, if it may, or the refusal."""
        if principal.kind not in ("app", "tenant"):
            raise Forbidden(f"a {principal.kind} key cannot act for a business here; use the app's credential or the business's key")
        if principal.kind == "tenant" and not principal.has(self.scope):
            raise Forbidden(f"this API key lacks the scope '{self.scope}'")
        with db.session() as session:
            app = service.find_app(session, app_code_name)
            if app is None:
                raise NotFound(f"no app '{app_code_name[:80]}'")
            tenant = self._business(session, app, principal, x_business_uid)
            bind_tenant(session, tenant.id)  # the assignment and the business's context are its own
            if app.app_type != service.IMPORT_CLIENTS:
                kind = service.IMPORT_CLIENTS
                raise Forbidden(f"app '{app.app_code_name}' has app_type '{app.app_type}'; only '{kind}' apps can do this")
            if service.assignment_of(session, app, tenant) is None:
                raise Forbidden(f"app '{app.app_code_name}' is not assigned to business '{tenant.code}'")
            return AppBusiness(app, tenant, principal, load_context(session, tenant))

    @staticmethod
    def _business(session: Session, app: App, principal: Principal, given: str | None) -> Tenant:
        given = (given or "").strip() or None
        if principal.kind == "app":
            if principal.app_id != app.id:
                raise Forbidden(f"this credential belongs to another app, not '{app.app_code_name}'")
            if given is None:
                raise ValidationFailed.for_field(BUSINESS_HEADER, "is required with an app credential: the business to act for")
            tenant = service.find_business(session, given)
            if tenant is None:
                raise Forbidden(f"app '{app.app_code_name}' is not assigned to business '{given[:80]}'")
            return tenant
        own = session.get(Tenant, principal.tenant_id) if principal.tenant_id else None
        if own is None:
            raise Forbidden("this API key has no business")
        if given is not None:
            named = service.find_business(session, given)
            if named is None or named.id != own.id:
                raise Forbidden(f"this API key has no access to business '{given[:80]}'")
        return own


AppImportAccess = Annotated[AppBusiness, Depends(AppBusinessAccess("imports:write"))]
AppReadAccess = Annotated[AppBusiness, Depends(AppBusinessAccess("clients:read"))]


AppImportCheck = AppBusinessAccess("imports:write")
#: The app door's import (``routes.import_via_app``): its answers hold the business's clients.
IMPORT_PATH = re.compile(r"/business/clients/v1/apps/(?P<code>[^/]+)/import")


def may_replay(request: Request, db: Database, principal: Principal) -> bool:
    """The Idempotency-Key replay's check (``tenants.idempotency``): an earlier answer of the app
    door is given again only while the caller may still use that door for that business — once
    the app is unassigned, a retry is 403 like any new request, not the stored import."""
    found = IMPORT_PATH.fullmatch(request.url.path)
    if found is None:
        return True
    try:
        AppImportCheck.check(unquote(found["code"]), principal, db, request.headers.get(BUSINESS_HEADER))
    except ClientdockError:
        return False
    return True
