"""Tenant settings (defaults that fill missing fields)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body

from clientdock.deps import DbSession
from clientdock.errors import ValidationFailed
from clientdock.tenants import service
from clientdock.tenants.auth import ClientsRead, TenantAdmin
from clientdock.tenants.context import effective_settings
from clientdock.tenants.models import Tenant

router = APIRouter(prefix="/tenants/{tenant}", tags=["tenants"])


@router.get("/settings", summary="The tenant's defaults and limits")
def get_settings(scope: ClientsRead) -> dict[str, Any]:
    return {"tenant": scope.tenant.code, "name": scope.tenant.name, **effective_settings(scope.tenant)}


@router.patch("/settings", summary="Change the tenant's defaults and limits")
@router.put("/settings", include_in_schema=False)
def set_settings(session: DbSession, scope: TenantAdmin, body: dict[str, Any] = Body(...)) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ValidationFailed.for_field("body", "must be a JSON object")
    changes = {k: v for k, v in body.items() if k not in ("tenant", "name")}
    settings = service.update_settings(session, session.get_one(Tenant, scope.tenant_id), changes)
    return {"tenant": scope.tenant.code, "name": scope.tenant.name, **settings}
