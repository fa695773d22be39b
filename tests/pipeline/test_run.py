"""The whole pipeline (prepare -> match -> apply) inside the caller's transaction, on a real database."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.conftest import TenantInfo

from clientdock.clients.models import Client, ClientChange, ExternalRef
from clientdock.db import Database
from clientdock.errors import FieldError
from clientdock.imports.bulk import BULK_POLICY, to_record
from clientdock.imports.files import CSV_POLICY
from clientdock.imports.single import CREATE_POLICY, PATCH_POLICY, UPSERT_POLICY
from clientdock.pipeline import run as pipeline
from clientdock.pipeline.records import Policy, RawRecord, Ref, RowOutcome
from clientdock.pipeline.report import counts
from clientdock.tenants.context import TenantContext, load_context
from clientdock.tenants.models import Tenant


def context(session: Session, tenant: TenantInfo) -> TenantContext:
    return load_context(session, session.get_one(Tenant, tenant.id))


def run(database: Database, tenant: TenantInfo, records: Sequence[RawRecord], policy: Policy) -> list[RowOutcome]:
    with database.session() as session:
        return pipeline.run(session, context(session, tenant), records, policy)


def bulk(items: Sequence[dict[str, Any]]) -> list[RawRecord]:
    """S4 items through the bulk door's own mapping."""
    return [to_record(i, body) for i, body in enumerate(items)]


def snapshot(database: Database) -> dict[str, Any]:
    """Every client (all columns), reference and audit row of the database."""
    with database.session() as session:
        clients = {c.id: {col.key: getattr(c, col.key) for col in Client.__table__.columns} for c in session.scalars(select(Client))}
        refs = sorted(
            tuple(r)
            for r in session.execute(select(ExternalRef.client_id, ExternalRef.source, ExternalRef.external_id, ExternalRef.language))
        )
        audit = session.scalar(select(func.count()).select_from(ClientChange))
    return {"clients": clients, "refs": refs, "audit": audit}


# --- order and isolation of failures ----------------------------------------------------------------------


def test_outcomes_come_back_in_input_order(database: Database, tenant: TenantInfo) -> None:
    seeded = run(
        database,
        tenant,
        bulk([{"source": "crm", "sourceId": "a", "fullName": "Ada"}, {"source": "crm", "sourceId": "b", "fullName": "Bob"}]),
        BULK_POLICY,
    )
    ada_id, bob_id = (o.client_id for o in seeded)
    records = [
        RawRecord(index=7, fields={"name": "New 1"}, refs=[Ref("crm", "n1")], lookup_key="crm/n1/"),
        RawRecord(index=3, fields={"name": "Bob"}, refs=[Ref("crm", "b")], lookup_key="crm/b/"),
        RawRecord(index=9, fields={"email": "broken@"}, refs=[Ref("crm", "x")], lookup_key="crm/x/"),
        RawRecord(index=0, fields={"note": "hi"}, refs=[Ref("crm", "a")], lookup_key="crm/a/"),
        RawRecord(index=5, fields={"name": "New 2"}, refs=[Ref("crm", "n2")], lookup_key="crm/n2/"),
    ]
    outcomes = run(database, tenant, records, BULK_POLICY)
    assert [(o.index, o.lookup_key, o.action) for o in outcomes] == [
        (7, "crm/n1/", "created"),
        (3, "crm/b/", "unchanged"),
        (9, "crm/x/", "failed"),
        (0, "crm/a/", "updated"),
        (5, "crm/n2/", "created"),
    ]
    assert [outcomes[1].client_id, outcomes[3].client_id] == [bob_id, ada_id]
    assert counts(outcomes) == {"created": 2, "updated": 1, "unchanged": 1, "skipped": 0, "failed": 1}


