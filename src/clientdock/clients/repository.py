"""Every read and write of the client tables, scoped to one tenant; no import logic.

The doors write clients through the pipeline (``clientdock.pipeline``); what they share
beyond it lives here: reads and lists, client groups, the audit trail (``record_changes``)
and the one way to delete clients with their external refs and an audit row each.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, String, and_, cast, delete, func, or_, select
from sqlalchemy.orm import Session

from clientdock.clients.fields import FIELDS
from clientdock.clients.models import Client, ClientChange, ExternalRef
from clientdock.db import new_id, table_of, utcnow
from clientdock.errors import Conflict, NotFound, ValidationFailed
from clientdock.rowwrite import insert_rows
from clientdock.tenants.context import TenantContext
from clientdock.tenants.models import ClientGroup
from clientdock.tenants.scoping import owned, readable, readable_columns

#: One audit entry: client id, action, field, before, after, when.
Change = tuple[str, str, str, Any, Any, datetime]
#: Rows per INSERT of audit rows, and ids per IN (...) list (SQLite allows 32,766 parameters).
AUDIT_CHUNK = 500
KEY_CHUNK = 500


#: What the register's key dates can be filtered on (``ClientFilter.due``).
DUE_FILTERS = ("accounts-overdue", "confirmation-due-30d")


@dataclass(frozen=True)
class ClientFilter:
    search: str | None = None
    tag: str | None = None
    client_group_id: str | None = None
    type: str | None = None
    #: accounts-overdue, or confirmation-due-30d (the confirmation statement is due within 30 days, or late)
    due: str | None = None


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
    if flt.due == "accounts-overdue":
        query = query.where(Client.enrichment[("keyDates", "accountsOverdue")].as_boolean().is_(True))
    elif flt.due == "confirmation-due-30d":
        within = (utcnow().date() + timedelta(days=30)).isoformat()
        query = query.where(Client.enrichment[("keyDates", "confirmationStatementNextDue")].as_string() <= within)
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


def existing_ids(session: Session, ctx: TenantContext, client_ids: Iterable[str]) -> set[str]:
    """Which of these clients of the tenant are still there (an import's rows may name deleted ones)."""
    wanted = sorted(set(client_ids))
    found: set[str] = set()
    for start in range(0, len(wanted), KEY_CHUNK):
        found.update(session.scalars(readable_columns(ctx, Client.id).where(Client.id.in_(wanted[start : start + KEY_CHUNK]))))
    return found


def refs_of(session: Session, ctx: TenantContext, client_ids: list[str]) -> dict[str, list[ExternalRef]]:
    out: dict[str, list[ExternalRef]] = {cid: [] for cid in client_ids}
    if client_ids:
        query = readable(ctx, ExternalRef).where(ExternalRef.client_id.in_(client_ids))
        for ref in session.scalars(query.order_by(ExternalRef.source, ExternalRef.external_id)):
            out[ref.client_id].append(ref)
    return out


def record_changes(session: Session, ctx: TenantContext, entries: Iterable[Change], *, job_id: str | None, actor: str | None) -> None:
    """Append audit rows: (client id, action, field, before, after, at) each."""
    rows = [
        {"id": new_id(), "tenant_id": ctx.tenant_id, "client_id": client_id, "job_id": job_id,
         "action": action, "field": field, "before": before, "after": after, "at": at, "actor": actor}
        for client_id, action, field, before, after, at in entries
    ]  # fmt: skip
    insert_rows(session, table_of(ClientChange), rows)


def delete_clients(
    session: Session, ctx: TenantContext, client_ids: Sequence[str], *, action: str, job_id: str | None, actor: str | None
) -> list[str]:
    """Delete these clients of the tenant with their external refs, and record ``action`` on
    each in the audit trail; returns the ids that were there to delete."""
    deleted: list[str] = []
    connection = session.connection()
    now = utcnow()
    for start in range(0, len(client_ids), KEY_CHUNK):
        part = client_ids[start : start + KEY_CHUNK]
        present = list(session.scalars(readable_columns(ctx, Client.id).where(Client.id.in_(part))))
        if not present:
            continue
        connection.execute(delete(table_of(ExternalRef)).where(table_of(ExternalRef).c.client_id.in_(present)))
        connection.execute(delete(table_of(Client)).where(table_of(Client).c.id.in_(present)))
        record_changes(session, ctx, ((client_id, action, "*", None, None, now) for client_id in present), job_id=job_id, actor=actor)
        deleted.extend(present)
    return deleted


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


def client_body(session: Session, ctx: TenantContext, client_id: str) -> dict[str, Any]:
    """The tenant's client ``client_id`` as the API answers it (404 when it has none): the
    client and its external references in one statement (every write door answers with it)."""
    query = (
        tenant_clients(ctx)
        .where(Client.id == client_id)
        .outerjoin(ExternalRef, and_(ExternalRef.client_id == Client.id, owned(ExternalRef, ctx)))
        .add_columns(ExternalRef)
        .order_by(ExternalRef.source, ExternalRef.external_id)
    )
    rows = session.execute(query).all()
    if not rows:
        raise NotFound(f"no client '{client_id}' in this tenant")
    return client_json(rows[0][0], [ref for _client, ref in rows if ref is not None])


def client_json(client: Client, refs: list[ExternalRef]) -> dict[str, Any]:
    out: dict[str, Any] = {"id": client.id}
    for spec in FIELDS:
        value = getattr(client, spec.attr)
        out[spec.json] = value.isoformat() if hasattr(value, "isoformat") and spec.kind == "instant" else value
    out["phoneE164"] = client.phone_e164
    out["mobileE164"] = client.mobile_e164
    out["externalRefs"] = [{"source": r.source, "externalId": r.external_id, "language": r.language or None} for r in refs]
    out["enrichment"] = enrichment = client.enrichment or {}
    register = enrichment if enrichment.get("source") == "companiesHouse" else None
    out["companiesHouse"] = {k: v for k, v in register.items() if k != "keyDates"} if register else None
    out["keyDates"] = register.get("keyDates") if register else None
    out["updatedAt"] = client.updated_at.isoformat()
    return out
