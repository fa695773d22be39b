"""``onExisting`` in the pipeline: reading the option, what fillEmpty writes (derived values
included), what skip leaves alone, the audit trail, and the option kept on a job."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from tests.conftest import TenantInfo

from clientdock.clients.models import Client, ClientChange, ExternalRef
from clientdock.db import Database
from clientdock.errors import ValidationFailed
from clientdock.jobs.policy import from_options, on_existing_of, to_options
from clientdock.pipeline.existing import SKIPPED, is_empty, keep_empty_only, kept_message, parse_on_existing
from clientdock.pipeline.records import FieldWarning, Policy, RawRecord, Ref, RowOutcome
from clientdock.pipeline.run import run
from clientdock.tenants.context import load_context
from clientdock.tenants.models import ClientGroup, Tenant

BY_EMAIL = Policy(match_on=("email",), job_id="job-seed")
BY_REF = Policy(match_on=("ref",), job_id="job-seed")


def apply_batch(database: Database, tenant: TenantInfo, records: list[RawRecord], policy: Policy) -> list[RowOutcome]:
    """The pipeline on one batch in one committed transaction."""
    with database.session() as session:
        return run(session, load_context(session, session.get_one(Tenant, tenant.id)), records, policy)


def load(database: Database, client_id: str) -> Client:
    with database.session() as session:
        return session.get_one(Client, client_id)


def audit_rows(database: Database, job_id: str) -> list[tuple[str, str, Any, Any]]:
    """(action, field, before, after) of a job's audit trail, sorted."""
    with database.session() as session:
        rows = [(c.action, c.field, c.before, c.after) for c in session.scalars(select(ClientChange).where(ClientChange.job_id == job_id))]
    return sorted(rows, key=repr)


def count_refs(database: Database) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(ExternalRef)) or 0


def row(index: int, **fields: Any) -> RawRecord:
    return RawRecord(index=index, fields=fields)


def seed(database: Database, tenant: TenantInfo, **fields: Any) -> str:
    (outcome,) = apply_batch(database, tenant, [row(0, **fields)], BY_EMAIL)
    assert outcome.action == "created", outcome.messages
    assert outcome.client_id is not None
    return outcome.client_id


# --- the option --------------------------------------------------------------------------------


@pytest.mark.parametrize(("sent", "read"), [(None, "update"), ("", "update"), ("  ", "update"), ("update", "update"),
                                            ("fillEmpty", "fillEmpty"), (" skip ", "skip")])  # fmt: skip
def test_the_option_reads_the_three_values_and_defaults_to_update(sent: str | None, read: str) -> None:
    assert parse_on_existing(sent) == read


