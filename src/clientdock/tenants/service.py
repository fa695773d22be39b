"""Tenants, their settings and their credentials."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from clientdock.db import utcnow
from clientdock.errors import Conflict, NotFound, ValidationFailed
from clientdock.tenants import keys
from clientdock.tenants.models import ApiKey, ClientGroup, Tenant

TENANT_SCOPES = ("clients:read", "clients:write", "imports:write", "admin")
UNASSIGNED = "Unassigned"
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")


@dataclass(frozen=True)
class IssuedKey:
    id: str
    key: str


def create_tenant(session: Session, code: str, name: str | None = None) -> Tenant:
    if not _CODE.match(code):
        raise ValidationFailed.for_field("code", "use 1-64 letters, digits, '.', '-' or '_'")
    if session.scalar(select(Tenant.id).where(Tenant.code == code)):
        raise Conflict(f"tenant '{code}' already exists")
    tenant = Tenant(code=code, name=name or code, settings={})
    session.add(tenant)
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict(f"tenant '{code}' already exists") from exc
    session.add(ClientGroup(tenant_id=tenant.id, name=UNASSIGNED, is_default=True))
    session.flush()
    return tenant


def get_tenant(session: Session, code: str) -> Tenant:
    tenant = session.scalar(select(Tenant).where(Tenant.code == code))
    if tenant is None:
        raise NotFound(f"no tenant '{code}'")
    return tenant


def issue_key(
    session: Session, *, kind: str, tenant_id: str | None = None, app_id: str | None = None, scopes: list[str] | None = None
) -> IssuedKey:
    if scopes is not None:
        unknown = [s for s in scopes if s not in TENANT_SCOPES]
        if unknown:
            raise ValidationFailed.for_field("scope", f"unknown scope(s) {unknown}; use {', '.join(TENANT_SCOPES)}")
    prefix, secret = keys.generate()
    row = ApiKey(
        kind=kind, tenant_id=tenant_id, app_id=app_id, prefix=prefix, secret_hash=keys.hash_key(secret),
        scopes=list(scopes if scopes is not None else (TENANT_SCOPES if kind == "tenant" else [])),
    )  # fmt: skip
    session.add(row)
    session.flush()
    return IssuedKey(row.id, secret)


def revoke_key(session: Session, key_id: str) -> ApiKey:
    row = session.get(ApiKey, key_id)
    if row is None:
        raise NotFound(f"no API key '{key_id}'")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    return row


def find_key(session: Session, key: str) -> ApiKey | None:
    prefix = keys.prefix_of(key)
    if prefix is None:
        return None
    row = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if row is None or row.revoked_at is not None or not keys.matches(key, row.secret_hash):
        return None
    return row
