"""S4: ``POST /users/bulk/sourceId`` — the pipeline run synchronously on a small batch.

Items are keyed by (source, sourceId, language); a parent in the same request resolves
whatever the order; a bad item fails alone. ``onExisting`` beside ``users`` says what a match
does (update, fillEmpty, skip). The batch is recorded as a finished import job
so it shows among the tenant's imports, with its audit trail and undo.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from sqlalchemy.orm import Session

from clientdock.clients.fields import BULK_KEYS, REF_MAX_LENGTHS
from clientdock.errors import FieldError, PayloadTooLarge, ValidationFailed
from clientdock.imports import service
from clientdock.jobs.engine import JobEngine
from clientdock.pipeline.existing import ON_EXISTING, OPTION, OnExisting, parse_on_existing
from clientdock.pipeline.records import Policy, RawRecord, Ref, RowOutcome
from clientdock.pipeline.report import outcome_json
from clientdock.pipeline.values import NUL_MESSAGE, json_type
from clientdock.tenants.context import TenantContext

BULK_POLICY = Policy(match_on=("ref",))
DOOR = "bulk"
#: An item's client keys as sent (``fullName``) -> the canonical field (``name``).
CLIENT_KEYS: dict[str, str] = BULK_KEYS
AS_SENT: dict[str, str] = {canonical: sent for sent, canonical in BULK_KEYS.items()}
IDENTITY = ("source", "sourceId", "language", "parent")
REF_KEYS = ("source", "sourceId", "language")
# The longest source, sourceId and language the external refs table holds.
REF_LIMITS = {"source": REF_MAX_LENGTHS["source"], "sourceId": REF_MAX_LENGTHS["externalId"], "language": REF_MAX_LENGTHS["language"]}


def _key_part(item: dict[str, Any], name: str, where: str, errors: list[FieldError], index: int) -> str | None:
    """``source``, ``sourceId`` or ``language`` as stored text; a problem is added to ``errors``."""
    value = item.get(name)
    field = f"{where}{name}"
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    numbers = name == "sourceId"
    if isinstance(value, bool) or not isinstance(value, int | float | str) or (not numbers and not isinstance(value, str)):
        wanted = "a string or number" if numbers else "a string"
        errors.append(FieldError(field, f"must be {wanted}, not {json_type(value)}", index))
        return None
    if isinstance(value, float) and not math.isfinite(value):
        errors.append(FieldError(field, f"must be a finite number, not {value}", index))
        return None
    text = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value).strip()
    if "\x00" in text:
        errors.append(FieldError(field, NUL_MESSAGE, index))
        return None
    if len(text) > REF_LIMITS[name]:
        errors.append(FieldError(field, f"is {len(text)} characters long; at most {REF_LIMITS[name]} allowed", index))
        return None
    return text


def _ref(item: dict[str, Any], where: str, errors: list[FieldError], index: int) -> Ref | None:
    before = len(errors)
    source, source_id = _key_part(item, "source", where, errors, index), _key_part(item, "sourceId", where, errors, index)
    language = _key_part(item, "language", where, errors, index)
    given = {e.field for e in errors[before:]}
    if source is None and f"{where}source" not in given:
        errors.append(FieldError(f"{where}source", "is required (a non-empty string)", index, "missing"))
    if source_id is None and f"{where}sourceId" not in given:
        errors.append(FieldError(f"{where}sourceId", "is required (a string or number)", index, "missing"))
    if source is None or source_id is None or len(errors) > before:
        return None
    return Ref(source, source_id, language or "")


def to_record(index: int, item: Any) -> RawRecord:
    """Map one S4 item onto canonical client fields, reporting every problem by field."""
    if not isinstance(item, dict):
        return RawRecord(index=index, fields={}, errors=[FieldError(None, "each user must be a JSON object", index)], source=None)
    errors: list[FieldError] = []
    ref = _ref(item, "", errors, index)
    parent = None
    if item.get("parent") is not None:
        if isinstance(item["parent"], dict):
            parent = _ref(item["parent"], "parent.", errors, index)
            for key in item["parent"]:
                if key not in REF_KEYS:
                    errors.append(FieldError(f"parent.{key}", "is not a known field (use source, sourceId, language)", index, "unknown"))
        else:
            errors.append(FieldError("parent", "must be an object {source, sourceId, language}", index))
    fields: dict[str, Any] = {CLIENT_KEYS[k]: v for k, v in item.items() if k in CLIENT_KEYS}
    for key in item:
        if key not in CLIENT_KEYS and key not in IDENTITY:
            errors.append(FieldError(key, "is not a known field", index, "unknown"))
    return RawRecord(
        index=index, fields=fields, refs=[ref] if ref else [], parent=parent,
        lookup_key=ref.lookup_key if ref else None, errors=errors, source=item,
    )  # fmt: skip


def entry(outcome: RowOutcome, record: RawRecord) -> dict[str, Any]:
    """An item's outcome in S4's words: the shared result shape, renamed."""
    result = outcome_json(outcome)
    failed = result["action"] == "failed"
    action = result["action"] if result["action"] in ("created", "skipped", "failed") else "updated"
    return {
        "action": action,
        "id": None if failed else result["id"],
        "key": record.refs[0].external_id if record.refs else None,
        "lookupKey": result["lookupKey"],
        "success": not failed,
        "changed": result["action"] in ("created", "updated"),
        "warnings": [{**w, "field": _as_sent(w["field"]) if w["field"] else None} for w in result["warnings"]],
    }


def messages(outcome: RowOutcome) -> list[str]:
    """``users[i].field: …`` for errors and for warnings about one field, ``users[i]: …`` otherwise."""
    where = f"users[{outcome.index}]"
    out = [f"{where}.{_as_sent(e.field)}: {e.message}" if e.field else f"{where}: {e.message}" for e in outcome.errors]
    return out + [f"{where}.{_as_sent(w.field)}: {w.message}" if w.field else f"{where}: {w.message}" for w in outcome.warnings]


def _as_sent(field: str) -> str:
    """The item's own name of a client field (``fullName``, not the model's ``name``)."""
    return AS_SENT.get(field, field)


def users_of(body: Any, limit: int) -> list[Any]:
    """The request's ``users``; 400 naming the field when the body is not ``{"users": [...]}``
    (beside it only ``onExisting``), 413 over ``limit``."""
    if not isinstance(body, dict) or "users" not in body:
        raise ValidationFailed.for_field("users", 'is required: send {"users": [...]}')
    users = body["users"]
    if not isinstance(users, list):
        raise ValidationFailed.for_field("users", "must be a list")
    if len(users) > limit:
        raise PayloadTooLarge(f"{len(users)} users sent; at most {limit} per request", [FieldError("users", "too many items")])
    unknown = sorted(set(body) - {"users", OPTION})
    if unknown:
        raise ValidationFailed.for_field(unknown[0], 'is not a known field; send {"users": [...], "onExisting": "update"}')
    return users


def on_existing_of(body: Any) -> OnExisting:
    """The body's ``onExisting`` beside ``users`` (default ``update``); 400 naming it otherwise."""
    value = body.get(OPTION) if isinstance(body, dict) else None
    if value is not None and not isinstance(value, str):
        raise ValidationFailed.for_field(OPTION, f"must be one of {', '.join(ON_EXISTING)}, not {json_type(value)}")
    return parse_on_existing(value)


def upsert(
    session: Session,
    engine: JobEngine,
    ctx: TenantContext,
    users: list[Any],
    actor: str,
    *,
    options: dict[str, Any] | None = None,
    on_existing: OnExisting = "update",
) -> dict[str, Any]:
    """Run the batch in this transaction, recorded as a finished import; the S4 answer."""
    records = [to_record(i, item) for i, item in enumerate(users)]
    policy = replace(BULK_POLICY, on_existing=on_existing)
    request = service.NewJob(door=DOOR, policy=policy, started_by=actor, options=options)
    job, outcomes = service.run_inline(session, engine, ctx, request, records)
    return {
        "data": [entry(o, r) for o, r in zip(outcomes, records, strict=True)],
        "messages": [m for o in outcomes for m in messages(o)],
        "total": len(records),
        "importId": job.id,
    }
