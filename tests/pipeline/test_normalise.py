"""Normalise: a raw record becomes stored values field by field; every error names its field
and row; omitted fields are not produced; the display name is derived and follows updates."""

from __future__ import annotations

from typing import Any

import pytest

from clientdock.pipeline.normalise import derived_name, follow_derived_name, normalise
from clientdock.pipeline.records import Candidate, FieldWarning, RawRecord, Ref
from clientdock.tenants.context import DEFAULT_SETTINGS, TenantContext

CTX = TenantContext("tenant-1", "acme", dict(DEFAULT_SETTINGS), "unassigned-group")


def normalised(fields: dict[str, Any], *, ctx: TenantContext = CTX, index: int = 7) -> Candidate:
    return normalise(RawRecord(index=index, fields=fields), ctx)


def errors(candidate: Candidate) -> dict[str | None, tuple[str, str, int | None]]:
    return {e.field: (e.message, e.code, e.row) for e in candidate.errors}


def test_only_the_fields_given_are_produced() -> None:
    candidate = normalised({"note": "  hello  "})
    assert candidate.values == {"note": "hello"}
    assert not candidate.failed
    assert candidate.name_from is None


def test_every_kind_of_field_is_stored_in_its_form() -> None:
    candidate = normalised(
        {
            "type": "ltd", "name": " Acme Ltd ", "email": "Ops@ACME.co.uk", "phone": "020 7946 0018", "mobile": "07700 900123",
            "active": "no", "tags": "vip;payroll", "dateOfBirth": "03/04/1980", "createdAt": "2020-01-31T09:00:00Z",
            "clientGroupId": "group-9", "parentId": "client-3", "companyNumber": "01234567",
        }
    )  # fmt: skip
    values = candidate.values
    assert not candidate.failed, candidate.errors
    assert (values["type"], values["name"], values["active"], values["tags"]) == (
        "PrivateLimitedCompany",
        "Acme Ltd",
        False,
        ["vip", "payroll"],
    )
    assert (values["email"], values["email_key"]) == ("Ops@acme.co.uk", "ops@acme.co.uk")
    assert (values["phone"], values["phone_e164"], values["mobile_e164"]) == ("020 7946 0018", "+442079460018", "+447700900123")
    assert values["date_of_birth"] == "1980-04-03"
    assert values["created_at"].isoformat() == "2020-01-31T09:00:00+00:00"
    assert (values["client_group_id"], values["parent_id"], values["company_number"]) == ("group-9", "client-3", "01234567")


def test_the_tenant_decides_date_order_and_phone_region() -> None:
    american = TenantContext("t", "us", {**DEFAULT_SETTINGS, "dateOrder": "MDY", "defaultRegion": "US"}, "g")
    candidate = normalised({"dateOfBirth": "03/04/1980", "phone": "(212) 555-0123"}, ctx=american)
    assert candidate.values["date_of_birth"] == "1980-03-04"
    assert candidate.values["phone_e164"] == "+12125550123"


def test_every_bad_field_is_reported_with_field_row_and_code() -> None:
    candidate = normalised(
        {"email": "nope", "active": "maybe", "type": "Corporation", "dateOfBirth": "31/31/2000", "shoeSize": 44, "note": ["x"]}, index=12
    )
    found = errors(candidate)
    assert set(found) == {"email", "active", "shoeSize", "note"}
    assert found["email"] == ("'nope' is not a valid email address", "invalid", 12)
    assert found["active"][1:] == ("invalid_value", 12)
    assert found["shoeSize"] == ("is not a client field", "invalid", 12)
    assert found["note"][0] == "must be text, not list"
    assert [(w.field, w.value) for w in candidate.warnings] == [("type", "Corporation"), ("dateOfBirth", "31/31/2000")]


