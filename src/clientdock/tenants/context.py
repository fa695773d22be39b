"""What the pipeline needs to know about the tenant it writes to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from clientdock.tenants.models import ClientGroup, Tenant
from clientdock.tenants.scoping import readable_columns

DEFAULT_SETTINGS: dict[str, Any] = {
    "defaultType": "Individual",
    "defaultActive": True,
    "defaultProject": None,
    "defaultDesk": None,
    "importRowLimit": 5000,
    "dateOrder": "DMY",
    "defaultRegion": "GB",
}


@dataclass(frozen=True)
class TenantContext:
    tenant_id: str
    code: str
    settings: dict[str, Any]
    unassigned_group_id: str

    def setting(self, key: str) -> Any:
        return self.settings.get(key, DEFAULT_SETTINGS[key])


def effective_settings(tenant: Tenant) -> dict[str, Any]:
    return {**DEFAULT_SETTINGS, **(tenant.settings or {})}


def load_context(session: Session, tenant: Tenant) -> TenantContext:
    group_id = session.scalar(readable_columns(tenant, ClientGroup.id).where(ClientGroup.is_default.is_(True)))
    if group_id is None:
        raise RuntimeError(f"tenant {tenant.code} has no Unassigned group")
    return TenantContext(tenant.id, tenant.code, effective_settings(tenant), group_id)
