"""Clients: read, list, and the writes that run through the shared pipeline.

Create, PATCH and the S2 upsert are each the pipeline with one record and a door-specific
policy, so their field rules are the same as every import's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Select, String, cast, delete, func, or_, select
from sqlalchemy.orm import Session

from clientdock.clients.fields import FIELDS
from clientdock.clients.models import Client, ClientChange, ExternalRef
from clientdock.errors import Conflict, FieldError, NotFound, ValidationFailed
from clientdock.pipeline import run as pipeline
from clientdock.pipeline.records import Policy, RawRecord, Ref, RowOutcome
from clientdock.tenants.context import TenantContext
from clientdock.tenants.models import ClientGroup
from clientdock.tenants.scoping import readable, readable_columns

UPSERT_POLICY = Policy(match_on=("trackingId",), required=("trackingId",), required_on_create=("name",))
CREATE_POLICY = Policy(match_on=(), required_on_create=("name",))
PATCH_POLICY = Policy(match_on=("id",), allow_create=False)


@dataclass(frozen=True)
class ClientFilter:
    search: str | None = None
    tag: str | None = None
    client_group_id: str | None = None
    type: str | None = None


def tenant_clients(ctx: TenantContext) -> Select[Client]:
    return readable(ctx, Client)


def filtered(ctx: TenantContext, flt: ClientFilter) -> Select[Client]:
    query = tenant_clients(ctx)
    if flt.search:
        pattern = f"%{flt.search.strip().lower()}%"
        query = query.where(
            or_(func.lower(Client.name).like(pattern), Client.email_key.like(pattern), func.lower(Client.company).like(pattern))
        )
    if flt.client_group_id:
        query = query.where(Client.client_group_id == flt.client_group_id)
    if flt.type:
        query = query.where(Client.type == flt.type)
    if flt.tag:
        needle = json.dumps(flt.tag.strip().lower())
        query = query.where(func.lower(cast(Client.tags, String)).like(f"%{needle}%"))
    return query


def list_clients(session: Session, ctx: TenantContext, flt: ClientFilter, page: int, page_size: int) -> tuple[list[Client], int]:
    query = filtered(ctx, flt)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Client.name, Client.id).offset((page - 1) * page_size).limit(page_size))
    return list(rows), total


def get_client(session: Session, ctx: TenantContext, client_id: str) -> Client:
    client = session.scalar(tenant_clients(ctx).where(Client.id == client_id))
    if client is None:
        raise NotFound(f"no client '{client_id}' in this tenant")
    return client


def refs_of(session: Session, ctx: TenantContext, client_ids: list[str]) -> dict[str, list[ExternalRef]]:
    out: dict[str, list[ExternalRef]] = {cid: [] for cid in client_ids}
    if client_ids:
        query = readable(ctx, ExternalRef).where(ExternalRef.client_id.in_(client_ids))
        for ref in session.scalars(query.order_by(ExternalRef.source, ExternalRef.external_id)):
            out[ref.client_id].append(ref)
    return out


def run_single(session: Session, ctx: TenantContext, record: RawRecord, policy: Policy) -> RowOutcome:
    """One record through the pipeline; a failure becomes an error naming the field."""
    (outcome,) = pipeline.run(session, ctx, [record], policy)
    if outcome.action == "failed":
        located = [FieldError(e.field, e.message, None, e.code) for e in outcome.errors]
        if any(e.code == "duplicate" for e in located):
            raise Conflict("; ".join(f"{e.field}: {e.message}" for e in located), located)
        raise ValidationFailed("; ".join(f"{e.field}: {e.message}" for e in located), located)
    return outcome


def upsert(session: Session, ctx: TenantContext, fields: dict[str, Any], actor: str | None = None) -> RowOutcome:
    policy = replace(UPSERT_POLICY, actor=actor)
    return run_single(session, ctx, RawRecord(index=0, fields=fields, lookup_key=fields.get("trackingId")), policy)


def create(session: Session, ctx: TenantContext, fields: dict[str, Any], refs: list[Ref], actor: str | None = None) -> RowOutcome:
    return run_single(session, ctx, RawRecord(index=0, fields=fields, refs=refs), replace(CREATE_POLICY, actor=actor))


def patch(session: Session, ctx: TenantContext, client_id: str, fields: dict[str, Any], actor: str | None = None) -> RowOutcome:
    get_client(session, ctx, client_id)
    return run_single(session, ctx, RawRecord(index=0, fields={**fields, "id": client_id}), replace(PATCH_POLICY, actor=actor))


def delete_client(session: Session, ctx: TenantContext, client_id: str, actor: str | None = None) -> None:
    client = get_client(session, ctx, client_id)
    session.execute(delete(ExternalRef).where(ExternalRef.client_id == client.id))
    session.add(ClientChange(tenant_id=ctx.tenant_id, client_id=client.id, action="deleted", field="*", actor=actor))
    session.delete(client)
    session.flush()


def history(session: Session, ctx: TenantContext, client_id: str) -> list[ClientChange]:
    get_client(session, ctx, client_id)
    query = readable(ctx, ClientChange).where(ClientChange.client_id == client_id)
    return list(session.scalars(query.order_by(ClientChange.at.desc(), ClientChange.id)))


def list_groups(session: Session, ctx: TenantContext) -> list[ClientGroup]:
    query = readable(ctx, ClientGroup)
    return list(session.scalars(query.order_by(ClientGroup.is_default.desc(), ClientGroup.name)))


def create_group(session: Session, ctx: TenantContext, name: str) -> ClientGroup:
    name = name.strip()
    if not name:
        raise ValidationFailed.for_field("name", "is required")
    exists = session.scalar(readable_columns(ctx, ClientGroup.id).where(ClientGroup.name == name))
    if exists:
        raise Conflict(f"a client group named '{name}' already exists", [])
    group = ClientGroup(tenant_id=ctx.tenant_id, name=name)
    session.add(group)
    session.flush()
    return group


def client_json(client: Client, refs: list[ExternalRef]) -> dict[str, Any]:
    out: dict[str, Any] = {"id": client.id}
    for spec in FIELDS:
        value = getattr(client, spec.attr)
        out[spec.json] = value.isoformat() if hasattr(value, "isoformat") and spec.kind == "instant" else value
    out["phoneE164"] = client.phone_e164
    out["mobileE164"] = client.mobile_e164
    out["externalRefs"] = [{"source": r.source, "externalId": r.external_id, "language": r.language or None} for r in refs]
    out["enrichment"] = client.enrichment or {}
    out["updatedAt"] = client.updated_at.isoformat()
    return out