def test_a_failing_record_fails_alone(database: Database, tenant: TenantInfo) -> None:
    items = [
        {"source": "crm", "sourceId": "1", "fullName": "One", "email": "one@firm.co"},
        {"source": "crm", "sourceId": "2", "fullName": "Two", "email": "not an email"},
        {"source": "crm", "sourceId": "3", "fullName": "Three", "dateOfBirth": "31/02/2000"},
        {"source": "crm", "sourceId": "4", "email": "four@firm.co"},
        {"source": "crm", "sourceId": "5", "fullName": "Five", "colour": "blue"},
        {"source": "crm", "sourceId": "6", "fullName": "Six", "email": "ONE@firm.co"},
        {"sourceId": "7", "fullName": "No source"},
        {"source": "crm", "sourceId": "8", "fullName": "Eight", "type": "Spaceship"},
        {"source": "crm", "sourceId": "9", "fullName": "Nine", "tags": "x, y", "phone": "+44 20 7946 0009"},
    ]
    outcomes = run(database, tenant, bulk(items), BULK_POLICY)
    assert [o.action for o in outcomes] == ["created", "failed", "created", "failed", "failed", "failed", "failed", "created", "created"]
    located = {o.index: [(e.field, e.row, e.code) for e in o.errors] for o in outcomes if o.action == "failed"}
    assert located == {
        1: [("email", 1, "invalid")],
        3: [("name", 3, "missing")],
        4: [("colour", 4, "unknown")],
        5: [("email", 5, "duplicate")],
        6: [("source", 6, "missing")],
    }
    # an impossible date of birth and an unknown type are secondary: the row imports without them
    assert {o.index: [(w.field, w.value) for w in o.warnings] for o in outcomes if o.warnings} == {
        2: [("dateOfBirth", "31/02/2000")],
        7: [("type", "Spaceship")],
    }
    assert all(o.client_id is None for o in outcomes if o.action == "failed")
    with database.session() as session:
        stored = {c.name: c for c in session.scalars(select(Client))}
        ref_keys = sorted(session.scalars(select(ExternalRef.external_id)))
    assert set(stored) == {"One", "Three", "Eight", "Nine"}
    assert (stored["Three"].date_of_birth, stored["Eight"].type) == (None, "Individual")
    assert (stored["Nine"].tags, stored["Nine"].phone_e164) == (["x", "y"], "+442079460009")
    assert stored["One"].id == outcomes[0].client_id
    assert ref_keys == ["1", "3", "8", "9"]


def test_every_error_of_a_record_is_reported(database: Database, tenant: TenantInfo) -> None:
    (outcome,) = run(database, tenant, [RawRecord(index=0, fields={"email": "nope", "active": "maybe", "dateOfBirth": "soon"})], CSV_POLICY)
    assert outcome.action == "failed"
    assert sorted((e.field, e.code) for e in outcome.errors) == [
        ("active", "invalid_value"),
        ("email", "invalid"),
        ("firstName", "missing"),
    ]
    assert [(w.field, w.value) for w in outcome.warnings] == [("dateOfBirth", "soon")]
    assert sorted(outcome.messages)[0].startswith("active: ")
    assert outcome.messages[-1] == "dateOfBirth: 'soon' is not a date (use YYYY-MM-DD); the field was left as it was"


# --- idempotency --------------------------------------------------------------------------------------------


RICH_BATCH: list[dict[str, Any]] = [
    {
        "source": "crm", "sourceId": "child", "parent": {"source": "crm", "sourceId": "parent"},
        "firstName": " Ada ", "lastName": "Lovelace", "email": "Ada.Lovelace@FIRM.co",
        "phone": "020 7946 0000", "mobile": "+44 7700 900123", "dateOfBirth": "10/12/1815",
        "type": "person", "active": "yes", "tags": "vip; math ;vip", "gender": "F", "primaryLanguage": "en",
        "attributes": [
            {"class": "crm", "name": "score", "type": "integer", "value": "42"},
            {"name": "since", "type": "date", "value": "2001-02-03"},
        ],
        "addresses": [{"type": "home", "line1": " 12 St James's Square ", "city": "London", "postalCode": "SW1Y 4JH", "countryCode": "GB"}],
    },
    {"source": "crm", "sourceId": "parent", "company": "Analytical Engines Ltd", "type": "ltd", "taxNumber": 123456789, "note": "pc"},
    {"source": "crm", "sourceId": "solo", "language": "fr", "fullName": "Solo", "email": "solo@firm.co", "active": False},
]  # fmt: skip


