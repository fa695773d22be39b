"""Validate: the rules a record must meet beyond the shape of each value.

Required fields (always, or only when the record would create a client, or by the record's
kind: an individual or an organisation) are checked here, so that a missing field is reported
with its name and row and never reaches the database.
"""

from __future__ import annotations

from clientdock.clients.fields import BY_JSON
from clientdock.pipeline.organisations import is_organisation, type_words
from clientdock.pipeline.records import Candidate, Policy


def _attr(json_name: str) -> str:
    spec = BY_JSON.get(json_name)
    return spec.attr if spec else json_name


def _missing(candidate: Candidate, fields: tuple[str, ...]) -> bool:
    return any(candidate.values.get(_attr(name)) in (None, "", []) for name in fields)


def check_required(candidate: Candidate, fields: tuple[str, ...], message: str = "is required") -> None:
    for name in fields:
        if candidate.values.get(_attr(name)) in (None, "", []):
            already = any(e.field == name for e in candidate.errors)
            if not already:
                candidate.fail(name, message, code="missing")


def validate(candidate: Candidate, policy: Policy) -> None:
    check_required(candidate, policy.required)
    kind = candidate.client_type
    if kind is not None and is_organisation(kind):
        # The message names the type; it is worded only for a record that misses a field.
        if _missing(candidate, policy.required_of_organisations):
            check_required(candidate, policy.required_of_organisations, f"is required for an organisation (type: {type_words(kind)})")
    else:
        check_required(candidate, policy.required_of_individuals)


def validate_create(candidate: Candidate, policy: Policy) -> None:
    """Every client needs a name; a door may require more to create one."""
    check_required(candidate, policy.required_on_create)
    if not candidate.failed and not candidate.values.get("name"):
        candidate.fail("name", "is required to create a client (give a name, first/last name or company)", code="missing")
