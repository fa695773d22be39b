"""The enrichment door: what Companies House says of clients, written through the pipeline.

One client (``POST …/clients/{id}/enrich``) is enriched in the request; several (``POST
…/clients/enrich``) in a job whose stager asks the register outside any transaction. An import
asked to enrich (``enrich=companies-house``, a connection's ``enrichFromCompaniesHouse``)
starts that job when it succeeds, for the private limited companies it created.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from clientdock.clients import repository
from clientdock.clients.models import Client
from clientdock.clients.repository import ClientFilter
from clientdock.db import Database
from clientdock.enrichment import service as enrichment
from clientdock.errors import FieldError, PayloadTooLarge, ValidationFailed
from clientdock.imports import service
from clientdock.jobs import FinishHook, ImportJob, ImportRow, JobEngine
from clientdock.pipeline.records import RawRecord, RowOutcome
from clientdock.settings import Settings
from clientdock.tenants.context import TenantContext, load_context
from clientdock.tenants.models import Tenant
from clientdock.tenants.scoping import readable_columns

DOOR = "enrich"
OPTION = "companies-house"
MAX_CLIENTS = 10_000


def wanted(value: str | None, field: str = "enrich") -> bool:
    """An import's ``enrich`` option: ``companies-house`` or nothing; 400 naming it otherwise."""
    if value is None or not value.strip():
        return False
    if value.strip().lower() == OPTION:
        return True
    raise ValidationFailed.for_field(field, f"{value[:40]!r} is not an enrichment; use {OPTION}")


def options(settings: Settings, enrich: bool) -> dict[str, Any]:
    """The job options of an import asked to enrich (400 when the register is not configured)."""
    if not enrich:
        return {}
    enrichment.require_configured(settings)
    return {"enrich": OPTION}


def enrich_one(
    session: Session,
    db: Database,
    engine: JobEngine,
    settings: Settings,
    ctx: TenantContext,
    client_id: str,
    *,
    overwrite: bool,
    actor: str,
) -> RowOutcome:
    """Enrich one client in the request; 400 naming ``companyNumber`` when the register cannot
    identify it. The client's read ends before the register is asked."""
    enrichment.require_configured(settings)
    repository.get_client(session, ctx, client_id)
    session.commit()
    (target,) = enrichment.targets(db, ctx.tenant_id, [client_id])
    register = enrichment.CachedRegister(db, settings, enrichment.register_client(db, settings))
    record = enrichment.record(0, register, target, overwrite=overwrite)
    if record.errors:
        raise ValidationFailed(record.errors[0].message, [FieldError("companyNumber", record.errors[0].message, None, "not_enriched")])
    request = service.NewJob(door=DOOR, policy=enrichment.POLICY, options={"notify": False, "overwrite": overwrite}, started_by=actor)
    _job, (outcome,) = service.run_inline(session, engine, ctx, request, [record])
    return outcome


def client_ids_of(session: Session, ctx: TenantContext, body: Any) -> list[str]:
    """``{"clientIds": [...]}`` or ``{"filter": {search, tag, clientGroupId, type}}``: the
    tenant's clients to enrich (400 naming the field; 413 over 10,000)."""
    if not isinstance(body, dict) or ("clientIds" in body) == ("filter" in body):
        raise ValidationFailed.for_field("clientIds", 'send {"clientIds": [...]} or {"filter": {...}}, one of them')
    if "clientIds" in body:
        ids = body["clientIds"]
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) and i.strip() for i in ids):
            raise ValidationFailed.for_field("clientIds", "must be a non-empty list of client ids")
        chosen = list(dict.fromkeys(i.strip() for i in ids))
        known = set(session.scalars(readable_columns(ctx, Client.id).where(Client.id.in_(chosen[: MAX_CLIENTS + 1]))))
        unknown = [i for i in chosen if i not in known]
        if unknown:
            more = f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""
            raise ValidationFailed.for_field("clientIds", f"no client {unknown[0][:40]!r} in this tenant{more}")
    else:
        flt = body["filter"]
        if not isinstance(flt, dict) or set(flt) - {"search", "tag", "clientGroupId", "type"}:
            raise ValidationFailed.for_field("filter", "must be an object of search, tag, clientGroupId, type")
        query = repository.filtered(ctx, ClientFilter(flt.get("search"), flt.get("tag"), flt.get("clientGroupId"), flt.get("type")))
        chosen = list(session.scalars(query.with_only_columns(Client.id).order_by(Client.name, Client.id).limit(MAX_CLIENTS + 1)))
        if not chosen:
            raise ValidationFailed.for_field("filter", "matches no client of this tenant")
    if len(chosen) > MAX_CLIENTS:
        raise PayloadTooLarge(f"more than {MAX_CLIENTS:,} clients; enrich them in parts", [FieldError("clientIds", "too many clients")])
    return chosen


def start(
    session: Session,
    engine: JobEngine,
    settings: Settings,
    ctx: TenantContext,
    client_ids: list[str],
    *,
    overwrite: bool,
    actor: str | None,
) -> ImportJob:
    enrichment.require_configured(settings)
    request = service.NewJob(
        door=DOOR, policy=enrichment.POLICY, options={"clientIds": client_ids, "overwrite": overwrite}, started_by=actor
    )
    return service.start(session, engine, settings, ctx, request)


def stage(db: Database, settings: Settings, job: ImportJob) -> Iterator[RawRecord]:
    """The worker's stager: each client's enrichment, the register asked outside any transaction."""
    ids: list[str] = list(job.options.get("clientIds") or [])
    found = enrichment.targets(db, job.tenant_id, ids)
    register = enrichment.CachedRegister(db, settings, enrichment.register_client(db, settings))
    yield from enrichment.records(register, found, overwrite=bool(job.options.get("overwrite")))
    present = {t.client_id for t in found}
    for index, gone in enumerate((i for i in ids if i not in present), start=len(found)):
        yield RawRecord(
            index=index, fields={}, lookup_key=gone, errors=[FieldError("id", "the client was deleted before it was enriched", index)]
        )


def after_import(engine: JobEngine, settings: Settings) -> FinishHook:
    """Finish hook: an import asked to enrich starts the enrichment of the private limited
    companies it created, in the transaction that ends it."""

    def hook(session: Session, job: ImportJob) -> None:
        if (job.options or {}).get("enrich") != OPTION or job.dry_run or job.status != "succeeded" or job.door == DOOR:
            return
        created = select(ImportRow.client_id).where(ImportRow.job_id == job.id, ImportRow.action == "created")
        query = readable_columns(job.tenant_id, Client.id).where(Client.id.in_(created), Client.type == "PrivateLimitedCompany")
        companies = list(session.scalars(query))
        if companies:
            ctx = load_context(session, session.get_one(Tenant, job.tenant_id))
            start(session, engine, settings, ctx, companies, overwrite=False, actor=job.started_by)

    return hook