def test_running_the_same_batch_twice_gives_the_same_end_state(database: Database, tenant: TenantInfo) -> None:
    first = run(database, tenant, bulk(RICH_BATCH), BULK_POLICY)
    assert [o.action for o in first] == ["created", "created", "created"], [o.errors for o in first]
    after_first = snapshot(database)

    second = run(database, tenant, bulk(RICH_BATCH), BULK_POLICY)
    assert [o.action for o in second] == ["unchanged", "unchanged", "unchanged"], [o.changes for o in second]
    assert [o.client_id for o in second] == [o.client_id for o in first]
    assert snapshot(database) == after_first, "a repeated batch writes nothing, not even updated_at or an audit row"

    child_id, parent_id, solo_id = (o.client_id for o in first)
    child = after_first["clients"][child_id]
    assert child["name"] == "Ada Lovelace"
    assert child["parent_id"] == parent_id
    assert (child["email"], child["email_key"]) == ("Ada.Lovelace@firm.co", "ada.lovelace@firm.co")
    assert (child["phone_e164"], child["mobile_e164"]) == ("+442079460000", "+447700900123")
    assert (child["date_of_birth"], child["type"], child["active"], child["tags"]) == ("1815-12-10", "Individual", True, ["vip", "math"])
    assert child["attributes"] == [
        {"class": "crm", "name": "score", "type": "integer", "value": 42},
        {"class": None, "name": "since", "type": "date", "value": "2001-02-03"},
    ]
    assert child["addresses"] == [
        {"type": "home", "line1": "12 St James's Square", "city": "London", "postalCode": "SW1Y 4JH", "countryCode": "GB"}
    ]
    parent = after_first["clients"][parent_id]
    assert (parent["name"], parent["type"], parent["tax_number"]) == ("Analytical Engines Ltd", "PrivateLimitedCompany", "123456789")
    assert after_first["clients"][solo_id]["active"] is False
    assert after_first["refs"] == sorted([(child_id, "crm", "child", ""), (parent_id, "crm", "parent", ""), (solo_id, "crm", "solo", "fr")])
    assert after_first["audit"] == 3


def test_a_second_run_with_one_change_updates_only_that_record(database: Database, tenant: TenantInfo) -> None:
    first = run(database, tenant, bulk(RICH_BATCH), BULK_POLICY)
    changed = [dict(body) for body in RICH_BATCH]
    changed[2]["active"] = "true"
    second = run(database, tenant, bulk(changed), Policy(match_on=("ref",), job_id="job-2"))
    assert [o.action for o in second] == ["unchanged", "unchanged", "updated"]
    assert second[2].changes == {"active": (False, True)}
    with database.session() as session:
        rows = [
            (c.client_id, c.field, c.before, c.after) for c in session.scalars(select(ClientChange).where(ClientChange.job_id == "job-2"))
        ]
    assert rows == [(first[2].client_id, "active", False, True)]


