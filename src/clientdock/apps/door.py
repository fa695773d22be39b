"""The partner-app door (S1.3-S1.5): ``fields_mapping`` -> raw records -> an import job.

Keys are client fields in snake_case (the model's attribute names). An unknown key fails
its row, with a message naming the key (and the field it probably meant): an app that
misspells ``emial`` must not create a client with no email that the next import cannot
match. Other rows of a bulk upload still import. Existing clients are matched by email
(case-insensitive); ``onExisting`` (update, fillEmpty, skip) or, without it, the seed's
``should_override`` (false = skip, true = update) decides what a match does.
"""

from __future__ import annotations

import difflib
from typing import Any

from clientdock.apps.schemas import AppImportIn, ImportParams
from clientdock.clients.fields import APP_KEYS, BY_JSON
from clientdock.errors import FieldError, PayloadTooLarge, ValidationFailed
from clientdock.jobs.models import ImportRow
from clientdock.pipeline.existing import OPTION, OnExisting, parse_on_existing
from clientdock.pipeline.records import FieldWarning, Policy, RawRecord

DOOR = "app"
# snake_case key of fields_mapping (the model's attribute) -> the pipeline's canonical (camelCase) field name
FIELD_KEYS: dict[str, str] = APP_KEYS
# The keys as documented in messages: the name parts first, as a person fills in a form.
_NAME_PARTS = ("first_name", "middle_name", "last_name", "name")
DOCUMENTED_KEYS = (*_NAME_PARTS, *(key for key in FIELD_KEYS if key not in _NAME_PARTS))
NO_EMAIL = "no email: this client cannot be matched to an existing one, so importing it again creates another client"


def on_existing_of(params: ImportParams, on_existing: str | None) -> OnExisting:
    """``onExisting`` when given, else the seed's ``should_override`` (false: skip, true: update).

    Both may be sent when they agree (``should_override`` true with update or fillEmpty, false
    with skip); a contradiction is 400 naming ``onExisting``.
    """
    if on_existing is None or not on_existing.strip():
        return "update" if params.should_override else "skip"
    chosen = parse_on_existing(on_existing)
    if "should_override" in params.model_fields_set and params.should_override != (chosen != "skip"):
        said = str(params.should_override).lower()
        raise ValidationFailed.for_field(OPTION, f"{chosen} contradicts import_params.should_override {said}; send only one of them")
    return chosen


def policy(on_existing: OnExisting) -> Policy:
    return Policy(match_on=("email",), on_existing=on_existing)


def items_of(body: AppImportIn, limit: int) -> list[Any]:
    """The mappings to import, checked against ``upload_type``; 400 naming the field, 413 over ``limit``."""
    mapping = body.fields_mapping
    upload_type = body.import_params.upload_type
    if upload_type == "single":
        if isinstance(mapping, list):
            raise ValidationFailed.for_field("fields_mapping", "is a list: use upload_type 'bulk' for a list, or send one object")
        if not isinstance(mapping, dict):
            raise ValidationFailed.for_field("fields_mapping", "must be an object of client fields (upload_type 'single')")
        if not mapping:
            raise ValidationFailed.for_field("fields_mapping", "is empty: give at least one client field, e.g. first_name and email")
        return [mapping]
    if isinstance(mapping, dict):
        raise ValidationFailed.for_field("fields_mapping", "is an object: upload_type 'bulk' needs a list of objects (or use 'single')")
    if not isinstance(mapping, list):
        raise ValidationFailed.for_field("fields_mapping", "must be a list of objects of client fields (upload_type 'bulk')")
    if not mapping:
        raise ValidationFailed.for_field("fields_mapping", "is an empty list: give 1 to 1,000 clients")
    if len(mapping) > limit:
        raise PayloadTooLarge(
            f"{len(mapping)} clients sent; at most {limit} per request", [FieldError("fields_mapping", f"at most {limit} items")]
        )
    return list(mapping)


def unknown_key_message(key: str) -> str:
    snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in key).lstrip("_")
    if snake in FIELD_KEYS:
        return f"is not a known field; did you mean '{snake}'? (keys are snake_case)"
    close = difflib.get_close_matches(key.lower(), FIELD_KEYS, n=1, cutoff=0.75)
    if close:
        return f"is not a known field; did you mean '{close[0]}'?"
    return "is not a known field; use " + ", ".join(DOCUMENTED_KEYS)


def to_record(index: int, item: Any) -> RawRecord:
    """One mapping -> a raw record; unknown keys and a non-object item fail the row."""
    if not isinstance(item, dict):
        error = FieldError(None, f"fields_mapping[{index}] must be an object of client fields", index)
        return RawRecord(index=index, fields={}, errors=[error], source=None)
    fields: dict[str, Any] = {}
    errors: list[FieldError] = []
    for key, value in item.items():
        name = FIELD_KEYS.get(key)
        if name is None:
            errors.append(FieldError(key, unknown_key_message(key), index, "unknown"))
        else:
            fields[name] = value
    email = item.get("email")
    lookup = email.strip() or None if isinstance(email, str) else None
    warnings = [] if lookup or errors else [FieldWarning(None, NO_EMAIL)]
    return RawRecord(index=index, fields=fields, lookup_key=lookup, errors=errors, warnings=warnings, source=item)


def snake(field: str | None) -> str | None:
    """A pipeline field name (camelCase) as the app sent it (snake_case)."""
    if field is None:
        return None
    spec = BY_JSON.get(field)
    return spec.attr if spec else field


def row_entry(row: ImportRow) -> dict[str, Any]:
    """One item's outcome for the app: its position, what happened, the client, why."""
    # the pipeline names fields in camelCase; an unknown key is named as the app sent it
    errors = [e if e.get("code") == "unknown" else {**e, "field": snake(e.get("field"))} for e in row.errors or []]
    warnings = [{**w, "field": snake(w.get("field"))} for w in row.warnings or []]
    # rows stored before warnings were structured keep them only in their messages
    notes = [FieldWarning.from_dict(w).text for w in warnings] or list(row.messages or [])[len(errors) :]
    messages = [f"{e['field']}: {e['message']}" if e.get("field") else str(e["message"]) for e in errors] + notes
    return {
        "index": row.row_index, "action": row.action, "id": row.client_id, "lookup_key": row.lookup_key,
        "messages": messages, "errors": errors, "warnings": warnings,
    }  # fmt: skip