def warned(candidate: Candidate) -> dict[str | None, tuple[str, object]]:
    return {w.field: (w.message, w.value) for w in candidate.warnings}


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"dateOfBirth": "03/14"}, "dateOfBirth", "'03/14' has no year (use YYYY-MM-DD)"),
        ({"dateOfBirth": "--03-14"}, "dateOfBirth", "'--03-14' has no year (use YYYY-MM-DD)"),
        (
            {"dateOfBirth": "31/02/1980"},
            "dateOfBirth",
            "'31/02/1980' is not a date that exists (use YYYY-MM-DD)",
        ),
        (
            {"dateOfBirth": "1980-02-30"},
            "dateOfBirth",
            "'1980-02-30' is not a date that exists (use YYYY-MM-DD)",
        ),
        ({"dateOfBirth": "soon"}, "dateOfBirth", "'soon' is not a date (use YYYY-MM-DD)"),
        ({"type": "Corporation"}, "type", "'Corporation' is not a client type; use one of Individual, "),
        ({"gender": "sometimes"}, "gender", "'sometimes' is not a gender (use e.g. female, male, other)"),
    ],
)
def test_a_secondary_value_that_cannot_be_read_is_a_warning_and_left_out(fields: dict[str, Any], field: str, message: str) -> None:
    candidate = normalised({"firstName": "Ada", "email": "ada@firm.co", **fields})
    assert not candidate.failed, candidate.errors
    assert set(candidate.values) == {"first_name", "email", "email_key", "name"}
    ((warning_field, (text, value)),) = warned(candidate).items()
    assert (warning_field, value) == (field, fields[field])
    assert text.startswith(message)
    assert text.endswith("; the field was left as it was")


def test_a_phone_that_will_not_parse_is_kept_as_given_with_a_warning() -> None:
    candidate = normalised({"phone": "ask reception", "mobile": "07700 900123"})
    assert not candidate.failed
    assert (candidate.values["phone"], candidate.values["phone_e164"]) == ("ask reception", None)
    assert candidate.values["mobile_e164"] == "+447700900123"
    assert warned(candidate) == {
        "phone": (
            "'ask reception' is not a phone number that can be read; kept as given, without the international (E.164) form",
            "ask reception",
        )
    }


def test_spreadsheet_damage_in_a_phone_still_fails_the_row() -> None:
    candidate = normalised({"phone": "4.47911E+11"})
    assert errors(candidate)["phone"][0].startswith("'4.47911E+11' looks like a number mangled by a spreadsheet")
    assert not candidate.warnings


@pytest.mark.parametrize("given", ["F", "female", " Weiblich ", "homme", "Mujer", "vrouw", "non-binary", "X", "Prefer not to say"])
def test_a_known_gender_is_kept_as_written(given: str) -> None:
    candidate = normalised({"gender": given})
    assert (candidate.values["gender"], candidate.warnings) == (given.strip(), [])


def test_a_warning_value_is_what_was_given() -> None:
    long = "x" * 300
    assert warned(normalised({"dateOfBirth": long}))["dateOfBirth"][1] == "x" * 200 + "…"
    assert warned(normalised({"dateOfBirth": 1980}))["dateOfBirth"][1] == 1980
    assert warned(normalised({"type": 7}))["type"][1] == 7
    assert warned(normalised({"gender": ["f"]}))["gender"][1] == "a list"


def test_null_is_still_not_a_client_type() -> None:
    candidate = normalised({"type": None})
    assert errors(candidate)["type"][0] == "may not be null"
    assert not candidate.warnings


@pytest.mark.parametrize("field", ["name", "type", "active"])
def test_fields_that_may_not_be_null(field: str) -> None:
    assert errors(normalised({field: None}))[field][0] == "may not be null"


@pytest.mark.parametrize("field", ["tags", "attributes", "addresses"])
def test_lists_may_not_be_null(field: str) -> None:
    assert errors(normalised({field: None}))[field][0] == "must be a list, not null"


def test_null_clears_a_plain_field_and_empty_cells_leave_not_null_fields_alone() -> None:
    assert normalised({"note": None, "email": None, "phone": None}).values == {
        "note": None, "email": None, "email_key": None, "phone": None, "phone_e164": None
    }  # fmt: skip
    assert normalised({"type": "  ", "active": ""}).values == {}


