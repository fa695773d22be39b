"""The connection door (S0): the contacts of a connected platform -> raw records -> a job.

The request is checked whole before anything is written or the platform is called
(:func:`request_of`); the job is then queued with what to fetch, and the worker's stager
(:func:`stage`) reads the platform page by page, outside any transaction, mapping each
contact on its own (a contact that cannot be mapped fails its row alone). Clients are
matched on (connection code, external id), then on email for clients without that ref; what a
match does is the request's ``onExisting`` (update, fillEmpty, skip).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from clientdock.connections import mapping, service
from clientdock.connections.models import Connection
from clientdock.connections.providers import GrantRevoked
from clientdock.db import Database, bind_tenant
from clientdock.errors import FieldError, ValidationFailed
from clientdock.imports import enrich
from clientdock.imports import service as imports
from clientdock.imports.files import flag
from clientdock.jobs import ImportJob, JobEngine
from clientdock.pipeline.existing import OnExisting, parse_on_existing
from clientdock.pipeline.records import Policy, RawRecord
from clientdock.settings import Settings
from clientdock.tenants.context import TenantContext

DOOR = "connection"
POLICY = Policy(match_on=("ref", "email"))
MAPPERS = {"xero": mapping.xero_record, "quickbooks": mapping.quickbooks_record}


@dataclass(frozen=True)
class ConnectionImport:
    connection_code: str
    import_all: bool
    external_ids: list[str]
    since_last: bool = False
    enrich: bool = False
    on_existing: OnExisting = "update"


def request_of(
    connection_code: str | None,
    import_all: str | None,
    since: str | None,
    body: Any,
    enrich_from_companies_house: str | None = None,
    on_existing: str | None = None,
) -> ConnectionImport:
    """The import asked for; 400 naming the field for anything wrong (S0.1, S0.2)."""
    code = (connection_code or "").strip()
    if not code:
        raise ValidationFailed.for_field("connectionCode", "is required: the code of the tenant's connection, e.g. xero-3f9a1c")
    everything = flag("importAll", import_all)
    enriching = flag("enrichFromCompaniesHouse", enrich_from_companies_house)
    existing = parse_on_existing(on_existing)
    if since not in (None, "", "last"):
        raise ValidationFailed.for_field("since", "must be 'last' (only what changed since the last successful import)")
    if everything:
        return ConnectionImport(code, True, [], since == "last", enriching, existing)
    ids = body.get("externalIds") if isinstance(body, dict) else None
    if not isinstance(ids, list) or not ids:
        raise ValidationFailed.for_field("externalIds", 'is required when importAll is false: send {"externalIds": ["..."]}')
    bad = [i for i, value in enumerate(ids) if not isinstance(value, str) or not value.strip() or len(value) > 255]
    if bad:
        message = "must be a non-empty string of at most 255 characters"
        raise ValidationFailed("externalIds must be non-empty strings", [FieldError(f"externalIds[{i}]", message) for i in bad])
    unique = list(dict.fromkeys(value.strip() for value in ids))
    if len(unique) > 10_000:
        raise ValidationFailed.for_field("externalIds", f"{len(unique)} ids; at most 10,000 per import (use importAll)")
    return ConnectionImport(code, False, unique, since == "last", enriching, existing)


def start(session: Session, engine: JobEngine, settings: Settings, ctx: TenantContext, wanted: ConnectionImport, actor: str) -> ImportJob:
    """Queue the import in the caller's transaction (the platform is called by the worker)."""
    enriching = enrich.options(settings, wanted.enrich)  # 400 before anything, when it cannot enrich
    connection = service.usable(service.get_connection(session, ctx, wanted.connection_code))
    options = {
        **enriching,
        "connection": connection.code, "connectionId": connection.id, "provider": connection.provider,
        "importAll": wanted.import_all, "externalIds": wanted.external_ids, "sinceLast": wanted.since_last,
        "since": connection.last_imported_at.isoformat() if wanted.since_last and connection.last_imported_at else None,
    }  # fmt: skip
    policy = replace(POLICY, on_existing=wanted.on_existing)
    return imports.start(session, engine, settings, ctx, imports.NewJob(door=DOOR, policy=policy, options=options, started_by=actor))


def stage(db: Database, settings: Settings, job: ImportJob) -> Iterator[RawRecord]:
    """The worker's stager: every contact asked for, mapped; ids the platform lacks fail."""
    options: dict[str, Any] = job.options
    with db.session() as session:
        bind_tenant(session, job.tenant_id)
        connection = session.get_one(Connection, options["connectionId"])
        code, provider_name, organisation = connection.code, connection.provider, connection.organisation_id
    provider = service.provider_for(settings, provider_name, db)
    store = service.ConnectionTokens(db, settings, job.tenant_id, options["connectionId"])
    ids = None if options.get("importAll") else list(options.get("externalIds") or [])
    since = datetime.fromisoformat(options["since"]) if options.get("since") else None
    to_record = MAPPERS[provider_name]
    index = 0
    try:
        for page in provider.contacts(store, organisation, ids=ids, modified_since=since):
            for contact in page.contacts:
                yield to_record(index, contact, code)
                index += 1
            for missing in page.missing_ids:
                error = FieldError("externalIds", f"{provider_name} has no contact '{missing}'", index, "not_found")
                yield RawRecord(index=index, fields={}, lookup_key=missing, errors=[error], source={"externalId": missing})
                index += 1
    except GrantRevoked:
        store.revoked()
        raise


def import_finished(session: Session, job: ImportJob) -> None:
    """Finish hook: a connection remembers its last import, and when its last successful
    one started reading (what ``since=last`` asks the platform for)."""
    if job.door != DOOR or job.dry_run:
        return
    connection = session.get(Connection, (job.options or {}).get("connectionId"))
    if connection is None:
        return
    connection.last_import_id = job.id
    if job.status == "succeeded" and job.started_at is not None:
        connection.last_imported_at = job.started_at
