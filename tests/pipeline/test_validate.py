"""Validate: required fields, always or only to create, reported once with field and row."""

from __future__ import annotations

from typing import Any

from clientdock.pipeline.records import Candidate, Policy
from clientdock.pipeline.validate import validate, validate_create


def candidate(values: dict[str, Any], index: int = 4) -> Candidate:
    return Candidate(index=index, lookup_key=None, values=values)


def failures(c: Candidate) -> list[tuple[str | None, str, str, int | None]]:
    return [(e.field, e.message, e.code, e.row) for e in c.errors]


def test_required_fields_are_checked_by_their_json_names() -> None:
    checked = candidate({"first_name": "Ada", "email": None})
    validate(checked, Policy(match_on=("email",), required=("firstName", "email")))
    assert failures(checked) == [("email", "is required", "missing", 4)]


def test_empty_text_and_empty_lists_count_as_missing() -> None:
    checked = candidate({"first_name": "", "tags": []})
    validate(checked, Policy(match_on=("email",), required=("firstName", "tags", "email")))
    assert [f[0] for f in failures(checked)] == ["firstName", "tags", "email"]


def test_a_field_that_already_failed_is_not_reported_again() -> None:
    checked = candidate({})
    checked.fail("email", "'x' is not a valid email address")
    validate(checked, Policy(match_on=("email",), required=("email",)))
    assert failures(checked) == [("email", "'x' is not a valid email address", "invalid", 4)]


def test_nothing_is_required_by_default() -> None:
    checked = candidate({})
    validate(checked, Policy(match_on=("id",)))
    assert checked.errors == []


def test_creating_needs_a_name() -> None:
    nameless = candidate({"note": "x"}, index=9)
    validate_create(nameless, Policy(match_on=("id",)))
    assert failures(nameless) == [("name", "is required to create a client (give a name, first/last name or company)", "missing", 9)]
    named = candidate({"name": "Ada"})
    validate_create(named, Policy(match_on=("id",)))
    assert named.errors == []


def test_a_door_may_require_more_to_create() -> None:
    checked = candidate({"name": "Ada"})
    validate_create(checked, Policy(match_on=("email",), required_on_create=("email", "firstName")))
    assert [f[:3] for f in failures(checked)] == [("email", "is required", "missing"), ("firstName", "is required", "missing")]


def test_the_name_check_waits_for_the_door_s_own_requirements() -> None:
    checked = candidate({})
    validate_create(checked, Policy(match_on=("email",), required_on_create=("email",)))
    assert [f[0] for f in failures(checked)] == ["email"]  # one reason at a time: the door's own first
