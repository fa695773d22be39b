"""Apply against a real database: creates and updates, omit = unchanged, policy, audit, refs, parents, conflicts, scale."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.conftest import TenantInfo

from clientdock.clients.models import Client, ClientChange, ExternalRef
from clientdock.db import Database
from clientdock.errors import FieldError
from clientdock.pipeline.apply import apply
from clientdock.pipeline.match import match
from clientdock.pipeline.records import FieldWarning, Policy, RawRecord, Ref, RowOutcome
from clientdock.pipeline.run import prepare
from clientdock.tenants.context import TenantContext, load_context
from clientdock.tenants.models import ClientGroup, Tenant

BULK = Policy(match_on=("ref",), job_id="job-bulk")
BY_EMAIL = Policy(match_on=("email",), job_id="job-email")


def context(session: Session, tenant: TenantInfo) -> TenantContext:
    return load_context(session, session.get_one(Tenant, tenant.id))


def apply_batch(database: Database, tenant: TenantInfo, records: Sequence[RawRecord], policy: Policy) -> list[RowOutcome]:
    """prepare -> match -> apply in one committed transaction, as pipeline.run does."""
    with database.session() as session:
        ctx = context(session, tenant)
        candidates = prepare(records, ctx, policy)
        existing = match(session, ctx, candidates, policy)
        outcomes = apply(session, ctx, candidates, policy, existing)
        session.flush()
    return outcomes


def item(index: int, key: str, fields: dict[str, Any], *, parent: str | None = None, language: str = "") -> RawRecord:
    """An S4-like item keyed by (crm, key, language)."""
    ref = Ref("crm", key, language)
    return RawRecord(index=index, fields=fields, refs=[ref], parent=Ref("crm", parent) if parent else None, lookup_key=ref.lookup_key)


def load(database: Database, client_id: str) -> Client:
    with database.session() as session:
        return session.get_one(Client, client_id)


def audit_rows(database: Database, job_id: str | None = None) -> list[tuple[str, str | None, str, str, Any, Any]]:
    """(client, job, action, field, before, after) of the audit trail, sorted."""
    with database.session() as session:
        query = select(ClientChange)
        if job_id is not None:
            query = query.where(ClientChange.job_id == job_id)
        rows = [(c.client_id, c.job_id, c.action, c.field, c.before, c.after) for c in session.scalars(query)]
    return sorted(rows, key=repr)


def count(database: Database, model: type[Client] | type[ExternalRef] | type[ClientChange]) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


# --- creates and updates ----------------------------------------------------------------------------


def test_creates_updates_and_unchanged_rows_in_one_batch(database: Database, tenant: TenantInfo) -> None:
    first = apply_batch(
        database, tenant, [item(0, "a", {"name": "Ada", "note": "old"}), item(1, "b", {"name": "Bob", "note": "same"})], BULK
    )
    assert [o.action for o in first] == ["created", "created"]
    ada_id, bob_id = first[0].client_id, first[1].client_id
    assert ada_id
    assert bob_id
    assert ada_id != bob_id
    stamp_ada, stamp_bob = load(database, ada_id).updated_at, load(database, bob_id).updated_at

    second = apply_batch(
        database,
        tenant,
        [item(0, "a", {"note": "new"}), item(1, "c", {"name": "Cy", "email": "cy@firm.co"}), item(2, "b", {"name": "Bob", "note": "same"})],
        BULK,
    )
    assert [(o.index, o.action) for o in second] == [(0, "updated"), (1, "created"), (2, "unchanged")]
    assert second[0].client_id == ada_id
    assert second[0].changes == {"note": ("old", "new")}
    assert second[0].lookup_key == "crm/a/"
    assert second[2].client_id == bob_id
    assert second[2].changes == {}
    assert all(o.errors == [] for o in second)

    ada, bob = load(database, ada_id), load(database, bob_id)
    assert (ada.name, ada.note) == ("Ada", "new")
    assert ada.updated_at > stamp_ada
    assert bob.updated_at == stamp_bob, "an unchanged row is not written"
    assert count(database, Client) == 3


def test_a_created_client_gets_the_tenant_defaults(database: Database, tenant: TenantInfo) -> None:
    (outcome,) = apply_batch(database, tenant, [item(0, "a", {"name": "  Ada  ", "email": "Ada@FIRM.co", "phone": "020 7946 0000"})], BULK)
    assert outcome.action == "created"
    assert outcome.client_id is not None
    with database.session() as session:
        ctx = context(session, tenant)
        client = session.get_one(Client, outcome.client_id)
        assert client.tenant_id == tenant.id
        assert client.client_group_id == ctx.unassigned_group_id
    assert (client.name, client.type, client.active) == ("Ada", "Individual", True)
    assert (client.email, client.email_key) == ("Ada@firm.co", "ada@firm.co")
    assert (client.phone, client.phone_e164) == ("020 7946 0000", "+442079460000")
    assert (client.tags, client.attributes, client.addresses, client.enrichment) == ([], [], [], {})
    assert client.parent_id is None
    assert client.created_at == client.updated_at


def test_omitted_fields_are_unchanged_and_null_clears(database: Database, tenant: TenantInfo) -> None:
    full = {
        "name": "Ada Lovelace", "email": "ada@firm.co", "phone": "+44 20 7946 0000", "company": "Engines Ltd",
        "tags": ["vip", "math"], "dateOfBirth": "1815-12-10", "note": "first", "active": True, "type": "Ltd",
    }  # fmt: skip
    (created,) = apply_batch(database, tenant, [item(0, "a", full)], BULK)
    assert created.client_id is not None
    (only_note,) = apply_batch(database, tenant, [item(0, "a", {"note": "second"})], BULK)
    assert only_note.action == "updated"
    assert only_note.changes == {"note": ("first", "second")}
    client = load(database, created.client_id)
    kept = (client.name, client.email, client.phone, client.company, client.tags, client.date_of_birth, client.active, client.type)
    assert kept == (
        "Ada Lovelace",
        "ada@firm.co",
        "+44 20 7946 0000",
        "Engines Ltd",
        ["vip", "math"],
        "1815-12-10",
        True,
        "PrivateLimitedCompany",
    )

    (cleared,) = apply_batch(database, tenant, [item(0, "a", {"phone": None, "company": None, "tags": []})], BULK)
    assert cleared.action == "updated"
    assert cleared.changes == {"phone": ("+44 20 7946 0000", None), "company": ("Engines Ltd", None), "tags": (["vip", "math"], [])}
    client = load(database, created.client_id)
    assert (client.phone, client.phone_e164, client.company, client.tags) == (None, None, None, [])
    assert (client.name, client.email, client.note) == ("Ada Lovelace", "ada@firm.co", "second")


def test_values_equal_after_normalising_are_unchanged(database: Database, tenant: TenantInfo) -> None:
    fields = {
        "name": "Ada",
        "email": "ada@firm.co",
        "tags": "vip; math",
        "active": "yes",
        "dateOfBirth": "10/12/1815",
        "type": "individual",
    }
    (created,) = apply_batch(database, tenant, [item(0, "a", fields)], BULK)
    assert created.client_id is not None
    before = load(database, created.client_id).updated_at
    again = {
        "name": " Ada ",
        "email": "ada@FIRM.CO",
        "tags": ["vip", "math", "vip"],
        "active": True,
        "dateOfBirth": "1815-12-10",
        "type": "Individual",
    }
    (outcome,) = apply_batch(database, tenant, [item(0, "a", again)], BULK)
    assert (outcome.action, outcome.client_id, outcome.changes) == ("unchanged", created.client_id, {})
    assert load(database, created.client_id).updated_at == before
    assert [row[2] for row in audit_rows(database)] == ["created"], "no audit row for an unchanged record"


def test_a_given_created_at_is_kept_on_create_and_never_updated(database: Database, tenant: TenantInfo) -> None:
    (created,) = apply_batch(database, tenant, [item(0, "a", {"name": "Ada", "createdAt": "2001-02-03T04:05:06Z"})], BULK)
    assert created.client_id is not None
    assert load(database, created.client_id).created_at == datetime(2001, 2, 3, 4, 5, 6, tzinfo=UTC)
    (again,) = apply_batch(database, tenant, [item(0, "a", {"createdAt": "2020-01-01T00:00:00Z"})], BULK)
    assert again.action == "unchanged"
    assert load(database, created.client_id).created_at == datetime(2001, 2, 3, 4, 5, 6, tzinfo=UTC)


def test_a_name_derived_from_its_parts_follows_them_on_update(database: Database, tenant: TenantInfo) -> None:
    (created,) = apply_batch(database, tenant, [item(0, "a", {"firstName": "Ada", "lastName": "Byron"})], BULK)
    assert created.client_id is not None
    assert load(database, created.client_id).name == "Ada Byron"
    (renamed,) = apply_batch(database, tenant, [item(0, "a", {"lastName": "King"})], BULK)
    assert renamed.changes == {"lastName": ("Byron", "King"), "name": ("Ada Byron", "Ada King")}
    apply_batch(database, tenant, [item(0, "a", {"name": "Countess of Lovelace"})], BULK)
    (kept,) = apply_batch(database, tenant, [item(0, "a", {"firstName": "Augusta Ada"})], BULK)
    assert kept.changes == {"firstName": ("Ada", "Augusta Ada")}
    assert load(database, created.client_id).name == "Countess of Lovelace", "a name set by hand is not overwritten"


def test_an_explicit_client_group_is_used(database: Database, tenant: TenantInfo) -> None:
    with database.session() as session:
        group = ClientGroup(tenant_id=tenant.id, name="VIP")
        session.add(group)
        session.flush()
        group_id = group.id
        unassigned = context(session, tenant).unassigned_group_id
    outcomes = apply_batch(database, tenant, [item(0, "a", {"name": "A", "clientGroupId": group_id}), item(1, "b", {"name": "B"})], BULK)
    assert outcomes[0].client_id
    assert outcomes[1].client_id
    assert load(database, outcomes[0].client_id).client_group_id == group_id
    assert load(database, outcomes[1].client_id).client_group_id == unassigned
    (moved,) = apply_batch(database, tenant, [item(1, "b", {"clientGroupId": group_id})], BULK)
    assert moved.changes == {"clientGroupId": (unassigned, group_id)}


# --- policy -------------------------------------------------------------------------------------------


def test_allow_create_off_fails_unmatched_rows_only(database: Database, tenant: TenantInfo) -> None:
    (seeded,) = apply_batch(database, tenant, [item(0, "a", {"name": "Ada"})], BULK)
    update_only = Policy(match_on=("ref",), allow_create=False)
    outcomes = apply_batch(database, tenant, [item(0, "new", {"name": "New"}), item(1, "a", {"note": "hello"})], update_only)
    assert outcomes[0].action == "failed"
    assert outcomes[0].client_id is None
    assert outcomes[0].errors == [FieldError(None, "no existing client matches and this import only updates", 0, "not_found")]
    assert (outcomes[1].action, outcomes[1].client_id) == ("updated", seeded.client_id)
    assert count(database, Client) == 1
    assert count(database, ExternalRef) == 1, "a failed row writes no reference"


def test_on_existing_skip_skips_matched_rows_and_still_creates(database: Database, tenant: TenantInfo) -> None:
    (seeded,) = apply_batch(database, tenant, [item(0, "a", {"name": "Ada", "email": "ada@firm.co", "note": "kept"})], BY_EMAIL)
    assert seeded.client_id is not None
    no_override = Policy(match_on=("email",), on_existing="skip", job_id="job-skip")
    records = [
        RawRecord(index=0, fields={"name": "Ada Changed", "email": "ADA@firm.co", "note": "ignored"}),
        RawRecord(index=1, fields={"name": "Bob", "email": "bob@firm.co"}),
    ]
    outcomes = apply_batch(database, tenant, records, no_override)
    assert (outcomes[0].action, outcomes[0].client_id, outcomes[0].changes) == ("skipped", seeded.client_id, {})
    assert outcomes[0].warnings == [FieldWarning(None, "an existing client matches; left unchanged (onExisting: skip)")]
    assert outcomes[1].action == "created"
    ada = load(database, seeded.client_id)
    assert (ada.name, ada.email, ada.note) == ("Ada", "ada@firm.co", "kept")
    assert [(row[2], row[3]) for row in audit_rows(database, "job-skip")] == [("created", "*")]


def test_required_on_create_applies_to_creates_only(database: Database, tenant: TenantInfo) -> None:
    (seeded,) = apply_batch(database, tenant, [item(0, "a", {"name": "Ada"})], BULK)
    policy = Policy(match_on=("ref",), required_on_create=("email",))
    outcomes = apply_batch(
        database, tenant, [item(0, "a", {"note": "x"}), item(1, "b", {"name": "No email"}), item(2, "c", {"note": "no name"})], policy
    )
    assert (outcomes[0].action, outcomes[0].client_id) == ("updated", seeded.client_id)
    assert outcomes[1].errors == [FieldError("email", "is required", 1, "missing")]
    assert outcomes[2].errors == [FieldError("email", "is required", 2, "missing")]
    (nameless,) = apply_batch(database, tenant, [item(0, "d", {"email": "d@firm.co"})], policy)
    assert nameless.errors == [FieldError("name", "is required to create a client (give a name, first/last name or company)", 0, "missing")]
    assert count(database, Client) == 1


# --- audit -------------------------------------------------------------------------------------------


def test_every_changed_visible_field_is_audited_with_the_job(database: Database, tenant: TenantInfo) -> None:
    start = {"name": "Ada", "email": "ada@firm.co", "phone": "+44 20 7946 0000", "tags": ["a"], "active": True, "note": "same"}
    created = apply_batch(database, tenant, [item(0, "a", start), item(1, "b", {"name": "Bob"})], Policy(match_on=("ref",), job_id="job-1"))
    ada_id, bob_id = created[0].client_id, created[1].client_id
    assert ada_id
    assert bob_id
    assert audit_rows(database, "job-1") == sorted(
        [(ada_id, "job-1", "created", "*", None, None), (bob_id, "job-1", "created", "*", None, None)], key=repr
    )

    change = {
        "name": "Ada King", "email": "ada.king@firm.co", "phone": "+44 20 7946 0001", "tags": ["a", "b"], "active": "no",
        "note": "same", "dateOfBirth": "1815-12-10",
    }  # fmt: skip
    outcomes = apply_batch(
        database, tenant, [item(0, "a", change), item(1, "b", {"name": "Bob"})], Policy(match_on=("ref",), job_id="job-2")
    )
    assert [o.action for o in outcomes] == ["updated", "unchanged"]
    expected = [
        (ada_id, "job-2", "updated", "name", "Ada", "Ada King"),
        (ada_id, "job-2", "updated", "email", "ada@firm.co", "ada.king@firm.co"),
        (ada_id, "job-2", "updated", "phone", "+44 20 7946 0000", "+44 20 7946 0001"),
        (ada_id, "job-2", "updated", "tags", ["a"], ["a", "b"]),
        (ada_id, "job-2", "updated", "active", True, False),
        (ada_id, "job-2", "updated", "dateOfBirth", None, "1815-12-10"),
    ]
    assert audit_rows(database, "job-2") == sorted(expected, key=repr), "derived columns (email_key, phone_e164) are not audited"
    assert outcomes[0].changes == {row[3]: (row[4], row[5]) for row in expected}
    with database.session() as session:
        tenants_of_rows = set(session.scalars(select(ClientChange.tenant_id)))
        ada = session.get_one(Client, ada_id)
        stamps = set(session.scalars(select(ClientChange.at).where(ClientChange.job_id == "job-2")))
    assert tenants_of_rows == {tenant.id}
    assert (ada.email_key, ada.phone_e164) == ("ada.king@firm.co", "+442079460001")
    assert stamps == {ada.updated_at}, "the audit rows carry the time of the write"


def test_audit_without_a_job_id(database: Database, tenant: TenantInfo) -> None:
    (outcome,) = apply_batch(database, tenant, [item(0, "a", {"name": "Ada"})], Policy(match_on=("ref",)))
    assert audit_rows(database) == [(outcome.client_id, None, "created", "*", None, None)]


# --- external refs -------------------------------------------------------------------------------------


def refs_of(database: Database, client_id: str) -> list[tuple[str, str, str]]:
    with database.session() as session:
        query = select(ExternalRef.source, ExternalRef.external_id, ExternalRef.language).where(ExternalRef.client_id == client_id)
        return sorted((source, external_id, language) for source, external_id, language in session.execute(query))


def test_external_refs_are_written_for_creates_and_updates(database: Database, tenant: TenantInfo) -> None:
    created = apply_batch(
        database,
        tenant,
        [
            RawRecord(index=0, fields={"name": "Ada", "email": "ada@firm.co"}, refs=[Ref("crm", "1"), Ref("cms", "1", "en")]),
            RawRecord(index=1, fields={"name": "Bob", "email": "bob@firm.co"}),
        ],
        BY_EMAIL,
    )
    ada_id, bob_id = created[0].client_id, created[1].client_id
    assert ada_id
    assert bob_id
    assert refs_of(database, ada_id) == [("cms", "1", "en"), ("crm", "1", "")]
    assert refs_of(database, bob_id) == []

    updated = apply_batch(
        database,
        tenant,
        [
            RawRecord(index=0, fields={"email": "ADA@firm.co"}, refs=[Ref("crm", "1"), Ref("cms", "1", "fr")]),
            RawRecord(index=1, fields={"email": "bob@firm.co"}, refs=[Ref("erp", "B-7")]),
        ],
        BY_EMAIL,
    )
    assert [(o.client_id, o.errors) for o in updated] == [(ada_id, []), (bob_id, [])]
    assert refs_of(database, ada_id) == [("cms", "1", "en"), ("cms", "1", "fr"), ("crm", "1", "")]
    assert refs_of(database, bob_id) == [("erp", "B-7", "")]
    assert count(database, ExternalRef) == 4
    with database.session() as session:
        assert set(session.scalars(select(ExternalRef.tenant_id))) == {tenant.id}


def test_a_ref_held_by_another_client_fails_the_row(database: Database, tenant: TenantInfo) -> None:
    created = apply_batch(
        database,
        tenant,
        [
            RawRecord(index=0, fields={"name": "Ada", "email": "ada@firm.co"}, refs=[Ref("crm", "1")]),
            RawRecord(index=1, fields={"name": "Bob", "email": "bob@firm.co"}),
        ],
        BY_EMAIL,
    )
    (outcome,) = apply_batch(
        database, tenant, [RawRecord(index=0, fields={"email": "bob@firm.co", "note": "x"}, refs=[Ref("crm", "1")])], BY_EMAIL
    )
    assert outcome.errors == [FieldError("sourceId", "crm/1/ already belongs to another client of this tenant", 0, "duplicate")]
    assert created[1].client_id is not None
    assert load(database, created[1].client_id).note is None
    assert refs_of(database, created[1].client_id) == []


# --- parents -----------------------------------------------------------------------------------------


def test_parents_in_the_same_batch_resolve_in_any_order(database: Database, tenant: TenantInfo) -> None:
    records = [
        item(0, "grandchild", {"name": "Grandchild"}, parent="child"),
        item(1, "child", {"name": "Child"}, parent="root"),
        item(2, "root", {"name": "Root"}),
        item(3, "sibling", {"name": "Sibling"}, parent="root"),
    ]
    outcomes = apply_batch(database, tenant, records, BULK)
    assert [o.action for o in outcomes] == ["created"] * 4
    ids = [o.client_id for o in outcomes]
    assert all(ids)
    parents = [load(database, i).parent_id for i in ids if i]
    assert parents == [ids[1], ids[2], None, ids[2]]


def test_parents_stored_before_and_unknown_parents_fail_their_item_only(database: Database, tenant: TenantInfo) -> None:
    (root,) = apply_batch(database, tenant, [item(0, "root", {"name": "Root"})], BULK)
    records = [
        item(0, "a", {"name": "A"}, parent="root"),
        item(1, "orphan", {"name": "Orphan"}, parent="nowhere"),
        item(2, "orphan-child", {"name": "Orphan child"}, parent="orphan"),
        item(3, "b", {"name": "B"}, parent="a"),
        item(4, "c", {"name": "C"}),
    ]
    outcomes = apply_batch(database, tenant, records, BULK)
    assert [o.action for o in outcomes] == ["created", "failed", "failed", "created", "created"]
    assert outcomes[1].errors == [
        FieldError("parent", "no client with lookupKey 'crm/nowhere/' in this tenant or this request", 1, "invalid")
    ]
    assert outcomes[2].errors == [FieldError("parent", "parent item 'crm/orphan/' failed", 2, "invalid")]
    assert outcomes[0].client_id
    assert outcomes[3].client_id
    assert outcomes[4].client_id
    assert load(database, outcomes[0].client_id).parent_id == root.client_id
    assert load(database, outcomes[3].client_id).parent_id == outcomes[0].client_id
    assert load(database, outcomes[4].client_id).parent_id is None
    with database.session() as session:
        names = set(session.scalars(select(Client.name)))
        keys = set(session.scalars(select(ExternalRef.external_id)))
    assert names == {"Root", "A", "B", "C"}
    assert keys == {"root", "a", "b", "c"}


def test_a_child_of_an_item_that_fails_to_be_created_fails(database: Database, tenant: TenantInfo) -> None:
    records = [
        item(0, "child", {"name": "Child"}, parent="nameless"),
        item(1, "nameless", {"note": "no name to create with"}),
        item(2, "grandchild", {"name": "Grandchild"}, parent="child"),
        item(3, "ok", {"name": "Ok"}),
    ]
    outcomes = apply_batch(database, tenant, records, BULK)
    assert [o.action for o in outcomes] == ["failed", "failed", "failed", "created"]
    assert outcomes[0].errors == [FieldError("parent", "parent item 'crm/nameless/' failed", 0, "invalid")]
    assert [e.field for e in outcomes[1].errors] == ["name"]
    assert outcomes[2].errors == [FieldError("parent", "parent item 'crm/child/' failed", 2, "invalid")]
    assert count(database, Client) == 1
    assert count(database, ExternalRef) == 1


def test_a_child_of_an_item_with_an_invalid_value_fails(database: Database, tenant: TenantInfo) -> None:
    records = [
        item(0, "child", {"name": "Child"}, parent="bad"),
        item(1, "bad", {"name": "Bad", "email": "not-an-email"}),
        item(2, "ok", {"name": "Ok"}),
    ]
    outcomes = apply_batch(database, tenant, records, BULK)
    assert [o.action for o in outcomes] == ["failed", "failed", "created"]
    assert [(e.field, e.code) for e in outcomes[0].errors] == [("parent", "invalid")]
    assert [e.field for e in outcomes[1].errors] == ["email"]
    assert count(database, Client) == 1


def test_an_update_sets_a_parent_and_audits_it(database: Database, tenant: TenantInfo) -> None:
    created = apply_batch(database, tenant, [item(0, "a", {"name": "A"}), item(1, "b", {"name": "B"})], BULK)
    a_id, b_id = created[0].client_id, created[1].client_id
    assert a_id
    assert b_id
    (outcome,) = apply_batch(database, tenant, [item(0, "b", {}, parent="a")], Policy(match_on=("ref",), job_id="job-parent"))
    assert (outcome.action, outcome.changes) == ("updated", {"parentId": (None, a_id)})
    assert load(database, b_id).parent_id == a_id
    assert audit_rows(database, "job-parent") == [(b_id, "job-parent", "updated", "parentId", None, a_id)]
    (again,) = apply_batch(database, tenant, [item(0, "b", {}, parent="a")], BULK)
    assert again.action == "unchanged"


# --- unique email ----------------------------------------------------------------------------------------


def test_an_email_of_an_existing_client_fails_a_create_and_an_update(database: Database, tenant: TenantInfo) -> None:
    created = apply_batch(
        database,
        tenant,
        [item(0, "a", {"name": "Ada", "email": "ada@firm.co"}), item(1, "b", {"name": "Bob", "email": "bob@firm.co"})],
        BULK,
    )
    bob_id = created[1].client_id
    assert bob_id
    outcomes = apply_batch(
        database,
        tenant,
        [
            item(0, "new", {"name": "Impostor", "email": "ADA@Firm.co"}),
            item(1, "b", {"email": "ada@firm.co", "note": "x"}),
            item(2, "d", {"name": "Dee", "email": "dee@firm.co"}),
        ],
        BULK,
    )
    conflict = [FieldError("email", "already belongs to another client of this tenant", i, "duplicate") for i in (0, 1)]
    assert [o.errors for o in outcomes[:2]] == [[conflict[0]], [conflict[1]]]
    assert [o.action for o in outcomes] == ["failed", "failed", "created"]
    assert outcomes[1].client_id == bob_id
    bob = load(database, bob_id)
    assert (bob.email, bob.note) == ("bob@firm.co", None)
    with database.session() as session:
        emails = sorted(key or "" for key in session.scalars(select(Client.email_key)))
    assert emails == ["ada@firm.co", "bob@firm.co", "dee@firm.co"]


def test_the_same_email_in_another_tenant_is_free(database: Database, tenant: TenantInfo, other_tenant: TenantInfo) -> None:
    (theirs,) = apply_batch(database, other_tenant, [item(0, "a", {"name": "Theirs", "email": "ada@firm.co"})], BULK)
    (ours,) = apply_batch(database, tenant, [item(0, "a", {"name": "Ours", "email": "ada@firm.co"})], BULK)
    assert (theirs.action, ours.action) == ("created", "created")
    assert theirs.client_id != ours.client_id
    assert theirs.client_id is not None
    assert load(database, theirs.client_id).name == "Theirs"


# --- set-based path at scale -------------------------------------------------------------------------------


def test_a_thousand_records_are_created_and_then_updated(database: Database, tenant: TenantInfo) -> None:
    size = 1000
    first = [
        RawRecord(
            index=i, fields={"name": f"Client {i}", "email": f"c{i}@firm.co", "note": "v1", "tags": ["batch"]}, refs=[Ref("load", str(i))]
        )
        for i in range(size)
    ]
    created = apply_batch(database, tenant, first, Policy(match_on=("ref",), job_id="job-create"))
    assert [o.action for o in created] == ["created"] * size
    assert [o.index for o in created] == list(range(size))
    ids = [o.client_id for o in created]
    assert len(set(ids)) == size
    assert None not in ids

    second = []
    for i in range(size):
        fields: dict[str, Any] = {"note": "v2"}
        if i % 2 == 0:
            fields["name"] = f"Client {i} (renamed)"
        if i % 5 == 0:
            fields["email"] = f"C{i}@FIRM.co"
        second.append(RawRecord(index=i, fields=fields, refs=[Ref("load", str(i))]))
    updated = apply_batch(database, tenant, second, Policy(match_on=("ref",), job_id="job-update"))
    assert [o.action for o in updated] == ["updated"] * size
    assert [o.client_id for o in updated] == ids
    assert updated[10].changes == {
        "note": ("v1", "v2"),
        "name": ("Client 10", "Client 10 (renamed)"),
        "email": ("c10@firm.co", "C10@firm.co"),
    }
    assert updated[1].changes == {"note": ("v1", "v2")}

    with database.session() as session:
        rows = session.execute(select(Client.id, Client.name, Client.email, Client.email_key, Client.note, Client.tags, Client.tenant_id))
        state = {row[0]: tuple(row[1:]) for row in rows}
        ref_count = session.scalar(select(func.count()).select_from(ExternalRef))
        per_field = select(ClientChange.field, func.count()).where(ClientChange.job_id == "job-update").group_by(ClientChange.field)
        audit = {field: number for field, number in session.execute(per_field)}
        created_audit = session.scalar(select(func.count()).select_from(ClientChange).where(ClientChange.job_id == "job-create"))
    assert len(state) == size
    for i, client_id in enumerate(ids):
        assert client_id is not None
        name = f"Client {i} (renamed)" if i % 2 == 0 else f"Client {i}"
        email = f"C{i}@firm.co" if i % 5 == 0 else f"c{i}@firm.co"
        assert state[client_id] == (name, email, f"c{i}@firm.co", "v2", ["batch"], tenant.id)
    assert ref_count == size
    assert created_audit == size
    assert audit == {"note": size, "name": size // 2, "email": size // 5}


def test_a_writer_that_got_in_between_match_and_apply_is_found_or_named(database: Database, tenant: TenantInfo) -> None:
    """Another writer inserts the same keys after this batch's match: the insert conflicts, the
    batch looks again, takes the client when its own key finds it, else fails naming the key."""
    records = [
        item(0, "k0", {"name": "Raced by ref", "email": "one@firm.co"}),
        item(1, "k1", {"name": "Raced by email only", "email": "two@firm.co"}),
        item(2, "k2", {"name": "Raced by trackingId", "trackingId": "T-3"}),
    ]
    with database.session() as session:
        ctx = context(session, tenant)
        candidates = prepare(records, ctx, BULK)
        existing = match(session, ctx, candidates, BULK)

        def stored(name: str, **keys: str) -> Client:
            return Client(tenant_id=tenant.id, type="Individual", name=name, client_group_id=ctx.unassigned_group_id, **keys)

        other = [
            stored("Other one", email="one@firm.co", email_key="one@firm.co"),
            stored("Other two", email="two@firm.co", email_key="two@firm.co"),
            stored("Other three", tracking_id="T-3"),
        ]
        session.add_all(other)
        session.flush()
        session.add(ExternalRef(tenant_id=tenant.id, client_id=other[0].id, source="crm", external_id="k0", language=""))
        session.flush()
        outcomes = apply(session, ctx, candidates, BULK, existing)
    assert [(o.action, o.client_id) for o in outcomes[:1]] == [("updated", other[0].id)]
    assert [(o.action, [e.field for e in o.errors]) for o in outcomes[1:]] == [("failed", ["email"]), ("failed", ["trackingId"])]
    assert all(e.code == "duplicate" for o in outcomes[1:] for e in o.errors)
