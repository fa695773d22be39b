"""Match: find the existing client of every candidate, set-based, and catch duplicates.

Keys are tried in the door's order (``Policy.match_on``): id, trackingId, an external
reference (source, id, language), email (case-insensitive). Inside one batch the first
record that claims a client, an email or a key wins; later ones fail as duplicates.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, any_, bindparam, literal_column, select, union_all
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import InstrumentedAttribute, Session

from clientdock.clients.models import Client, ExternalRef
from clientdock.pipeline.records import Candidate, Policy, Ref
from clientdock.tenants.context import TenantContext
from clientdock.tenants.models import ClientGroup
from clientdock.tenants.scoping import owned_for_key_lookup, readable_columns

IN_CHUNK = 500


def chunked(items: Sequence[Any], size: int = IN_CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def key_in(session: Session, column: InstrumentedAttribute[Any], values: Sequence[Any]) -> Iterator[ColumnElement[bool]]:
    """``column IN values`` as few conditions as the database allows: one ``= ANY(array)`` (one
    parameter, one round trip) on PostgreSQL; lists of ``IN_CHUNK`` on SQLite (its limit on
    parameters)."""
    if not values:
        return
    if session.get_bind().dialect.name == "postgresql":
        yield column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
        return
    for part in chunked(values):
        yield column.in_(part)


@dataclass
class Existing:
    """What the database already holds for the keys a batch mentions."""

    ids: set[str] = field(default_factory=set)
    by_tracking: dict[str, str] = field(default_factory=dict)
    by_email: dict[str, str] = field(default_factory=dict)
    by_ref: dict[Ref, str] = field(default_factory=dict)


def lookup(session: Session, ctx: TenantContext, candidates: Sequence[Candidate]) -> Existing:
    found = Existing()
    ids = sorted({c.match_id for c in candidates if c.match_id})
    tracking = sorted({c.values["tracking_id"] for c in candidates if c.values.get("tracking_id")})
    emails = sorted({c.values["email_key"] for c in candidates if c.values.get("email_key")})
    refs = {r for c in candidates for r in c.refs} | {c.parent for c in candidates if c.parent}
    # One statement for the three kinds of key (one round trip): rows of (key, client id, kind).
    parts: list[Select[Any]] = []
    for condition in key_in(session, Client.id, ids):
        by_id = cast("Select[Any]", select(Client.id.label("key"), Client.id, literal_column("'i'")))
        parts.append(by_id.where(owned_for_key_lookup(Client, ctx), condition))
    for condition in key_in(session, Client.tracking_id, tracking):
        parts.append(readable_columns(ctx, Client.tracking_id, Client.id).add_columns(literal_column("'t'")).where(condition))
    for condition in key_in(session, Client.email_key, emails):
        parts.append(readable_columns(ctx, Client.email_key, Client.id).add_columns(literal_column("'e'")).where(condition))
    if parts:
        for key, client_id, kind in session.execute(parts[0] if len(parts) == 1 else union_all(*parts)):
            if kind == "i":
                found.ids.add(client_id)
            elif key:
                (found.by_tracking if kind == "t" else found.by_email)[key] = client_id
    found.by_ref = lookup_refs(session, ctx, refs)
    return found


def lookup_refs(session: Session, ctx: TenantContext, refs: Iterable[Ref]) -> dict[Ref, str]:
    wanted = set(refs)
    external_ids = sorted({r.external_id for r in wanted})
    out: dict[Ref, str] = {}
    for condition in key_in(session, ExternalRef.external_id, external_ids):
        query = readable_columns(ctx, ExternalRef.source, ExternalRef.external_id, ExternalRef.language, ExternalRef.client_id).where(
            condition
        )
        for source, external_id, language, client_id in session.execute(query):
            ref = Ref(source, external_id, language)
            if ref in wanted:
                out[ref] = client_id
    return out


@dataclass
class _Claims:
    clients: dict[str, int] = field(default_factory=dict)
    emails: dict[str, int] = field(default_factory=dict)
    tracking: dict[str, int] = field(default_factory=dict)
    refs: dict[Ref, int] = field(default_factory=dict)


def match(session: Session, ctx: TenantContext, candidates: Sequence[Candidate], policy: Policy) -> Existing:
    check_references(session, ctx, candidates)
    live = [c for c in candidates if not c.failed]
    existing = lookup(session, ctx, live)
    claims = _Claims()
    for candidate in live:
        _match_one(candidate, existing, policy)
        _claim(candidate, existing, claims)
    _resolve_parents(candidates, existing, claims)
    return existing


def _match_one(candidate: Candidate, existing: Existing, policy: Policy) -> None:
    for key in policy.match_on:
        client_id, how = _find(candidate, existing, key)
        if client_id:
            candidate.client_id, candidate.matched_by = client_id, how
            return
        if key == "id" and candidate.match_id:
            candidate.warn("id", f"'{candidate.match_id}' is not a client of this tenant; matched by the other keys", candidate.match_id)


def _find(candidate: Candidate, existing: Existing, key: str) -> tuple[str | None, str]:
    if key == "id" and candidate.match_id in existing.ids:
        return candidate.match_id, "id"
    if key == "trackingId" and candidate.values.get("tracking_id"):
        return existing.by_tracking.get(candidate.values["tracking_id"]), "trackingId"
    if key == "ref":
        for ref in candidate.refs:
            if ref in existing.by_ref:
                return existing.by_ref[ref], "ref"
    if key == "email" and candidate.values.get("email_key"):
        return existing.by_email.get(candidate.values["email_key"]), "email"
    return None, key


def _claim(candidate: Candidate, existing: Existing, claims: _Claims) -> None:
    """Fail the candidate when an earlier one of the batch, or another client, holds its keys."""
    index = candidate.index
    if candidate.client_id is not None:
        first = claims.clients.get(candidate.client_id)
        if first is not None:
            candidate.fail(_key_field(candidate), f"duplicate: the same client as row {first}", code="duplicate")
            return
    email = candidate.values.get("email_key")
    if email:
        if email in claims.emails:
            candidate.fail("email", f"duplicate: email already used by row {claims.emails[email]}", code="duplicate")
            return
        owner = existing.by_email.get(email)
        if owner is not None and owner != candidate.client_id:
            candidate.fail("email", "already belongs to another client of this tenant", code="duplicate")
            return
    tracking = candidate.values.get("tracking_id")
    if tracking:
        if tracking in claims.tracking:
            candidate.fail("trackingId", f"duplicate: trackingId already used by row {claims.tracking[tracking]}", code="duplicate")
            return
        owner = existing.by_tracking.get(tracking)
        if owner is not None and owner != candidate.client_id:
            candidate.fail("trackingId", "already belongs to another client of this tenant", code="duplicate")
            return
    for ref in candidate.refs:
        if ref in claims.refs:
            candidate.fail("sourceId", f"duplicate: {ref.lookup_key} already used by item {claims.refs[ref]}", code="duplicate")
            return
        owner = existing.by_ref.get(ref)
        if owner is not None and owner != candidate.client_id:
            candidate.fail("sourceId", f"{ref.lookup_key} already belongs to another client of this tenant", code="duplicate")
            return
    if candidate.client_id is not None:
        claims.clients[candidate.client_id] = index
    if email:
        claims.emails[email] = index
    if tracking:
        claims.tracking[tracking] = index
    for ref in candidate.refs:
        claims.refs[ref] = index


def _key_field(candidate: Candidate) -> str:
    return {"id": "id", "trackingId": "trackingId", "ref": "sourceId", "email": "email"}.get(candidate.matched_by or "", "id")


def _resolve_parents(candidates: Sequence[Candidate], existing: Existing, claims: _Claims) -> None:
    """Each parent reference names a client of the tenant or another item of the batch, never
    the item itself or one of its own descendants in the batch."""
    live = [c for c in candidates if not c.failed]
    given = {ref for c in candidates for ref in c.refs}
    for candidate in live:
        parent = candidate.parent
        if parent is None:
            continue
        if parent in candidate.refs:
            candidate.fail("parent", "cannot be the item itself", code="invalid")
        elif parent in existing.by_ref or parent in claims.refs:
            continue
        elif parent in given:
            candidate.fail("parent", f"parent item '{parent.lookup_key}' failed", code="invalid")
        else:
            candidate.fail("parent", f"no client with lookupKey '{parent.lookup_key}' in this tenant or this request", code="invalid")
    _fail_cycles([c for c in live if not c.failed])


def _fail_cycles(live: Sequence[Candidate]) -> None:
    """Items whose parent chain within the batch comes back to themselves fail."""
    by_ref = {ref: c for c in live for ref in c.refs}
    in_cycle: list[Candidate] = []
    for candidate in live:
        current, steps = candidate, 0
        while current.parent is not None and current.parent in by_ref and steps <= len(live):
            current, steps = by_ref[current.parent], steps + 1
            if current is candidate:
                in_cycle.append(candidate)
                break
    for candidate in in_cycle:
        assert candidate.parent is not None
        candidate.fail("parent", f"'{candidate.parent.lookup_key}' descends from this item: parents would form a cycle", code="invalid")


def check_references(session: Session, ctx: TenantContext, candidates: Sequence[Candidate]) -> None:
    """Fail candidates naming a client group or a parent client the tenant does not have."""
    live = [c for c in candidates if not c.failed]
    groups = sorted({c.values["client_group_id"] for c in live if c.values.get("client_group_id")})
    parents = sorted({c.values["parent_id"] for c in live if c.values.get("parent_id")})
    known_groups: set[str] = set()
    for part in chunked(groups):
        known_groups.update(session.scalars(readable_columns(ctx, ClientGroup.id).where(ClientGroup.id.in_(part))))
    known_parents: set[str] = set()
    for part in chunked(parents):
        known_parents.update(session.scalars(select(Client.id).where(owned_for_key_lookup(Client, ctx), Client.id.in_(part))))
    for candidate in live:
        group = candidate.values.get("client_group_id")
        if group and group not in known_groups:
            candidate.fail("clientGroupId", f"no client group '{group}' in this tenant")
        parent = candidate.values.get("parent_id")
        if parent and parent not in known_parents:
            candidate.fail("parentId", f"no client '{parent}' in this tenant")
