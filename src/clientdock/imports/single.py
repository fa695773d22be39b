"""The single-record door: create, PATCH, the S2 upsert by trackingId, and delete.

Each write is the pipeline with one record and a door-specific policy, so its field rules
are the same as every import's; a failure becomes an error naming the field.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy.orm import Session

from clientdock.clients import repository
from clientdock.errors import Conflict, FieldError, ValidationFailed
from clientdock.pipeline import run as pipeline
from clientdock.pipeline.existing import OnExisting
from clientdock.pipeline.records import Policy, RawRecord, Ref, RowOutcome
from clientdock.tenants.context import TenantContext

UPSERT_POLICY = Policy(match_on=("trackingId",), required=("trackingId",), required_on_create=("name",))
CREATE_POLICY = Policy(match_on=(), required_on_create=("name",))
PATCH_POLICY = Policy(match_on=("id",), allow_create=False)


def run_single(session: Session, ctx: TenantContext, record: RawRecord, policy: Policy) -> RowOutcome:
    """One record through the pipeline; a failure becomes an error naming the field."""
    (outcome,) = pipeline.run(session, ctx, [record], policy)
    if outcome.action == "failed":
        located = [FieldError(e.field, e.message, None, e.code) for e in outcome.errors]
        if any(e.code == "duplicate" for e in located):
            raise Conflict("; ".join(f"{e.field}: {e.message}" for e in located), located)
        raise ValidationFailed("; ".join(f"{e.field}: {e.message}" for e in located), located)
    return outcome


def upsert(
    session: Session, ctx: TenantContext, fields: dict[str, Any], actor: str | None = None, on_existing: OnExisting = "update"
) -> RowOutcome:
    policy = replace(UPSERT_POLICY, actor=actor, on_existing=on_existing)
    return run_single(session, ctx, RawRecord(index=0, fields=fields, lookup_key=fields.get("trackingId")), policy)


def create(session: Session, ctx: TenantContext, fields: dict[str, Any], refs: list[Ref], actor: str | None = None) -> RowOutcome:
    return run_single(session, ctx, RawRecord(index=0, fields=fields, refs=refs), replace(CREATE_POLICY, actor=actor))


def patch(session: Session, ctx: TenantContext, client_id: str, fields: dict[str, Any], actor: str | None = None) -> RowOutcome:
    repository.get_client(session, ctx, client_id)
    return run_single(session, ctx, RawRecord(index=0, fields={**fields, "id": client_id}), replace(PATCH_POLICY, actor=actor))


def delete(session: Session, ctx: TenantContext, client_id: str, actor: str | None = None) -> None:
    repository.get_client(session, ctx, client_id)
    repository.delete_clients(session, ctx, [client_id], action="deleted", job_id=None, actor=actor)
