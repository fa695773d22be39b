"""Match against a real database: each key, key precedence, tenant isolation, in-batch duplicates, refs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.orm import Session
from tests.conftest import TenantInfo

from clientdock.clients.models import Client, ExternalRef
from clientdock.db import Database, new_id, table_of, utcnow
from clientdock.errors import FieldError
from clientdock.pipeline import run as pipeline
from clientdock.pipeline.match import IN_CHUNK, Existing, match
from clientdock.pipeline.records import Candidate, FieldWarning, MatchKey, Policy, RawRecord, Ref
from clientdock.tenants.context import TenantContext, load_context
from clientdock.tenants.models import ClientGroup, Tenant


def context(session: Session, tenant: TenantInfo) -> TenantContext:
    return load_context(session, session.get_one(Tenant, tenant.id))


def seed(
    session: Session,
    ctx: TenantContext,
    name: str,
    *,
    email: str | None = None,
    tracking_id: str | None = None,
    refs: Sequence[Ref] = (),
) -> str:
    """An existing client written straight through the ORM, so that match is tested on its own."""
    client = Client(
        tenant_id=ctx.tenant_id,
        type="Individual",
        name=name,
        email=email,
        email_key=email.casefold() if email else None,
        tracking_id=tracking_id,
        client_group_id=ctx.unassigned_group_id,
    )
    session.add(client)
    session.flush()
    for ref in refs:
        session.add(
            ExternalRef(tenant_id=ctx.tenant_id, client_id=client.id, source=ref.source, external_id=ref.external_id, language=ref.language)
        )
    session.flush()
    return client.id


def matched(
    session: Session, ctx: TenantContext, records: Sequence[RawRecord], match_on: tuple[MatchKey, ...]
) -> tuple[list[Candidate], Existing]:
    policy = Policy(match_on=match_on)
    candidates = pipeline.prepare(records, ctx, policy)
    existing = match(session, ctx, candidates, policy)
    return candidates, existing


def record(index: int, fields: dict[str, Any], refs: Sequence[Ref] = (), parent: Ref | None = None) -> RawRecord:
    return RawRecord(index=index, fields=fields, refs=list(refs), parent=parent)


# --- each key ---------------------------------------------------------------------------------


def test_match_by_id(database: Database, tenant: TenantInfo) -> None:
    with database.session() as session:
        ctx = context(session, tenant)
        ada = seed(session, ctx, "Ada")
        seed(session, ctx, "Other")
        (candidate,), existing = matched(session, ctx, [record(0, {"id": f"  {ada} ", "note": "x"})], ("id",))
    assert candidate.match_id == ada
    assert (candidate.client_id, candidate.matched_by) == (ada, "id")
    assert candidate.errors == []
    assert candidate.warnings == []
    assert existing.ids == {ada}


def test_match_by_tracking_id(database: Database, tenant: TenantInfo) -> None:
    with database.session() as session:
        ctx = context(session, tenant)
        ada = seed(session, ctx, "Ada", tracking_id="crm-1")
        seed(session, ctx, "Bob", tracking_id="crm-2")
        candidates, existing = matched(
            session, ctx, [record(0, {"trackingId": " crm-1 "}), record(1, {"trackingId": "crm-9", "name": "New"})], ("trackingId",)
        )
    assert (candidates[0].client_id, candidates[0].matched_by) == (ada, "trackingId")
    assert candidates[1].client_id is None
    assert not candidates[0].failed
    assert not candidates[1].failed
    assert existing.by_tracking == {"crm-1": ada}


def test_match_by_ref(database: Database, tenant: TenantInfo) -> None:
    with database.session() as session:
        ctx = context(session, tenant)
        ada = seed(session, ctx, "Ada", refs=[Ref("crm", "42")])
        seed(session, ctx, "Bob", refs=[Ref("crm", "43")])
        records = [record(0, {"note": "x"}, refs=[Ref("crm", "42")]), record(1, {"name": "New"}, refs=[Ref("erp", "42")])]
        candidates, existing = matched(session, ctx, records, ("ref",))
    assert (candidates[0].client_id, candidates[0].matched_by) == (ada, "ref")
    assert candidates[1].client_id is None, "same external id under another source is another identity"
    assert existing.by_ref == {Ref("crm", "42"): ada}


def test_match_by_email_is_case_insensitive(database: Database, tenant: TenantInfo) -> None:
    with database.session() as session:
        ctx = context(session, tenant)
        ada = seed(session, ctx, "Ada", email="Ada.Lovelace@Firm.co")
        candidates, existing = matched(
            session,
            ctx,
            [record(0, {"email": "  ADA.LOVELACE@FIRM.CO "}), record(1, {"email": "ada.lovelace@firm.co.uk", "name": "Not Ada"})],
            ("email",),
        )
    assert (candidates[0].client_id, candidates[0].matched_by) == (ada, "email")
    assert candidates[0].values["email"] == "ADA.LOVELACE@firm.co"
    assert candidates[0].values["email_key"] == "ada.lovelace@firm.co"
    assert candidates[1].client_id is None
    assert existing.by_email == {"ada.lovelace@firm.co": ada}


def test_no_key_in_policy_means_no_match(database: Database, tenant: TenantInfo) -> None:
    with database.session() as session:
        ctx = context(session, tenant)
        ada = seed(session, ctx, "Ada", email="ada@firm.co", tracking_id="crm-1", refs=[Ref("crm", "1")])
        (by_id,), _ = matched(session, ctx, [record(0, {"id": ada, "name": "Copy"})], ())
        (by_ref,), _ = matched(session, ctx, [record(0, {"name": "Copy"}, refs=[Ref("crm", "1")])], ("email",))
    assert by_id.client_id is None
    assert by_id.warnings == [], "an id the policy does not match on is not looked at"
    assert by_ref.client_id is None
    assert by_ref.errors == [FieldError("sourceId", "crm/1/ already belongs to another client of this tenant", 0, "duplicate")]


# --- precedence ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("match_on", "winner", "loser_field"),
    [(("email", "trackingId"), "by_email", "trackingId"), (("trackingId", "email"), "by_tracking", "email")],
)
def test_the_first_key_of_the_policy_decides_and_a_key_held_by_another_client_fails(
    database: Database, tenant: TenantInfo, match_on: tuple[MatchKey, ...], winner: str, loser_field: str
) -> None:
    with database.session() as session:
        ctx = context(session, tenant)
        ids = {"by_email": seed(session, ctx, "Emma", email="emma@firm.co"), "by_tracking": seed(session, ctx, "Tom", tracking_id="T-1")}
        (candidate,), _ = matched(session, ctx, [record(0, {"email": "emma@firm.co", "trackingId": "T-1"})], match_on)
    assert candidate.client_id == ids[winner]
    assert candidate.matched_by == match_on[0]
    assert candidate.errors == [FieldError(loser_field, "already belongs to another client of this tenant", 0, "duplicate")]


@pytest.mark.parametrize("match_on", [("ref", "email", "trackingId"), ("email", "ref", "trackingId"), ("trackingId", "ref", "email")])
def test_keys_agreeing_on_one_client_match_by_the_first_key(database: Database, tenant: TenantInfo, match_on: tuple[MatchKey, ...]) -> None:
    with database.session() as session:
        ctx = context(session, tenant)
        ada = seed(session, ctx, "Ada", email="ada@firm.co", tracking_id="T-ada", refs=[Ref("crm", "ada")])
        (candidate,), _ = matched(
            session, ctx, [record(0, {"email": "ada@firm.co", "trackingId": "T-ada"}, refs=[Ref("crm", "ada")])], match_on
        )
    assert (candidate.client_id, candidate.matched_by) == (ada, match_on[0])
    assert not candidate.failed


def test_a_key_that_finds_nothing_falls_through_to_the_next(database: Database, tenant: TenantInfo) -> None:
    with database.session() as session:
        ctx = context(session, tenant)
        ada = seed(session, ctx, "Ada", email="ada@firm.co")
        (candidate,), _ = matched(
            session,
            ctx,
            [record(0, {"trackingId": "T-new", "email": "ada@firm.co"}, refs=[Ref("crm", "new")])],
            ("id", "trackingId", "ref", "email"),
        )
    assert (candidate.client_id, candidate.matched_by) == (ada, "email")
    assert not candidate.failed
    assert candidate.warnings == []


def test_an_id_that_is_not_the_tenants_warns_and_matches_by_the_other_keys(
    database: Database, tenant: TenantInfo, other_tenant: TenantInfo
) -> None:
    with database.session() as session:
        theirs = seed(session, context(session, other_tenant), "Theirs", email="ada@firm.co")
        ctx = context(session, tenant)
        ours = seed(session, ctx, "Ours", email="ada@firm.co")
        records = [
            record(0, {"id": theirs, "email": "ada@firm.co"}),
            record(1, {"id": "no-such-client", "name": "Nobody"}),
        ]
        candidates, existing = matched(session, ctx, records, ("id", "email"))
    assert (candidates[0].client_id, candidates[0].matched_by) == (ours, "email")
    assert candidates[0].warnings == [FieldWarning("id", f"'{theirs}' is not a client of this tenant; matched by the other keys", theirs)]
    assert candidates[1].client_id is None
    assert candidates[1].warnings == [
        FieldWarning("id", "'no-such-client' is not a client of this tenant; matched by the other keys", "no-such-client")
    ]
    assert not candidates[0].failed
    assert not candidates[1].failed
    assert existing.ids == set()


def test_an_id_of_another_tenant_is_not_found_by_an_update_only_door(
    database: Database, tenant: TenantInfo, other_tenant: TenantInfo
) -> None:
    with database.session() as session:
        theirs = seed(session, context(session, other_tenant), "Theirs")
        ctx = context(session, tenant)
        (outcome,) = pipeline.run(
            session, ctx, [record(0, {"id": theirs, "name": "Hijacked"})], Policy(match_on=("id",), allow_create=False)
        )
    assert outcome.action == "failed"
    assert outcome.client_id is None
    assert [(e.field, e.code) for e in outcome.errors] == [(None, "not_found")]
    with database.session() as session:
        assert session.get_one(Client, theirs).name == "Theirs"


# --- tenant isolation -----------------------------------------------------------------------------


def test_a_client_of_another_tenant_is_never_matched(database: Database, tenant: TenantInfo, other_tenant: TenantInfo) -> None:
    with database.session() as session:
        other_ctx = context(session, other_tenant)
        theirs = seed(session, other_ctx, "Theirs", email="shared@firm.co", tracking_id="T-shared", refs=[Ref("crm", "shared", "en")])
        ctx = context(session, tenant)
        records = [
            record(
                0, {"id": theirs, "email": "SHARED@firm.co", "trackingId": "T-shared", "name": "Mine"}, refs=[Ref("crm", "shared", "en")]
            ),
        ]
        (candidate,), existing = matched(session, ctx, records, ("id", "trackingId", "ref", "email"))
    assert candidate.client_id is None
    assert not candidate.failed, "the other tenant's keys are free in this one"
    assert existing == Existing()


def test_references_to_another_tenant_fail(database: Database, tenant: TenantInfo, other_tenant: TenantInfo) -> None:
    with database.session() as session:
        other_ctx = context(session, other_tenant)
        theirs = seed(session, other_ctx, "Theirs", refs=[Ref("crm", "boss")])
        ctx = context(session, tenant)
        ours = seed(session, ctx, "Ours")
        our_group = ClientGroup(tenant_id=ctx.tenant_id, name="VIP")
        session.add(our_group)
        session.flush()
        records = [
            record(0, {"name": "A", "parentId": theirs}),
            record(1, {"name": "B", "clientGroupId": other_ctx.unassigned_group_id}),
            record(2, {"name": "C"}, refs=[Ref("crm", "c")], parent=Ref("crm", "boss")),
            record(3, {"name": "D", "parentId": ours, "clientGroupId": our_group.id}),
        ]
        candidates, _ = matched(session, ctx, records, ("ref",))
    assert candidates[0].errors == [FieldError("parentId", f"no client '{theirs}' in this tenant", 0, "invalid")]
    assert candidates[1].errors == [
        FieldError("clientGroupId", f"no client group '{other_ctx.unassigned_group_id}' in this tenant", 1, "invalid")
    ]
    assert candidates[2].errors == [
        FieldError("parent", "no client with lookupKey 'crm/boss/' in this tenant or this request", 2, "invalid")
    ]
    assert candidates[3].errors == []


# --- in-batch duplicates ----------------------------------------------------------------------------


def test_in_batch_duplicates_fail_after_the_first(database: Database, tenant: TenantInfo) -> None:
    with database.session() as session:
        ctx = context(session, tenant)
        ada = seed(session, ctx, "Ada", email="ada@firm.co")
        records = [
            record(0, {"name": "One", "email": "One@Firm.co", "trackingId": "T-1"}, refs=[Ref("crm", "1")]),
            record(1, {"name": "Two", "email": "one@firm.CO"}, refs=[Ref("crm", "2")]),
            record(2, {"name": "Three", "trackingId": "T-1"}, refs=[Ref("crm", "3")]),
            record(3, {"name": "Four"}, refs=[Ref("crm", "1")]),
            record(4, {"id": ada, "note": "first claim"}),
            record(5, {"email": "ADA@firm.co", "note": "second claim"}),
            record(6, {"name": "Seven", "email": "seven@firm.co", "trackingId": "T-7"}, refs=[Ref("crm", "7")]),
        ]
        candidates, _ = matched(session, ctx, records, ("id", "ref", "email"))
    errors = {c.index: c.errors for c in candidates}
    assert errors == {
        0: [],
        1: [FieldError("email", "duplicate: email already used by row 0", 1, "duplicate")],
        2: [FieldError("trackingId", "duplicate: trackingId already used by row 0", 2, "duplicate")],
        3: [FieldError("sourceId", "duplicate: crm/1/ already used by item 0", 3, "duplicate")],
        4: [],
        5: [FieldError("email", "duplicate: the same client as row 4", 5, "duplicate")],
        6: [],
    }
    assert candidates[4].client_id == ada
    assert candidates[5].client_id == ada


def test_a_record_that_failed_before_matching_claims_nothing(database: Database, tenant: TenantInfo) -> None:
    with database.session() as session:
        ctx = context(session, tenant)
        records = [
            record(0, {"name": "Bad", "email": "not an email", "trackingId": "T-1"}),
            record(1, {"name": "Good", "trackingId": "T-1"}),
        ]
        candidates, _ = matched(session, ctx, records, ("trackingId",))
    assert [e.field for e in candidates[0].errors] == ["email"]
    assert candidates[1].errors == []


def test_a_parent_in_the_same_batch_resolves_in_any_order(database: Database, tenant: TenantInfo) -> None:
    with database.session() as session:
        ctx = context(session, tenant)
        seed(session, ctx, "Stored parent", refs=[Ref("crm", "stored")])
        records = [
            record(0, {"name": "Child"}, refs=[Ref("crm", "child")], parent=Ref("crm", "later")),
            record(1, {"name": "Later"}, refs=[Ref("crm", "later")]),
            record(2, {"name": "Of stored"}, refs=[Ref("crm", "x")], parent=Ref("crm", "stored")),
            record(3, {"name": "Orphan"}, refs=[Ref("crm", "o")], parent=Ref("crm", "missing")),
        ]
        candidates, existing = matched(session, ctx, records, ("ref",))
    assert [c.failed for c in candidates] == [False, False, False, True]
    assert candidates[3].errors[0].field == "parent"
    assert Ref("crm", "stored") in existing.by_ref


# --- refs with language ------------------------------------------------------------------------------


def test_refs_match_on_source_id_and_language(database: Database, tenant: TenantInfo) -> None:
    with database.session() as session:
        ctx = context(session, tenant)
        english = seed(session, ctx, "English", refs=[Ref("cms", "7", "en")])
        french = seed(session, ctx, "French", refs=[Ref("cms", "7", "fr")])
        records = [
            record(0, {"note": "en"}, refs=[Ref("cms", "7", "en")]),
            record(1, {"note": "fr"}, refs=[Ref("cms", "7", "fr")]),
            record(2, {"name": "No language"}, refs=[Ref("cms", "7")]),
            record(3, {"name": "German"}, refs=[Ref("cms", "7", "de")]),
        ]
        candidates, existing = matched(session, ctx, records, ("ref",))
    assert [c.client_id for c in candidates] == [english, french, None, None]
    assert [c.failed for c in candidates] == [False, False, False, False]
    assert existing.by_ref == {Ref("cms", "7", "en"): english, Ref("cms", "7", "fr"): french}


def test_a_client_with_several_refs_is_found_by_any_of_them(database: Database, tenant: TenantInfo) -> None:
    with database.session() as session:
        ctx = context(session, tenant)
        ada = seed(session, ctx, "Ada", refs=[Ref("crm", "a"), Ref("erp", "A-1", "en")])
        (candidate,), _ = matched(session, ctx, [record(0, {"note": "x"}, refs=[Ref("web", "new"), Ref("erp", "A-1", "en")])], ("ref",))
    assert (candidate.client_id, candidate.matched_by) == (ada, "ref")
    assert not candidate.failed


# --- set-based look-ups over more keys than one IN list holds ------------------------------------------


def test_lookup_spans_several_chunks(database: Database, tenant: TenantInfo) -> None:
    count = IN_CHUNK * 2 + 37
    with database.session() as session:
        ctx = context(session, tenant)
        now = utcnow()
        ids = [new_id() for _ in range(count)]
        rows = [
            {
                "id": ids[i], "tenant_id": ctx.tenant_id, "type": "Individual", "name": f"c{i}", "email": f"c{i}@firm.co",
                "email_key": f"c{i}@firm.co", "tracking_id": f"T{i}", "active": True, "tags": [], "attributes": [], "addresses": [],
                "enrichment": {}, "client_group_id": ctx.unassigned_group_id, "created_at": now, "updated_at": now,
            }
            for i in range(count)
        ]  # fmt: skip
        session.connection().execute(insert(table_of(Client)), rows)
        refs = [
            {"id": new_id(), "tenant_id": ctx.tenant_id, "client_id": ids[i], "source": "crm", "external_id": str(i), "language": ""}
            for i in range(count)
        ]
        session.connection().execute(insert(table_of(ExternalRef)), refs)
        records = [
            record(i, {"id": ids[i], "email": f"C{i}@FIRM.co", "trackingId": f"T{i}"}, refs=[Ref("crm", str(i))]) for i in range(count)
        ]
        candidates, existing = matched(session, ctx, records, ("ref",))
    assert [c.client_id for c in candidates] == ids
    assert not any(c.failed for c in candidates)
    assert existing.ids == set(ids)
    assert len(existing.by_email) == len(existing.by_tracking) == len(existing.by_ref) == count
