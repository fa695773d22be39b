"""The pipeline as one call: map (done by the door) -> validate -> normalise -> match -> apply -> report."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from clientdock.pipeline.apply import apply
from clientdock.pipeline.match import match
from clientdock.pipeline.normalise import normalise
from clientdock.pipeline.records import Candidate, Policy, RawRecord, RowOutcome
from clientdock.pipeline.validate import validate
from clientdock.tenants.context import TenantContext


def prepare(records: Sequence[RawRecord], ctx: TenantContext, policy: Policy) -> list[Candidate]:
    candidates = [normalise(record, ctx) for record in records]
    for candidate in candidates:
        validate(candidate, policy)
    return candidates


def run(session: Session, ctx: TenantContext, records: Sequence[RawRecord], policy: Policy) -> list[RowOutcome]:
    """Run one batch inside the caller's transaction; the caller commits (or rolls back a dry run)."""
    return write(session, ctx, prepare(records, ctx, policy), policy)


def write(session: Session, ctx: TenantContext, candidates: list[Candidate], policy: Policy) -> list[RowOutcome]:
    """Match and apply prepared candidates (``prepare`` needs no database, so it may run ahead)."""
    existing = match(session, ctx, candidates, policy)
    outcomes = apply(session, ctx, candidates, policy, existing)
    session.flush()
    return outcomes
