"""Individual or organisation: the type a name's legal form says, the type a record's names
imply, a full name split into first and last name, the issue's type aliases, and the file
policy's required fields by kind."""

from __future__ import annotations

from typing import Any

import pytest

from clientdock.clients.types import canonical_type
from clientdock.imports.files import CSV_POLICY
from clientdock.jobs.policy import from_options, to_options
from clientdock.pipeline.names import split_full_name
from clientdock.pipeline.organisations import ORGANISATION_TYPES, classify, infer_type, is_organisation, type_from_name, type_words
from clientdock.pipeline.records import RawRecord
from clientdock.pipeline.run import prepare
from clientdock.tenants.context import DEFAULT_SETTINGS, TenantContext

CTX = TenantContext("tenant-1", "acme", dict(DEFAULT_SETTINGS), "unassigned-group")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Acme Trading Ltd", "PrivateLimitedCompany"), ("ACME TRADING LIMITED", "PrivateLimitedCompany"),
        ("acme ltd.", "PrivateLimitedCompany"), ("Acme (Ltd)", "PrivateLimitedCompany"),
        ("Acme Holdings PLC", "PublicLimitedCompany"), ("Acme p.l.c.", "PublicLimitedCompany"),
        ("Smith & Jones LLP", "LimitedLiabilityPartnership"), ("Smith & Co Ltd", "PrivateLimitedCompany"),
        ("The Hart Family Trust", "Trust"), ("Riverside Food Bank Charity", "Charity"), ("Riverside Food Bank CIO", "Charity"),
        ("Hart & Hart Partnership", "Partnership"), ("Bloggs & Co", "Partnership"), ("Bloggs & Co.", "Partnership"),
        ("Bloggs and Co", "Partnership"), ("Bloggs & Partners", "Partnership"),
        ("Ltdbury Farm", None), ("Trustworthy Plumbing", None), ("The Corner Shop", None), ("Ada Lovelace", None),
        ("Costco", None), ("", None), (None, None), (42, None),
    ],
)  # fmt: skip
def test_a_legal_form_at_the_end_of_a_name_gives_the_type(name: Any, expected: str | None) -> None:
    assert type_from_name(name) == expected


def test_infer_type_reads_names_then_the_company_number_then_the_name_parts() -> None:
    facts = {"person_parts": True, "first_and_last": True, "company_number": False, "company_name": False}
    assert infer_type(["Jo Bloggs", "Bloggs Trust"], **facts) == "Trust"
    assert infer_type(["Jo Bloggs"], **{**facts, "company_number": True}) == "PrivateLimitedCompany"
    assert infer_type(["Jo Bloggs"], **facts) == "Individual"
    assert infer_type(["Jo"], **{**facts, "first_and_last": False}) is None
    assert infer_type(["Jo's Shop"], **{**facts, "company_name": True}) == "Other"
    assert infer_type([None], person_parts=False, first_and_last=False, company_number=False, company_name=False) == "Other"


def test_a_type_in_words() -> None:
    assert [type_words(kind) for kind in ("PrivateLimitedCompany", "Trust", "SoleTrader")] == [
        "private limited company",
        "trust",
        "sole trader",
    ]


def test_every_type_but_individual_is_an_organisation_sole_traders_included() -> None:
    assert [is_organisation(kind) for kind in ("Individual", None, "Alien")] == [False, False, False]
    assert [is_organisation(kind) for kind in ("SoleTrader", "Other", "Trust")] == [True, True, True]
    assert "Individual" not in ORGANISATION_TYPES


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("Ada Lovelace", (None, "Ada", "Lovelace")), ("Lovelace, Ada", (None, "Ada", "Lovelace")),
        ("  Lovelace ,  Ada  King ", (None, "Ada King", "Lovelace")), ("Jan van der Berg", (None, "Jan", "van der Berg")),
        ("Juan García López", (None, "Juan", "García López")), ("Dr Ada Lovelace", ("Dr", "Ada", "Lovelace")),
        ("Lovelace, Mrs. Ada", ("Mrs.", "Ada", "Lovelace")), ("Cher", (None, "Cher", None)), ("Dr", (None, "Dr", None)),
        ("M Smith", (None, "M", "Smith")), ("Smith, ", (None, "Smith,", None)), ("", (None, None, None)),
    ],
)  # fmt: skip
def test_a_full_name_splits_into_title_first_and_last_name(text: str, parts: tuple[str | None, ...]) -> None:
    split = split_full_name(text)
    assert (split.title, split.first, split.last) == parts


def classified(**fields: str) -> RawRecord:
    record = RawRecord(index=1, fields=dict(fields))
    classify(record)
    return record


