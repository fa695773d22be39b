"""The tenant's settings: the defaults that fill a new client's missing fields, and limits.

They belong to the tenant (``tenants.context`` reads them); they are checked here because
their values are client vocabulary (``defaultType`` is a client type).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from clientdock.clients.types import CLIENT_TYPES
from clientdock.errors import ValidationFailed
from clientdock.tenants.context import DEFAULT_SETTINGS, effective_settings
from clientdock.tenants.models import Tenant

SETTING_RULES: dict[str, tuple[type | tuple[type, ...], str]] = {
    "defaultType": (str, "one of " + ", ".join(CLIENT_TYPES)),
    "defaultActive": (bool, "true or false"),
    "defaultProject": ((str, type(None)), "text or null"),
    "defaultDesk": ((str, type(None)), "text or null"),
    "importRowLimit": (int, "a whole number from 1 to 10000000"),
    "dateOrder": (str, "DMY or MDY"),
    "defaultRegion": (str, "a two-letter region code such as GB"),
}


def update_settings(session: Session, tenant: Tenant, changes: dict[str, Any]) -> dict[str, Any]:
    errors = []
    for key, value in changes.items():
        rule = SETTING_RULES.get(key)
        if rule is None:
            errors.append(ValidationFailed.for_field(key, f"is not a setting; use {', '.join(DEFAULT_SETTINGS)}").errors[0])
        elif not _valid_setting(key, value):
            errors.append(ValidationFailed.for_field(key, f"must be {rule[1]}").errors[0])
    if errors:
        raise ValidationFailed("invalid settings", errors)
    tenant.settings = {**(tenant.settings or {}), **changes}
    session.flush()
    return effective_settings(tenant)


def _valid_setting(key: str, value: Any) -> bool:
    kind, _ = SETTING_RULES[key]
    if isinstance(value, bool) and kind is int:
        return False
    if not isinstance(value, kind):
        return False
    if key == "defaultType":
        return value in CLIENT_TYPES
    if key == "importRowLimit":
        return isinstance(value, int) and 1 <= value <= 10_000_000
    if key == "dateOrder":
        return value in ("DMY", "MDY")
    if key == "defaultRegion":
        return isinstance(value, str) and len(value) == 2 and value.isalpha()
    return True
