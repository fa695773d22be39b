"""Mapping a Xero Contact or a QuickBooks Customer onto a raw record: the reference examples
field by field, each type rule, joined phones, archived contacts, a broken contact failing
alone, and every mapped example through the real pipeline without errors."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clientdock.connections.mapping import MAPPING_DOC, WRITTEN_ADDRESS_KEYS, quickbooks_record, xero_record
from clientdock.pipeline.addresses import ADDRESS_KEYS
from clientdock.pipeline.organisations import infer_type
from clientdock.pipeline.records import FieldWarning, Policy, RawRecord, Ref
from clientdock.pipeline.run import prepare
from clientdock.tenants.context import DEFAULT_SETTINGS, TenantContext
from tests.fakes.data import qbo_example_customers, xero_example_contacts

CTX = TenantContext("tenant-1", "acme", dict(DEFAULT_SETTINGS), "unassigned-group")
POLICY = Policy(match_on=("ref", "email"))


def xero_examples() -> list[dict[str, Any]]:
    """The Xero reference examples (copied under tests/fakes/examples): page 1, then the by-id one."""
    return xero_example_contacts()


def quickbooks_examples() -> list[dict[str, Any]]:
    return qbo_example_customers()


def clean(record: RawRecord) -> RawRecord:
    assert record.errors == [], record.errors
    return record


# --- the reference examples, field by field -------------------------------------------------------


def test_xero_page_examples() -> None:
    katherine, lisa = (clean(xero_record(i, c, "xero-3f9a1c")) for i, c in enumerate(xero_examples()[:2]))
    assert katherine.fields == {
        "name": "Katherine Warren", "firstName": "Katherine", "lastName": "Warren", "email": "kat.warren@clampett.com",
        "companyNumber": "NumberBusiness1234", "type": "PrivateLimitedCompany", "phone": "(626) 847-1294",
        "addresses": [{"type": "postal", "city": "Palo Alto", "region": "CA", "postalCode": "94020", "country": "United States"}],
        "active": True,
    }  # fmt: skip
    assert katherine.refs == [Ref("xero-3f9a1c", "5cc8cf28-567e-4d43-b287-687cfcaec47c")]
    assert (katherine.index, katherine.lookup_key) == (0, "5cc8cf28-567e-4d43-b287-687cfcaec47c")
    assert katherine.source is xero_examples()[0] or katherine.source == xero_examples()[0]
    assert lisa.fields == {
        "name": "Lisa Parker", "firstName": "Lisa", "lastName": "Parker", "email": "lparker@parkerandco.com",
        "type": "Individual", "phone": "(510) 266-3583",
        "addresses": [{"type": "postal", "city": "Anchorage", "region": "AK", "postalCode": "99501", "country": "United States"}],
        "active": True,
    }  # fmt: skip
    assert (lisa.index, lisa.refs) == (1, [Ref("xero-3f9a1c", "3ec601ad-eddc-4ccb-a8ac-736e88293b1b")])


def test_xero_contact_by_id_example() -> None:
    acme = clean(xero_record(4, xero_examples()[2], "xero-1"))
    assert acme.fields == {
        "name": "Acme Parts Co.", "firstName": "Blake", "lastName": "Kohler", "email": "bk@krave.co",
        "companyNumber": "NumberBusiness1234", "taxNumber": "123-22-3456", "type": "PrivateLimitedCompany",
        "phone": "+1 604 408-0914", "mobile": "+3 234 999-44",
        "addresses": [
            {"type": "street", "line1": "123 Fake Street", "city": "Vancouver", "region": "British Columbia", "postalCode": "V6B 2T4"},
            {"type": "postal", "line1": "1234 Fake Street", "city": "Vancouver", "region": "British Columbia", "postalCode": "V6B 2T4"},
        ],
        "contacts": [
            {"firstName": "Sue", "lastName": "Johnson", "email": "sue.johnson@krave.com", "role": "contact person", "source": "xero"},
        ],
        "active": True,
    }  # fmt: skip
    assert (acme.refs, acme.lookup_key) == ([Ref("xero-1", "8138a266-fb42-49b2-a104-014b7045753d")], "8138a266-fb42-49b2-a104-014b7045753d")


def test_quickbooks_examples() -> None:
    amy, weiskopf, bill, king = (clean(quickbooks_record(i, c, "qbo-9")) for i, c in enumerate(quickbooks_examples()))
    bayshore = {"line1": "4581 Finch St.", "city": "Bayshore", "region": "CA", "postalCode": "94326"}
    assert amy.fields == {
        "name": "Amy's Bird Sanctuary", "firstName": "Amy", "middleName": "Michelle", "lastName": "Lauterbach",
        "company": "Amy's Bird Sanctuary", "type": "Other", "email": "Birds@Intuit.com", "phone": "(650) 555-3311",
        "addresses": [{"type": "billing", **bayshore}, {"type": "shipping", **bayshore}], "active": True,
    }  # fmt: skip
    assert (amy.refs, amy.lookup_key) == ([Ref("qbo-9", "1")], "1")
    assert (weiskopf.fields["company"], weiskopf.fields["type"], weiskopf.lookup_key) == ("Weiskopf Consulting", "Other", "29")
    assert king.fields == {
        "name": "King's Groceries", "firstName": "James", "middleName": "B", "lastName": "King", "title": "Mr",
        "company": "King Groceries", "type": "Other", "email": "jdrew@myemail.com", "phone": "(555) 555-5555",
        "addresses": [{"type": "billing", "line1": "123 Main Street", "city": "Mountain View", "region": "CA", "postalCode": "94042",
                       "country": "USA"}],
        "active": True,
    }  # fmt: skip
    assert (king.refs, king.source["Id"]) == ([Ref("qbo-9", "67")], "67")
    assert (bill.fields["name"], bill.fields["type"], bill.lookup_key) == ("Bill's Windsurf Shop", "Other", "2")


def test_every_mapped_example_goes_through_the_pipeline_without_errors() -> None:
    records = [xero_record(i, c, "xero-1") for i, c in enumerate(xero_examples())]
    records += [quickbooks_record(i, c, "qbo-1") for i, c in enumerate(quickbooks_examples(), start=len(records))]
    candidates = prepare(records, CTX, POLICY)
    assert [(c.index, c.errors) for c in candidates if c.errors] == []
    acme = candidates[2].values
    assert (acme["type"], acme["phone"], acme["phone_e164"], acme["active"]) == (
        "PrivateLimitedCompany",
        "+1 604 408-0914",
        "+16044080914",
        True,
    )
    assert acme["contacts"] == [
        {"firstName": "Sue", "lastName": "Johnson", "email": "sue.johnson@krave.com", "role": "contact person", "source": "xero"}
    ]
    assert acme["addresses"][0]["type"] == "street"
    king = candidates[6].values
    assert (king["name"], king["title"], king["email_key"], king["company"]) == (
        "King's Groceries",
        "Mr",
        "jdrew@myemail.com",
        "King Groceries",
    )
    assert [c.refs[0].source for c in candidates] == ["xero-1"] * 3 + ["qbo-1"] * 4


# --- each rule ----------------------------------------------------------------------------------


def xero(**contact: Any) -> RawRecord:
    return xero_record(0, {"ContactID": "c-1", **contact}, "xero-1")


def qbo(**customer: Any) -> RawRecord:
    return quickbooks_record(0, {"Id": "7", **customer}, "qbo-1")


@pytest.mark.parametrize(
    ("contact", "expected"),
    [
        ({"Name": "Acme Ltd"}, "PrivateLimitedCompany"),
        ({"Name": "Acme Trading Limited"}, "PrivateLimitedCompany"),
        ({"Name": "acme ltd."}, "PrivateLimitedCompany"),
        ({"Name": "Acme Holdings PLC"}, "PublicLimitedCompany"),
        ({"Name": "Acme p.l.c."}, "PublicLimitedCompany"),
        ({"Name": "Smith & Jones LLP"}, "LimitedLiabilityPartnership"),
        ({"Name": "Smith & Jones LLP", "CompanyNumber": "OC123456"}, "LimitedLiabilityPartnership"),
        ({"Name": "Jo Bloggs", "FirstName": "Jo", "LastName": "Bloggs", "CompanyNumber": "01234567"}, "PrivateLimitedCompany"),
        ({"Name": "The Corner Shop"}, "Other"),
        ({"Name": "Jo Bloggs", "FirstName": "Jo", "LastName": "Bloggs"}, "Individual"),
        ({"Name": "Jo Bloggs Ltd", "FirstName": "Jo", "LastName": "Bloggs"}, "PrivateLimitedCompany"),
        ({"Name": "Ltdbury Farm"}, "Other"),
        ({"Name": "Hart Family Trust"}, "Trust"),
        ({"Name": "Riverside Food Bank CIO"}, "Charity"),
        ({"Name": "Bloggs & Co"}, "Partnership"),
        ({"Name": "Madonna", "FirstName": "Madonna"}, None),
    ],
)
def test_xero_type_rules(contact: dict[str, Any], expected: str | None) -> None:
    assert clean(xero(**contact)).fields.get("type") == expected


@pytest.mark.parametrize(
    ("customer", "expected"),
    [
        ({"DisplayName": "Acme", "CompanyName": "Acme Limited"}, "PrivateLimitedCompany"),
        ({"DisplayName": "Acme PLC", "GivenName": "Jo", "FamilyName": "Bloggs"}, "PublicLimitedCompany"),
        ({"DisplayName": "Law Firm", "CompanyName": "Law Firm LLP"}, "LimitedLiabilityPartnership"),
        ({"DisplayName": "Jo's Shop", "GivenName": "Jo", "FamilyName": "Bloggs", "CompanyName": "Jo's Shop"}, "Other"),
        ({"DisplayName": "Corner Shop"}, "Other"),
        ({"DisplayName": "Jo Bloggs", "GivenName": "Jo", "FamilyName": "Bloggs"}, "Individual"),
        ({"DisplayName": "Jo", "GivenName": "Jo"}, None),
    ],
)
def test_quickbooks_type_rules(customer: dict[str, Any], expected: str | None) -> None:
    assert clean(qbo(**customer)).fields.get("type") == expected


def test_client_type_without_anything_is_other() -> None:
    assert infer_type([None], person_parts=False, first_and_last=False, company_number=False, company_name=False) == "Other"


@pytest.mark.parametrize(
    ("phone", "joined"),
    [
        ({"PhoneNumber": "7946 0000", "PhoneAreaCode": "20", "PhoneCountryCode": "44"}, "+44 20 7946 0000"),
        ({"PhoneNumber": "7946 0000", "PhoneAreaCode": "20", "PhoneCountryCode": "+44"}, "+44 20 7946 0000"),
        ({"PhoneNumber": "7946 0000", "PhoneAreaCode": "20", "PhoneCountryCode": "0044"}, "+44 20 7946 0000"),
        ({"PhoneNumber": "7712696", "PhoneAreaCode": "0121", "PhoneCountryCode": "44"}, "+44 121 7712696"),
        ({"PhoneNumber": "7712696", "PhoneAreaCode": "0121", "PhoneCountryCode": ""}, "0121 7712696"),
        ({"PhoneNumber": " 020 7946 0000 ", "PhoneAreaCode": "", "PhoneCountryCode": ""}, "020 7946 0000"),
        ({"PhoneNumber": "+44 20 7946 0000", "PhoneAreaCode": "20", "PhoneCountryCode": "44"}, "+44 20 7946 0000"),
        ({"PhoneNumber": 79460000, "PhoneAreaCode": 20, "PhoneCountryCode": 44}, "+44 20 79460000"),
        ({"PhoneNumber": "", "PhoneAreaCode": "20", "PhoneCountryCode": "44"}, None),
    ],
)
def test_xero_phones_are_joined(phone: dict[str, Any], joined: str | None) -> None:
    record = clean(xero(Name="A", Phones=[{"PhoneType": "DEFAULT", **phone}, {"PhoneType": "MOBILE", **phone}]))
    assert (record.fields.get("phone"), record.fields.get("mobile")) == (joined, joined)
    if joined:
        values = prepare([record], CTX, POLICY)[0].values
        assert values["phone_e164"] in ("+442079460000", "+441217712696", None)


def test_xero_phones_by_type_first_given_wins() -> None:
    phones = [
        {"PhoneType": "FAX", "PhoneNumber": "1"},
        {"PhoneType": "DDI", "PhoneNumber": "2"},
        {"PhoneType": "DEFAULT", "PhoneNumber": ""},
        {"PhoneType": "DEFAULT", "PhoneNumber": "3"},
        {"PhoneType": "DEFAULT", "PhoneNumber": "4"},
    ]
    record = clean(xero(Name="A", Phones=phones))
    assert (record.fields.get("phone"), "mobile" in record.fields) == ("3", False)


def test_quickbooks_phones_and_masked_tax_numbers() -> None:
    record = clean(qbo(DisplayName="A", PrimaryPhone={"FreeFormNumber": "020 7946 0000"}, Mobile={"FreeFormNumber": "07700 900123"},
                       PrimaryTaxIdentifier="GB123456789"))  # fmt: skip
    assert (record.fields["phone"], record.fields["mobile"], record.fields["taxNumber"]) == ("020 7946 0000", "07700 900123", "GB123456789")
    for masked in ("XXXXXX6789", "***-**-6789", "xxx-xx-6789"):
        assert "taxNumber" not in clean(qbo(DisplayName="A", PrimaryTaxIdentifier=masked)).fields


def test_quickbooks_line5_joins_line4_and_empty_addresses_are_left_out() -> None:
    bill = {"Line1": "1", "Line4": "Unit 4", "Line5": "Back entrance", "Id": "3", "Lat": "INVALID"}
    record = clean(qbo(DisplayName="A", BillAddr=bill, ShipAddr={"Id": "4", "Lat": "1.0"}))
    assert record.fields["addresses"] == [{"type": "billing", "line1": "1", "line4": "Unit 4, Back entrance"}]
    assert set(WRITTEN_ADDRESS_KEYS) <= set(ADDRESS_KEYS)


def test_archived_and_inactive_are_not_active() -> None:
    assert clean(xero(Name="A", ContactStatus="ARCHIVED")).fields["active"] is False
    assert clean(xero(Name="A", ContactStatus="ACTIVE")).fields["active"] is True
    assert clean(xero(Name="A", ContactStatus="GDPRREQUEST")).fields["active"] is True
    assert clean(xero(Name="A")).fields["active"] is True
    assert clean(qbo(DisplayName="A", Active=False)).fields["active"] is False
    assert clean(qbo(DisplayName="A", Active=True)).fields["active"] is True
    assert clean(qbo(DisplayName="A")).fields["active"] is True
    values = prepare([xero(Name="A", ContactStatus="ARCHIVED")], CTX, POLICY)[0].values
    assert values["active"] is False


def test_blank_values_are_left_out() -> None:
    record = clean(xero(Name="A", FirstName="", LastName="  ", EmailAddress="", TaxNumber="", CompanyNumber="", ContactPersons=[],
                        Addresses=[{"AddressType": "STREET", "City": "", "Country": ""}]))  # fmt: skip
    assert record.fields == {"name": "A", "type": "Other", "active": True}


def test_contact_persons_need_a_name() -> None:
    persons = [{"FirstName": "", "LastName": "", "EmailAddress": "info@acme.co"}, {"LastName": "Johnson", "IncludeInEmails": False}]
    record = clean(xero(Name="Acme", ContactPersons=persons))
    assert record.fields["contacts"] == [{"lastName": "Johnson", "role": "contact person", "source": "xero"}]
    assert record.warnings == [FieldWarning("contacts", "ContactPersons[0] has no name; left out (info@acme.co)", "info@acme.co")]


# --- contacts that cannot be mapped fail alone ------------------------------------------------------


@pytest.mark.parametrize(
    ("contact", "field", "says"),
    [
        ("not a contact", "Contact", "must be an object, not str"),
        (None, "Contact", "must be an object, not null"),
        ([{"ContactID": "x"}], "Contact", "must be an object, not a list"),
        ({"Name": "No id"}, "ContactID", "is required"),
        ({"ContactID": "  ", "Name": "Blank id"}, "ContactID", "is required"),
        ({"ContactID": {"id": 1}, "Name": "Odd id"}, "ContactID", "is required"),
        ({"ContactID": "c" * 256, "Name": "Long id"}, "ContactID", "at most 255"),
        ({"ContactID": "c-1", "Name": "A", "Phones": "0207"}, "Phones", "must be a list"),
        ({"ContactID": "c-1", "Name": "A", "Addresses": [None]}, "Addresses[0]", "must be an object"),
        (
            {"ContactID": "c-1", "Name": "A", "Phones": [{"PhoneType": "DEFAULT", "PhoneNumber": ["1"]}]},
            "Phones[0].PhoneNumber",
            "must be text",
        ),
        ({"ContactID": "c-1", "Name": "A", "ContactPersons": [{"FirstName": {"x": 1}}]}, "ContactPersons[0].FirstName", "must be text"),
    ],
)
def test_a_broken_xero_contact_fails_naming_the_field(contact: Any, field: str, says: str) -> None:
    record = xero_record(3, contact, "xero-1")
    assert [(e.field, e.row) for e in record.errors] == [(field, 3)]
    assert says in record.errors[0].message
    assert record.source is contact
    assert prepare([record], CTX, POLICY)[0].failed


@pytest.mark.parametrize(
    ("customer", "field"),
    [
        (42, "Customer"),
        ({"DisplayName": "No id"}, "Id"),
        ({"Id": "7", "DisplayName": "A", "PrimaryEmailAddr": "a@b.co"}, "PrimaryEmailAddr"),
        ({"Id": "7", "DisplayName": "A", "BillAddr": ["1 Main St"]}, "BillAddr"),
        ({"Id": "7", "DisplayName": "A", "Mobile": {"FreeFormNumber": {"n": 1}}}, "Mobile.FreeFormNumber"),
    ],
)
def test_a_broken_quickbooks_customer_fails_naming_the_field(customer: Any, field: str) -> None:
    record = quickbooks_record(5, customer, "qbo-1")
    assert [(e.field, e.row) for e in record.errors] == [(field, 5)]


def test_a_numeric_quickbooks_id_is_text() -> None:
    record = clean(quickbooks_record(0, {"Id": 67, "DisplayName": "A"}, "qbo-1"))
    assert (record.refs, record.lookup_key) == ([Ref("qbo-1", "67")], "67")


def test_a_broken_contact_fails_alone_in_a_batch() -> None:
    contacts: list[Any] = [{"ContactID": "a", "Name": "Good One"}, "broken", {"ContactID": "c", "Name": "Good Two", "EmailAddress": "bad@"}]
    contacts.append({"ContactID": "d", "Name": "Good Three"})
    candidates = prepare([xero_record(i, c, "xero-1") for i, c in enumerate(contacts)], CTX, POLICY)
    assert [c.failed for c in candidates] == [False, True, True, False]
    assert [e.field for e in candidates[2].errors] == ["email"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)
XERO_KEYS = ["ContactID", "Name", "FirstName", "LastName", "EmailAddress", "CompanyNumber", "TaxNumber", "Phones", "Addresses",
             "ContactPersons", "ContactStatus"]  # fmt: skip
QBO_KEYS = ["Id", "DisplayName", "GivenName", "MiddleName", "FamilyName", "Title", "CompanyName", "PrimaryEmailAddr", "PrimaryPhone",
            "Mobile", "BillAddr", "ShipAddr", "Active", "PrimaryTaxIdentifier"]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(st.sampled_from(XERO_KEYS), json_values, max_size=8) | json_values,
    st.dictionaries(st.sampled_from(QBO_KEYS), json_values, max_size=8) | json_values,
)
def test_mapping_never_raises_and_never_gives_up_silently(contact: Any, customer: Any) -> None:
    for record in (xero_record(1, contact, "x"), quickbooks_record(1, customer, "q")):
        assert record.index == 1
        assert all(e.field is not None for e in record.errors), record.errors
        assert "could not be mapped" not in " ".join(e.message for e in record.errors)
        prepare([record], CTX, POLICY)


def test_the_mapping_doc_names_every_mapped_field() -> None:
    for name in ("name", "firstName", "email", "phone", "mobile", "addresses", "companyNumber", "taxNumber", "contacts", "active", "type"):
        assert f"`{name}`" in MAPPING_DOC
    assert "ContactID" in MAPPING_DOC
    assert "PrimaryTaxIdentifier" in MAPPING_DOC