def test_the_service_policies_run_end_to_end(database: Database, tenant: TenantInfo) -> None:
    (created,) = run(
        database, tenant, [RawRecord(index=0, fields={"name": "Ada", "trackingId": "crm-1"}, lookup_key="crm-1")], UPSERT_POLICY
    )
    (upserted,) = run(
        database, tenant, [RawRecord(index=0, fields={"trackingId": "crm-1", "note": "n"}, lookup_key="crm-1")], UPSERT_POLICY
    )
    (no_key,) = run(database, tenant, [RawRecord(index=0, fields={"name": "Keyless"})], UPSERT_POLICY)
    assert created.client_id is not None
    (patched,) = run(database, tenant, [RawRecord(index=0, fields={"id": created.client_id, "email": "ada@firm.co"})], PATCH_POLICY)
    (again,) = run(database, tenant, [RawRecord(index=0, fields={"name": "Ada", "trackingId": "crm-2"})], CREATE_POLICY)
    (taken,) = run(database, tenant, [RawRecord(index=0, fields={"name": "Ada", "trackingId": "crm-1"})], CREATE_POLICY)
    assert (created.action, upserted.action, upserted.client_id) == ("created", "updated", created.client_id)
    assert no_key.errors == [FieldError("trackingId", "is required", 0, "missing")]
    assert (patched.action, patched.changes) == ("updated", {"email": (None, "ada@firm.co")})
    assert again.action == "created"
    assert again.client_id != created.client_id
    assert taken.errors == [FieldError("trackingId", "already belongs to another client of this tenant", 0, "duplicate")]
    with database.session() as session:
        ada = session.get_one(Client, created.client_id)
        assert session.scalar(select(func.count()).select_from(Client)) == 2
    assert (ada.name, ada.tracking_id, ada.note, ada.email) == ("Ada", "crm-1", "n", "ada@firm.co")


def test_a_batch_touches_only_its_own_tenant(database: Database, tenant: TenantInfo, other_tenant: TenantInfo) -> None:
    items = [{"source": "crm", "sourceId": "1", "fullName": "Ada", "email": "ada@firm.co"}]
    (theirs,) = run(database, other_tenant, bulk(items), BULK_POLICY)
    before = snapshot(database)
    (ours,) = run(database, tenant, bulk([{**items[0], "fullName": "Our Ada"}]), BULK_POLICY)
    assert (theirs.action, ours.action) == ("created", "created")
    after = snapshot(database)
    assert after["clients"][theirs.client_id] == before["clients"][theirs.client_id]
    assert after["clients"][ours.client_id]["tenant_id"] == tenant.id
    assert after["clients"][ours.client_id]["name"] == "Our Ada"


# --- dry run --------------------------------------------------------------------------------------------------


def test_a_dry_run_in_a_rolled_back_savepoint_writes_nothing(database: Database, tenant: TenantInfo) -> None:
    (seeded,) = run(database, tenant, bulk([{"source": "crm", "sourceId": "a", "fullName": "Ada", "note": "before"}]), BULK_POLICY)
    before = snapshot(database)
    items: list[dict[str, Any]] = [
        {"source": "crm", "sourceId": "a", "note": "after"},
        {"source": "crm", "sourceId": "b", "fullName": "Bob", "parent": {"source": "crm", "sourceId": "a"}},
        {"source": "crm", "sourceId": "c", "email": "bad"},
    ]
    policy = Policy(match_on=("ref",), job_id="job-dry")
    with database.session() as session:
        ctx = context(session, tenant)
        savepoint = session.begin_nested()
        outcomes = pipeline.run(session, ctx, bulk(items), policy)
        inside = session.scalar(select(func.count()).select_from(Client))
        savepoint.rollback()
        after_rollback = session.scalar(select(func.count()).select_from(Client))
        note = session.scalar(select(Client.note).where(Client.id == seeded.client_id))
    assert [o.action for o in outcomes] == ["updated", "created", "failed"]
    assert outcomes[0].changes == {"note": ("before", "after")}
    assert outcomes[1].client_id is not None, "a dry run reports the id it would have used"
    assert (inside, after_rollback, note) == (2, 1, "before")
    assert snapshot(database) == before
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(ClientChange).where(ClientChange.job_id == "job-dry")) == 0

    real = run(database, tenant, bulk(items), policy)
    assert [o.action for o in real] == ["updated", "created", "failed"]
    assert snapshot(database)["clients"][seeded.client_id]["note"] == "after"
