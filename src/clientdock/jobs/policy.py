"""A door's :class:`Policy` kept on the job row, so the worker applies it as the door meant."""

from __future__ import annotations

from typing import Any, cast

from clientdock.pipeline.records import MatchKey, Policy


def to_options(policy: Policy) -> dict[str, Any]:
    return {
        "matchOn": list(policy.match_on),
        "required": list(policy.required),
        "requiredOnCreate": list(policy.required_on_create),
        "allowCreate": policy.allow_create,
        "allowUpdate": policy.allow_update,
        "addressesByType": policy.addresses_by_type,
    }


def from_options(options: dict[str, Any], *, job_id: str, actor: str | None) -> Policy:
    return Policy(
        match_on=tuple(cast(list[MatchKey], options.get("matchOn", []))),
        required=tuple(options.get("required", [])),
        required_on_create=tuple(options.get("requiredOnCreate", [])),
        allow_create=bool(options.get("allowCreate", True)),
        allow_update=bool(options.get("allowUpdate", True)),
        addresses_by_type=bool(options.get("addressesByType", False)),
        job_id=job_id,
        actor=actor,
    )
