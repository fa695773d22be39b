"""Apply: create, update or skip matched candidates in set-based batches.

A matched client is treated as the policy's ``on_existing`` says (``pipeline.existing``):
updated, filled where empty, or skipped (left alone, no new reference).

Runs inside the caller's transaction and only flushes. Creates are multi-row
``INSERT … ON CONFLICT DO NOTHING RETURNING id``; a row that another writer created
meanwhile comes back missing and is matched again, so concurrent identical requests
make one client. Updates are executemany UPDATEs by primary key of the fields that
changed (omit = unchanged). Every change is written to the audit trail.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from clientdock.clients.fields import BY_ATTR, DERIVED_ATTRS
from clientdock.clients.models import Client, ExternalRef
from clientdock.clients.repository import Change, record_changes
from clientdock.db import new_id, table_of, utcnow
from clientdock.pipeline.addresses import merge_by_type
from clientdock.pipeline.existing import SKIPPED, keep_empty_only, kept_message
from clientdock.pipeline.match import Existing, chunked, key_in, lookup
from clientdock.pipeline.normalise import follow_derived_name
from clientdock.pipeline.records import Action, Candidate, FieldWarning, Policy, Ref, RowOutcome
from clientdock.pipeline.validate import validate_create
from clientdock.rowwrite import insert_new_rows, update_rows
from clientdock.tenants.context import TenantContext
from clientdock.tenants.scoping import owned_for_key_lookup, readable_columns

NO_UPDATE_ON = ("created_at",)


def apply(session: Session, ctx: TenantContext, candidates: Sequence[Candidate], policy: Policy, existing: Existing) -> list[RowOutcome]:
    now = utcnow()
    outcomes: dict[int, RowOutcome] = {}
    creates = [c for c in candidates if not c.failed and c.client_id is None]
    for candidate in creates:
        if not policy.allow_create:
            candidate.fail(None, "no existing client matches and this import only updates", code="not_found")
        validate_create(candidate, policy)
    _fail_orphans(candidates)
    creates = [c for c in creates if not c.failed]
    raced = _insert_clients(session, ctx, creates, policy, now)
    if raced:
        _rematch(session, ctx, raced, policy)
    created = {c.index for c in creates}
    for candidate in candidates:
        if candidate.client_id is not None and not candidate.failed and candidate.index not in created:
            if policy.on_existing == "skip":
                outcomes[candidate.index] = RowOutcome(
                    candidate.index, candidate.lookup_key, "skipped", candidate.client_id,
                    warnings=[*candidate.warnings, FieldWarning(None, SKIPPED)],
                )  # fmt: skip
    ref_map = _ref_map(candidates, existing)
    updates = [c for c in candidates if c.client_id and not c.failed and c.index not in created and c.index not in outcomes]
    _set_parents(candidates, ref_map)
    _fail_parent_cycles(session, ctx, updates)
    changed = _update_clients(session, ctx, [c for c in updates if not c.failed], policy, now)
    _set_created_parents(session, creates)
    # A skipped client is left alone: it gets no new reference either.
    _insert_refs(session, ctx, [c for c in candidates if c.client_id and not c.failed and c.index not in outcomes], existing)
    for candidate in candidates:
        if candidate.index in outcomes:
            continue
        outcomes[candidate.index] = _outcome(candidate, created, changed)
    return [outcomes[c.index] for c in candidates]


def _outcome(candidate: Candidate, created: set[int], changed: dict[int, dict[str, tuple[Any, Any]]]) -> RowOutcome:
    if candidate.failed:
        return RowOutcome(candidate.index, candidate.lookup_key, "failed", candidate.client_id, candidate.errors, candidate.warnings)
    if candidate.index in created:
        return RowOutcome(candidate.index, candidate.lookup_key, "created", candidate.client_id, warnings=candidate.warnings)
    diff = changed.get(candidate.index, {})
    action: Action = "updated" if diff else "unchanged"
    return RowOutcome(candidate.index, candidate.lookup_key, action, candidate.client_id, warnings=candidate.warnings, changes=diff)


def _fail_orphans(candidates: Sequence[Candidate]) -> None:
    """A child whose parent item failed cannot point at it: fail it too (repeat for chains)."""
    failed_refs = {ref for c in candidates if c.failed for ref in c.refs}
    while True:
        # A ref also held by a live item (the failed one was its in-batch duplicate) is fine.
        failed_refs -= {ref for c in candidates if not c.failed for ref in c.refs}
        newly = [c for c in candidates if not c.failed and c.parent in failed_refs]
        if not newly:
            return
        for child in newly:
            assert child.parent is not None
            child.fail("parent", f"parent item '{child.parent.lookup_key}' failed")
            failed_refs.update(child.refs)


def new_row(ctx: TenantContext, candidate: Candidate, now: datetime, defaults: dict[str, Any]) -> dict[str, Any]:
    """A full clients row: the tenant's defaults (``_defaults``, built once per batch) under the
    candidate's values."""
    row = _fresh(defaults)
    if candidate.inferred_type:
        row["type"] = candidate.inferred_type
    row.update(candidate.values)
    row["id"] = candidate.client_id or new_id()
    row["tenant_id"] = ctx.tenant_id
    row["created_at"] = row.get("created_at") or now
    row["updated_at"] = now
    if not row.get("client_group_id"):
        row["client_group_id"] = ctx.unassigned_group_id
    return row