@pytest.mark.parametrize(("sent", "shown"), [("overwrite", "'overwrite'"), ("FILLEMPTY", "'FILLEMPTY'"), (True, "bool"), (3, "int")])
def test_another_value_is_refused_naming_the_option_and_the_values(sent: Any, shown: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        parse_on_existing(sent)
    (error,) = raised.value.errors
    assert (error.field, error.message) == ("onExisting", f"must be one of update, fillEmpty, skip, not {shown}")
    with pytest.raises(ValidationFailed) as named:
        parse_on_existing(sent, "--on-existing")
    assert named.value.errors[0].field == "--on-existing"


def test_empty_means_no_value_an_empty_text_or_an_empty_list() -> None:
    empties: tuple[Any, ...] = (None, "", [], {})
    values: tuple[Any, ...] = (" x", 0, False, ["a"], {"a": 1})
    assert all(is_empty(value) for value in empties)
    assert not any(is_empty(value) for value in values)


def test_keep_empty_only_drops_filled_fields_with_their_derived_values() -> None:
    values: dict[str, Any] = {"email": "new@firm.co", "email_key": "new@firm.co", "phone": "+44 20 7946 0000",
              "phone_e164": "+442079460000", "mobile": "07700 900001",
              "mobile_e164": "+447700900001", "tags": ["vip"], "note": "same"}  # fmt: skip
    current: dict[str, Any] = {"email": "old@firm.co", "phone": None, "mobile": "07700 900999", "tags": [], "note": "same"}
    kept = keep_empty_only(values, current, unassigned_group_id="g0", derived_name=False)
    assert values == {"phone": "+44 20 7946 0000", "phone_e164": "+442079460000", "tags": ["vip"]}
    assert kept == ["email", "mobile"], "a value equal to the stored one is not reported as kept"
    assert kept_message(kept) == "kept the client's own email, mobile (onExisting: fillEmpty writes only empty fields)"


# --- fillEmpty in apply -------------------------------------------------------------------------


def test_fill_empty_writes_only_the_fields_empty_on_the_client(database: Database, tenant: TenantInfo) -> None:
    client_id = seed(database, tenant, firstName="Ada", lastName="Byron", email="ada@firm.co", phone="+44 20 7946 0001", note="")
    policy = Policy(match_on=("email",), on_existing="fillEmpty", job_id="job-fill")
    incoming = row(0, email="ADA@firm.co", phone="+44 20 7946 0999", company="Analytical Engines Ltd", note="met at the fair",
                   mobile="+44 7700 900123", tags=["vip"])  # fmt: skip
    (outcome,) = apply_batch(database, tenant, [incoming], policy)
    assert (outcome.action, outcome.client_id) == ("updated", client_id)
    assert outcome.changes == {
        "company": (None, "Analytical Engines Ltd"),
        "mobile": (None, "+44 7700 900123"),
        "note": (None, "met at the fair"),
        "tags": ([], ["vip"]),
    }
    assert outcome.warnings == [FieldWarning(None, kept_message(["email", "phone"]))], "ADA@ keeps its stored spelling"
    ada = load(database, client_id)
    assert (ada.phone, ada.phone_e164) == ("+44 20 7946 0001", "+442079460001"), "the phone and its E.164 form are both kept"
    assert (ada.mobile, ada.mobile_e164) == ("+44 7700 900123", "+447700900123"), "a filled phone gets its E.164 form"
    assert (ada.email, ada.email_key) == ("ada@firm.co", "ada@firm.co")
    assert audit_rows(database, "job-fill") == sorted(
        [("updated", "company", None, "Analytical Engines Ltd"), ("updated", "mobile", None, "+44 7700 900123"),
         ("updated", "note", None, "met at the fair"), ("updated", "tags", [], ["vip"])], key=repr
    )  # fmt: skip


def test_fill_empty_fills_an_empty_email_with_its_key(database: Database, tenant: TenantInfo) -> None:
    seeded = apply_batch(database, tenant, [RawRecord(0, {"name": "No Mail"}, refs=[Ref("crm", "1")])], BY_REF)[0]
    assert seeded.client_id is not None
    policy = Policy(match_on=("ref",), on_existing="fillEmpty", job_id="job-fill")
    (outcome,) = apply_batch(database, tenant, [RawRecord(0, {"email": "Late@Firm.co"}, refs=[Ref("crm", "1")])], policy)
    assert outcome.changes == {"email": (None, "Late@firm.co")}
    stored = load(database, seeded.client_id)
    assert (stored.email, stored.email_key) == ("Late@firm.co", "late@firm.co")


def test_fill_empty_takes_lists_whole_and_never_merges_them(database: Database, tenant: TenantInfo) -> None:
    client_id = seed(database, tenant, name="Ada", email="ada@firm.co", tags=["client"])
    policy = Policy(match_on=("email",), on_existing="fillEmpty")
    address = {"type": "postal", "line1": "1 High Street", "city": "London"}
    (outcome,) = apply_batch(database, tenant, [row(0, email="ada@firm.co", tags=["vip"], addresses=[address])], policy)
    assert set(outcome.changes) == {"addresses"}
    ada = load(database, client_id)
    assert ada.tags == ["client"]
    assert [a["line1"] for a in ada.addresses] == ["1 High Street"]


def test_fill_empty_counts_the_unassigned_group_as_no_group(database: Database, tenant: TenantInfo) -> None:
    client_id = seed(database, tenant, name="Ada", email="ada@firm.co")
    with database.session() as session:
        vip = ClientGroup(tenant_id=tenant.id, name="VIP")
        other = ClientGroup(tenant_id=tenant.id, name="Other")
        session.add_all([vip, other])
        session.flush()
        vip_id, other_id = vip.id, other.id
    policy = Policy(match_on=("email",), on_existing="fillEmpty")
    (first,) = apply_batch(database, tenant, [row(0, email="ada@firm.co", clientGroupId=vip_id)], policy)
    assert first.action == "updated"
    (second,) = apply_batch(database, tenant, [row(0, email="ada@firm.co", clientGroupId=other_id)], policy)
    assert second.action == "unchanged"
    assert second.warnings == [FieldWarning(None, kept_message(["clientGroupId"]))]
    assert load(database, client_id).client_group_id == vip_id


def test_fill_empty_never_changes_type_or_active_which_always_have_a_value(database: Database, tenant: TenantInfo) -> None:
    client_id = seed(database, tenant, name="Ada", email="ada@firm.co", active=True)
    policy = Policy(match_on=("email",), on_existing="fillEmpty")
    (outcome,) = apply_batch(database, tenant, [row(0, email="ada@firm.co", active=False, type="Company")], policy)
    assert outcome.action == "unchanged"
    assert outcome.warnings == [FieldWarning(None, kept_message(["type", "active"]))]
    assert load(database, client_id).active is True


def test_fill_empty_keeps_a_derived_name_following_the_parts_it_wrote(database: Database, tenant: TenantInfo) -> None:
    client_id = seed(database, tenant, lastName="Byron", email="ada@firm.co")
    assert load(database, client_id).name == "Byron"
    policy = Policy(match_on=("email",), on_existing="fillEmpty")
    (outcome,) = apply_batch(database, tenant, [row(0, email="ada@firm.co", firstName="Ada", lastName="Lovelace")], policy)
    assert outcome.changes == {"firstName": (None, "Ada"), "name": ("Byron", "Ada Byron")}
    assert outcome.warnings == [FieldWarning(None, kept_message(["lastName"]))]
    ada = load(database, client_id)
    assert (ada.first_name, ada.last_name, ada.name) == ("Ada", "Byron", "Ada Byron")


def test_fill_empty_keeps_a_name_set_by_hand(database: Database, tenant: TenantInfo) -> None:
    client_id = seed(database, tenant, name="Countess of Lovelace", lastName="Byron", email="ada@firm.co")
    policy = Policy(match_on=("email",), on_existing="fillEmpty")
    (outcome,) = apply_batch(database, tenant, [row(0, email="ada@firm.co", firstName="Ada", name="Ada Byron")], policy)
    assert outcome.changes == {"firstName": (None, "Ada")}
    assert outcome.warnings == [FieldWarning(None, kept_message(["name"]))]
    assert load(database, client_id).name == "Countess of Lovelace"


def test_fill_empty_still_creates_new_clients_whole(database: Database, tenant: TenantInfo) -> None:
    policy = Policy(match_on=("email",), on_existing="fillEmpty")
    (outcome,) = apply_batch(database, tenant, [row(0, name="New", email="new@firm.co", phone="+44 20 7946 0002")], policy)
    assert outcome.action == "created"
    assert outcome.client_id is not None
    assert load(database, outcome.client_id).phone_e164 == "+442079460002"


# --- skip ------------------------------------------------------------------------------------------


def test_skip_leaves_the_client_alone_and_attaches_no_reference(database: Database, tenant: TenantInfo) -> None:
    client_id = seed(database, tenant, name="Ada", email="ada@firm.co", note="kept")
    refs_before = count_refs(database)
    policy = Policy(match_on=("ref", "email"), on_existing="skip", job_id="job-skip")
    incoming = RawRecord(0, {"email": "ada@firm.co", "note": "ignored"}, refs=[Ref("xero-1", "c-1")], lookup_key="c-1")
    new = RawRecord(1, {"name": "Bob", "email": "bob@firm.co"}, refs=[Ref("xero-1", "c-2")], lookup_key="c-2")
    skipped, created = apply_batch(database, tenant, [incoming, new], policy)
    assert (skipped.action, skipped.client_id, skipped.changes, skipped.warnings) == (
        "skipped",
        client_id,
        {},
        [FieldWarning(None, SKIPPED)],
    )
    assert created.action == "created"
    assert load(database, client_id).note == "kept"
    assert count_refs(database) == refs_before + 1, "only the created client got its reference"
    assert [(r[0], r[1]) for r in audit_rows(database, "job-skip")] == [("created", "*")]


# --- on a job ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["update", "fillEmpty", "skip"])
def test_the_option_is_kept_on_the_job_and_read_back(value: Any) -> None:
    options = to_options(Policy(match_on=("email",), on_existing=value))
    assert options["onExisting"] == value
    assert from_options(options, job_id="j", actor=None).on_existing == value


def test_a_job_queued_before_the_option_existed_reads_its_allow_update() -> None:
    assert on_existing_of({"allowUpdate": False}) == "skip"
    assert on_existing_of({"allowUpdate": True}) == "update"
    assert on_existing_of({}) == "update"
