"""A door's :class:`Policy` kept on the job row, so the worker applies it as the door meant."""

from __future__ import annotations

from typing import Any, cast

from clientdock.pipeline.existing import OPTION, OnExisting, parse_on_existing
from clientdock.pipeline.records import MatchKey, Policy


def to_options(policy: Policy) -> dict[str, Any]:
    return {
        "matchOn": list(policy.match_on),
        "required": list(policy.required),
        "requiredOnCreate": list(policy.required_on_create),
        "requiredOfIndividuals": list(policy.required_of_individuals),
        "requiredOfOrganisations": list(policy.required_of_organisations),
        "allowCreate": policy.allow_create,
        OPTION: policy.on_existing,
        "addressesByType": policy.addresses_by_type,
    }


def on_existing_of(options: dict[str, Any]) -> OnExisting:
    """The job's ``onExisting``; a job queued before it existed kept ``allowUpdate`` (false = skip)."""
    if OPTION in options:
        return parse_on_existing(options[OPTION])
    return "update" if options.get("allowUpdate", True) else "skip"


def from_options(options: dict[str, Any], *, job_id: str, actor: str | None) -> Policy:
    return Policy(
        match_on=tuple(cast(list[MatchKey], options.get("matchOn", []))),
        required=tuple(options.get("required", [])),
        required_on_create=tuple(options.get("requiredOnCreate", [])),
        required_of_individuals=tuple(options.get("requiredOfIndividuals", [])),
        required_of_organisations=tuple(options.get("requiredOfOrganisations", [])),
        allow_create=bool(options.get("allowCreate", True)),
        on_existing=on_existing_of(options),
        addresses_by_type=bool(options.get("addressesByType", False)),
        job_id=job_id,
        actor=actor,
    )