@pytest.mark.parametrize(
    ("fields", "inferred"),
    [
        ({"name": "Acme Trading Ltd"}, "PrivateLimitedCompany"),
        ({"company": "Acme Holdings PLC"}, "PublicLimitedCompany"),
        ({"company": "The Corner Shop"}, "Other"),
        ({"name": "The Corner Shop"}, "Other"),
        ({"name": "Corner Shop", "companyNumber": "01234567"}, "PrivateLimitedCompany"),
        ({"name": "Acme", "company": "Acme"}, "Other"),
        ({"name": "Acme Ltd", "company": "Acme Group"}, "PrivateLimitedCompany"),
        ({"firstName": "Jo", "lastName": "Bloggs"}, None),
        ({"firstName": "Jo", "lastName": "Bloggs", "company": "Acme Ltd"}, None),
        ({"name": "Jo Bloggs", "company": "Acme Ltd"}, None),
        ({"email": "x@example.org"}, None),
    ],
)
def test_classify_infers_an_organisation_s_type_and_leaves_people_to_the_tenant_default(
    fields: dict[str, str], inferred: str | None
) -> None:
    assert classified(**fields).inferred_type == inferred


def test_classify_splits_an_individual_s_full_name_and_leaves_organisations_alone() -> None:
    assert classified(type="Individual", name="Lovelace, Ada").fields == {"type": "Individual", "firstName": "Ada", "lastName": "Lovelace"}
    assert classified(type="person", name="Mr Jo Bloggs", title="Sir").fields == {
        "type": "person", "title": "Sir", "firstName": "Jo", "lastName": "Bloggs",
    }  # fmt: skip
    assert classified(name="Jo Bloggs", company="Acme Ltd").fields == {"company": "Acme Ltd", "firstName": "Jo", "lastName": "Bloggs"}
    assert classified(type="Sole trader", name="Jo Bloggs").fields == {"type": "Sole trader", "name": "Jo Bloggs"}
    assert classified(type="Individual", name="Jo Bloggs", firstName="Joanne").fields == {
        "type": "Individual",
        "name": "Jo Bloggs",
        "firstName": "Joanne",
    }
    assert classified(type="Trust", name="Ada Lovelace").fields == {"type": "Trust", "name": "Ada Lovelace"}


@pytest.mark.parametrize(
    ("alias", "expected"),
    [
        ("Private limited company", "PrivateLimitedCompany"), ("Limited company", "PrivateLimitedCompany"),
        ("Trust", "Trust"), ("Charity", "Charity"), ("Partnership", "Partnership"), ("Sole trader", "SoleTrader"),
        ("LLP", "LimitedLiabilityPartnership"), ("Public limited company", "PublicLimitedCompany"),
        ("Registered charity", "Charity"), ("Limited partnership", "Partnership"), ("Sole proprietorship", "SoleTrader"),
        ("Personal", "Individual"), ("Ltd", "PrivateLimitedCompany"), ("Corporation", None),
    ],
)  # fmt: skip
def test_type_aliases_firms_write(alias: str, expected: str | None) -> None:
    assert canonical_type(alias) == expected


def file_row(**fields: str) -> list[tuple[str | None, str]]:
    record = RawRecord(index=3, fields=dict(fields))
    classify(record)
    (candidate,) = prepare([record], CTX, CSV_POLICY)
    return [(error.field, error.message) for error in candidate.errors]


def test_the_file_policy_needs_a_first_name_of_an_individual_and_a_name_of_an_organisation() -> None:
    assert file_row(firstName="Ada", email="ada@example.org") == []
    assert file_row(name="Acme Trading Ltd", email="acme@example.org") == []
    assert file_row(company="Corner Shop", email="shop@example.org") == []
    assert file_row(type="Individual", name="Ada Lovelace", email="ada@example.org") == []
    assert file_row(type="Sole trader", firstName="Jo", lastName="Bloggs", email="jo@example.org") == []
    assert file_row(lastName="Lovelace", email="ada@example.org") == [("firstName", "is required")]
    assert file_row(type="Trust", email="trust@example.org") == [("name", "is required for an organisation (type: trust)")]
    assert file_row(name="Acme Ltd") == [("email", "is required")]
    assert file_row(email="nobody@example.org") == [("firstName", "is required")]


def test_an_unknown_type_leaves_the_kind_to_the_name() -> None:
    failed = {field for field, _message in file_row(type="Corporation", name="Acme", email="a@example.org")}
    assert not failed & {"firstName", "name"}  # only the type itself is reported (a failure, or a warning)


def test_the_kind_rules_travel_with_the_job() -> None:
    again = from_options(to_options(CSV_POLICY), job_id="j", actor=None)
    assert (again.required, again.required_of_individuals, again.required_of_organisations) == (("email",), ("firstName",), ("name",))