def _defaults(ctx: TenantContext) -> dict[str, Any]:
    """The tenant's defaults for a new client, every other column empty."""
    row: dict[str, Any] = dict.fromkeys((*BY_ATTR, *DERIVED_ATTRS))
    row.update(
        type=ctx.setting("defaultType"),
        active=bool(ctx.setting("defaultActive")),
        project=ctx.setting("defaultProject"),
        desk=ctx.setting("defaultDesk"),
        client_group_id=ctx.unassigned_group_id,
        tags=[],
        attributes=[],
        addresses=[],
        enrichment={},
    )
    return row


def _fresh(defaults: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``defaults`` whose empty lists and objects are its own."""
    row = dict(defaults)
    row.update(tags=[], attributes=[], addresses=[], enrichment={})
    return row


def _insert_clients(session: Session, ctx: TenantContext, creates: list[Candidate], policy: Policy, now: datetime) -> list[Candidate]:
    """Insert new clients; return the candidates whose row lost a race to another writer."""
    rows = []
    defaults = _defaults(ctx)
    for candidate in creates:
        row = new_row(ctx, candidate, now, defaults)
        row["parent_id"] = None
        candidate.client_id = row["id"]
        rows.append(row)
    # COPY into a staging table merged by INSERT … ON CONFLICT DO NOTHING on PostgreSQL, the
    # driver's executemany on SQLite; the ids are ours, so one not inserted lost a race.
    inserted = insert_new_rows(session, table_of(Client), rows)
    raced: list[Candidate] = []
    for candidate in creates:
        if candidate.client_id not in inserted:
            candidate.client_id = None
            raced.append(candidate)
    done = [c for c in creates if c.client_id is not None]
    _audit(session, ctx, policy, [(c.client_id, "created", "*", None, None, now) for c in done if c.client_id])
    for candidate in raced:
        creates.remove(candidate)
    return raced


def _rematch(session: Session, ctx: TenantContext, raced: list[Candidate], policy: Policy) -> None:
    """Candidates whose insert conflicted: find the client the other writer made, or fail."""
    found = lookup(session, ctx, raced)
    for candidate in raced:
        for key in policy.match_on:
            if key == "trackingId" and candidate.values.get("tracking_id") in found.by_tracking:
                candidate.client_id = found.by_tracking[candidate.values["tracking_id"]]
            elif key == "email" and candidate.values.get("email_key") in found.by_email:
                candidate.client_id = found.by_email[candidate.values["email_key"]]
            elif key == "ref":
                candidate.client_id = next((found.by_ref[r] for r in candidate.refs if r in found.by_ref), None)
            if candidate.client_id:
                candidate.matched_by = key
                break
        if candidate.client_id is None:
            field = "trackingId" if candidate.values.get("tracking_id") in found.by_tracking else "email"
            candidate.fail(field, "already belongs to another client of this tenant", code="duplicate")


def _ref_map(candidates: Sequence[Candidate], existing: Existing) -> dict[Ref, str]:
    out = dict(existing.by_ref)
    for candidate in candidates:
        if candidate.client_id and not candidate.failed:
            out.update(dict.fromkeys(candidate.refs, candidate.client_id))
    return out


def _set_parents(candidates: Sequence[Candidate], ref_map: dict[Ref, str]) -> None:
    for candidate in candidates:
        if candidate.parent is not None and not candidate.failed:
            candidate.values["parent_id"] = ref_map.get(candidate.parent)


MAX_PARENT_DEPTH = 1000


def _fail_parent_cycles(session: Session, ctx: TenantContext, updates: Sequence[Candidate]) -> None:
    """An existing client may not become its own parent or the child of one of its descendants.

    Each update's new parent chain is walked upwards, level by level (one query per level for
    the whole batch), through the parents this batch sets and those already stored.
    """
    new_parent = {c.client_id: c.values["parent_id"] for c in updates if c.client_id and c.values.get("parent_id") and not c.failed}
    by_id = {c.client_id: c for c in updates if c.client_id in new_parent}
    cursor = dict(new_parent)
    for _ in range(MAX_PARENT_DEPTH):
        looped = [client_id for client_id, ancestor in cursor.items() if ancestor == client_id]
        for client_id in looped:
            candidate = by_id[client_id]
            field = "parent" if candidate.parent is not None else "parentId"
            itself = new_parent[client_id] == client_id
            candidate.fail(field, "cannot be the client itself" if itself else "is a descendant of this client: parents would form a cycle")
            del cursor[client_id]
        wanted = sorted({a for a in cursor.values() if a not in new_parent})
        stored: dict[str, str | None] = {}
        for part in chunked(wanted):
            query = readable_columns(ctx, Client.id, Client.parent_id).where(Client.id.in_(part))
            stored.update({row[0]: row[1] for row in session.connection().execute(query)})
        cursor = {cid: up for cid, a in cursor.items() if (up := new_parent[a] if a in new_parent else stored.get(a))}
        if not cursor:
            return
    # Not proven free of a cycle within the levels walked: refuse rather than risk a ring.
    for client_id in cursor:
        candidate = by_id[client_id]
        field = "parent" if candidate.parent is not None else "parentId"
        candidate.fail(field, f"the new parent's chain of parents is more than {MAX_PARENT_DEPTH} levels deep")


def _set_created_parents(session: Session, created: list[Candidate]) -> None:
    rows = [{"id": c.client_id, "parent_id": c.values["parent_id"]} for c in created if c.values.get("parent_id")]
    if rows:
        update_rows(session, table_of(Client), rows)


def _update_clients(
    session: Session, ctx: TenantContext, updates: list[Candidate], policy: Policy, now: datetime
) -> dict[int, dict[str, tuple[Any, Any]]]:
    changed: dict[int, dict[str, tuple[Any, Any]]] = {}
    if not updates:
        return changed
    current = _load_for_update(session, ctx, [c.client_id for c in updates if c.client_id])
    writes: list[dict[str, Any]] = []
    audit: list[tuple[str, str, str, Any, Any, datetime]] = []
    for candidate in updates:
        assert candidate.client_id is not None
        before = current[candidate.client_id]
        # A file's addresses merge into the client's by type (part by part; under fillEmpty
        # only the parts it has not): never judged as one whole list.
        by_type = candidate.values.pop("addresses") if policy.addresses_by_type and "addresses" in candidate.values else None
        if policy.on_existing == "fillEmpty":
            _fill_empty_only(candidate, before, ctx)
        follow_derived_name(candidate, before)
        if by_type is not None:
            candidate.values["addresses"] = merge_by_type(before.get("addresses"), by_type, only_empty=policy.on_existing == "fillEmpty")
        diff = {a: (before.get(a), v) for a, v in candidate.values.items() if a not in NO_UPDATE_ON and before.get(a) != v}
        if not diff:
            continue
        visible = {a: d for a, d in diff.items() if a in BY_ATTR}
        if visible:
            changed[candidate.index] = {BY_ATTR[a].json: (_jsonable(b), _jsonable(v)) for a, (b, v) in visible.items()}
        # Columns in one order, so rows that change the same columns share one statement (update_rows groups them).
        row = {a: diff[a][1] for a in sorted(diff)}
        row["updated_at"] = now
        row["id"] = candidate.client_id
        writes.append(row)
        audit.extend(
            (candidate.client_id, policy.update_action, BY_ATTR[a].json, _jsonable(b), _jsonable(v), now) for a, (b, v) in visible.items()
        )
    update_rows(session, table_of(Client), writes)
    _audit(session, ctx, policy, audit)
    return changed


def _fill_empty_only(candidate: Candidate, before: dict[str, Any], ctx: TenantContext) -> None:
    """``fillEmpty``: keep only the values for fields empty on the client; the row names the others."""
    derived = candidate.name_from is not None
    kept = keep_empty_only(candidate.values, before, unassigned_group_id=ctx.unassigned_group_id, derived_name=derived)
    if kept:
        candidate.warnings.append(FieldWarning(None, kept_message(kept)))


def _load_for_update(session: Session, ctx: TenantContext, ids: list[str]) -> dict[str, dict[str, Any]]:
    attrs = (*BY_ATTR, *DERIVED_ATTRS)
    columns = [getattr(Client, a) for a in attrs]
    out: dict[str, dict[str, Any]] = {}
    for condition in key_in(session, Client.id, ids):
        query = select(Client.id, *columns).where(owned_for_key_lookup(Client, ctx), condition)
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update()
        # Core rows as tuples: the ORM's per-row bookkeeping cost more than the query itself.
        for row in session.connection().execute(query):
            out[row[0]] = dict(zip(attrs, row[1:], strict=True))
    return out


def _insert_refs(session: Session, ctx: TenantContext, candidates: list[Candidate], existing: Existing) -> None:
    """Attach new references; ON CONFLICT covers one that a concurrent writer added."""
    rows = [
        {"id": new_id(), "tenant_id": ctx.tenant_id, "client_id": c.client_id, "source": r.source,
         "external_id": r.external_id, "language": r.language}
        for c in candidates for r in c.refs if r not in existing.by_ref
    ]  # fmt: skip
    insert_new_rows(session, table_of(ExternalRef), rows)


def _audit(session: Session, ctx: TenantContext, policy: Policy, entries: list[Change]) -> None:
    record_changes(session, ctx, entries, job_id=policy.job_id, actor=policy.actor)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value