def test_no_group_is_the_unassigned_group() -> None:
    assert normalised({"clientGroupId": None}).values == {"client_group_id": "unassigned-group"}
    assert normalised({"clientGroupId": "  "}).values == {"client_group_id": "unassigned-group"}
    assert normalised({"parentId": None}).values == {"parent_id": None}


def test_a_reserved_email_domain_is_a_warning_not_an_error() -> None:
    candidate = normalised({"email": "ops@acme.example"})
    assert not candidate.failed
    assert candidate.warnings == [
        FieldWarning("email", "the domain 'acme.example' is reserved and cannot receive mail", "ops@acme.example")
    ]


def test_an_overlong_value_names_its_limit() -> None:
    assert errors(normalised({"project": "p" * 101}))["project"][0] == "is 101 characters long; at most 100 allowed"


def test_typed_attributes() -> None:
    candidate = normalised(
        {
            "attributes": [
                {"class": "crm", "name": "score", "type": "number", "value": "42"},
                {"name": "ratio", "type": "NUMBER", "value": "0.5"},
                {"name": "seats", "type": "integer", "value": "3.0"},
                {"name": "vip", "type": "boolean", "value": "yes"},
                {"name": "since", "type": "date", "value": "2020-01-31"},
                {"name": "seen", "type": "datetime", "value": "2020-01-31T10:00:00Z"},
                {"name": "segment", "value": "SMB"},
                {"name": "empty", "type": "string", "value": None},
            ]
        }
    )
    assert not candidate.failed, candidate.errors
    assert [(a["class"], a["name"], a["type"], a["value"]) for a in candidate.values["attributes"]] == [
        ("crm", "score", "number", 42), (None, "ratio", "number", 0.5), (None, "seats", "integer", 3), (None, "vip", "boolean", True),
        (None, "since", "date", "2020-01-31"), (None, "seen", "datetime", "2020-01-31T10:00:00+00:00"),
        (None, "segment", "string", "SMB"), (None, "empty", "string", None),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("attributes", "says"),
    [
        ("score=1", "must be a list of {class, name, type, value}"),
        (["x"], "item 0 must be an object"),
        ([{"name": "a", "colour": "red"}], "item 0 has unknown keys ['colour']"),
        ([{"type": "string", "value": "x"}], "item 0 needs a name"),
        ([{"name": "a", "type": "money", "value": "1"}], "item 0 type 'money' is not one of string, text, number"),
        ([{"name": "a", "type": "number", "value": "forty"}], "item 0 value 'forty' is not a valid number"),
        ([{"name": "a"}, {"name": "b", "type": "number", "value": True}], "item 1 value 'True' is not a valid number"),
        ([{"name": "a", "type": "boolean", "value": "perhaps"}], "item 0 value 'perhaps' is not a valid boolean"),
        ([{"name": "a", "type": "date", "value": "soon"}], "item 0 value 'soon' is not a valid date"),
    ],
)
def test_bad_attributes_name_the_item(attributes: Any, says: str) -> None:
    message, code, row = errors(normalised({"attributes": attributes}))["attributes"]
    assert message.startswith(says)
    assert (code, row) == ("invalid", 7)


def test_addresses_are_trimmed_and_empty_parts_dropped() -> None:
    candidate = normalised({"addresses": [{"type": "billing", "line1": " Damrak 1 ", "line2": "", "city": "Amsterdam", "region": None}]})
    assert candidate.values["addresses"] == [{"type": "billing", "line1": "Damrak 1", "city": "Amsterdam"}]


@pytest.mark.parametrize(
    ("addresses", "says"),
    [
        ("Damrak 1", "must be a list of address objects"),
        ([1], "item 0 must be an object"),
        ([{"zip": "1012"}], "item 0 has unknown keys ['zip']"),
    ],
)
def test_bad_addresses_name_the_item(addresses: Any, says: str) -> None:
    assert errors(normalised({"addresses": addresses}))["addresses"][0].startswith(says)


def test_id_is_a_match_key_not_a_value() -> None:
    candidate = normalised({"id": "  client-1 ", "note": "x"})
    assert candidate.match_id == "client-1"
    assert "id" not in candidate.values
    assert normalised({"id": "   "}).match_id is None
    assert errors(normalised({"id": True}))["id"][0] == "must be text, not a boolean"


def test_the_record_carries_its_refs_parent_errors_and_warnings_over() -> None:
    ref, parent = Ref("erp", "1"), Ref("erp", "0")
    record = RawRecord(
        index=3, fields={"note": "n"}, refs=[ref], parent=parent, lookup_key="erp/1/", warnings=[FieldWarning(None, "extra cells")]
    )
    candidate = normalise(record, CTX)
    assert (candidate.refs, candidate.parent, candidate.lookup_key, candidate.warnings) == (
        [ref],
        parent,
        "erp/1/",
        [FieldWarning(None, "extra cells")],
    )


@pytest.mark.parametrize(
    ("fields", "name", "source"),
    [
        ({"firstName": "Ada", "lastName": "Lovelace"}, "Ada Lovelace", "parts"),
        ({"firstName": "Ada", "middleName": "King", "lastName": "Lovelace"}, "Ada King Lovelace", "parts"),
        ({"lastName": "Lovelace", "company": "Engines Ltd"}, "Lovelace", "parts"),
        ({"company": "Engines Ltd"}, "Engines Ltd", "company"),
        ({"name": "Countess", "firstName": "Ada"}, "Countess", None),
    ],
)
def test_the_display_name_is_derived_when_none_is_given(fields: dict[str, Any], name: str, source: str | None) -> None:
    candidate = normalised(fields)
    assert (candidate.values["name"], candidate.name_from) == (name, source)


def test_no_name_is_derived_from_nothing() -> None:
    assert "name" not in normalised({"note": "x"}).values
    assert "name" not in normalised({"firstName": "", "company": "Engines Ltd"}).values  # a person's part was given, if empty


def test_a_derived_name_is_cut_to_the_column_and_the_parts_kept_whole() -> None:
    candidate = normalised({"firstName": "A" * 300, "lastName": "B" * 300})
    assert len(candidate.values["name"]) == 500
    assert len(candidate.values["first_name"]) == len(candidate.values["last_name"]) == 300


def test_derived_name() -> None:
    assert derived_name({"first_name": "Ada", "middle_name": None, "last_name": "King"}, "parts") == "Ada King"
    assert derived_name({"company": "Engines Ltd"}, "parts") is None
    assert derived_name({"company": "Engines Ltd"}, "company") == "Engines Ltd"
    assert derived_name({}, "company") is None


STORED = {"name": "Ada Lovelace", "first_name": "Ada", "middle_name": None, "last_name": "Lovelace", "company": "Engines Ltd"}


def test_on_update_a_derived_name_is_built_from_the_stored_and_given_parts() -> None:
    candidate = normalised({"firstName": "Augusta"})
    follow_derived_name(candidate, STORED)
    assert candidate.values["name"] == "Augusta Lovelace"


def test_on_update_a_hand_set_name_is_kept() -> None:
    candidate = normalised({"lastName": "King"})
    follow_derived_name(candidate, {**STORED, "name": "The Countess"})
    assert "name" not in candidate.values
    assert candidate.values["last_name"] == "King"


def test_on_update_a_company_name_follows_the_company_only_if_it_did_before() -> None:
    renamed = normalised({"company": "Engines Group"})
    follow_derived_name(renamed, {**STORED, "name": "Engines Ltd"})
    assert renamed.values["name"] == "Engines Group"
    person = normalised({"company": "Engines Group"})
    follow_derived_name(person, STORED)
    assert "name" not in person.values


def test_on_update_an_empty_stored_name_takes_the_derived_one() -> None:
    candidate = normalised({"firstName": "Ada"})
    follow_derived_name(candidate, {"name": None, "first_name": None, "last_name": "Lovelace"})
    assert candidate.values["name"] == "Ada Lovelace"


def test_a_given_name_is_not_touched_on_update() -> None:
    candidate = normalised({"name": "Lady Lovelace", "firstName": "Augusta"})
    follow_derived_name(candidate, STORED)
    assert candidate.values["name"] == "Lady Lovelace"
