"""Normalise: raw values -> stored values, field by field, collecting every error.

Trim, case-fold emails, E.164 phones, ISO dates, enums with aliases. A secondary value that
cannot be read (a date of birth, a client type, a gender; a phone that will not parse) is a
warning on the row, not a failure (:data:`SECONDARY_KINDS`). Only the fields present
in the raw record are produced (omit = unchanged); ``name`` is derived from the name parts
(or the company) when the input gives no name, and on an update follows the merged record
(:func:`follow_derived_name`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from clientdock.clients.fields import BY_JSON, FieldSpec
from clientdock.pipeline import values as v
from clientdock.pipeline.addresses import clean_item
from clientdock.pipeline.records import Candidate, NameSource, RawRecord
from clientdock.tenants.context import TenantContext

_NOT_NULL = ("type", "name", "active")
ATTRIBUTE_TYPES = ("string", "text", "number", "integer", "boolean", "date", "datetime")
CONTACT_KEYS = ("firstName", "lastName", "email", "role", "source", "appointedOn", "nationality", "occupation")
CONTACT_MAX_LENGTH = 255
_LISTS = ("tags", "attributes", "addresses", "contacts")
#: Kinds of secondary values: one that cannot be read is left out with a warning (the row
#: imports; the field keeps its value, or the default on a create) instead of failing the row.
#: A phone that will not parse is kept as given, without E.164, also with a warning.
SECONDARY_KINDS = ("date", "type", "gender")
LEFT_AS_IT_WAS = "the field was left as it was"
KEPT_AS_GIVEN = "kept as given, without the international (E.164) form"


def normalise(record: RawRecord, ctx: TenantContext) -> Candidate:
    candidate = Candidate(
        index=record.index,
        lookup_key=record.lookup_key,
        values={},
        refs=list(record.refs),
        parent=record.parent,
        errors=list(record.errors),
        warnings=list(record.warnings),
        inferred_type=record.inferred_type,
    )
    for name, raw in record.fields.items():
        if name == "id":
            candidate.match_id = _optional_id(raw, candidate)
            continue
        spec = BY_JSON.get(name)
        if spec is None:
            candidate.fail(name, "is not a client field")
            continue
        try:
            _normalise_field(spec, raw, candidate, ctx)
        except v.InvalidValue as exc:
            if spec.kind in SECONDARY_KINDS and raw is not None:
                candidate.warn(name, f"{exc}; {LEFT_AS_IT_WAS}", given_value(raw))
            else:
                candidate.fail(name, str(exc), code=exc.code)
    _derive_name(record, candidate)
    return candidate


def given_value(raw: Any) -> Any:
    """A value as the input gave it, for a warning: text and numbers as they are (long text
    cut), anything else described."""
    if isinstance(raw, str):
        return v.clip(raw, 200)
    if isinstance(raw, bool | int | float):
        return raw
    return v.json_type(raw)


def _optional_id(raw: Any, candidate: Candidate) -> str | None:
    try:
        return v.strip_text(raw) or None
    except v.InvalidValue as exc:
        candidate.fail("id", str(exc))
        return None


def _normalise_field(spec: FieldSpec, raw: Any, candidate: Candidate, ctx: TenantContext) -> None:
    out = candidate.values
    kind = spec.kind
    if kind == "email":
        stored, warning = v.email(raw) if raw is not None else (None, None)
        out["email"], out["email_key"] = stored, v.email_key(stored)
        if warning:
            candidate.warn(spec.json, warning, stored)
        return
    if kind == "phone":
        given, e164 = v.phone(raw, region=ctx.setting("defaultRegion")) if raw is not None else (None, None)
        out[spec.attr], out[f"{spec.attr}_e164"] = given, e164
        if given and e164 is None:
            candidate.warn(spec.json, f"'{v.clip(given)}' is not a phone number that can be read; {KEPT_AS_GIVEN}", given)
        return
    if raw is None:
        if kind in _LISTS:
            raise v.InvalidValue("must be a list, not null")
        if spec.attr in _NOT_NULL:
            raise v.InvalidValue("may not be null")
        # No group is the "Unassigned" group, on an update as on a create.
        out[spec.attr] = ctx.unassigned_group_id if kind == "group" else None
        return
    converted = _CONVERTERS[kind](spec, raw, ctx)
    if converted is None and spec.attr in _NOT_NULL:
        return
    out[spec.attr] = converted


def _text(spec: FieldSpec, raw: Any, _ctx: TenantContext) -> Any:
    return v.text(raw, max_length=spec.max_length)


def _name(spec: FieldSpec, raw: Any, _ctx: TenantContext) -> Any:
    return v.text(raw, max_length=spec.max_length, name_like=True)


def _group(spec: FieldSpec, raw: Any, ctx: TenantContext) -> Any:
    chosen = v.text(raw, max_length=64)
    return chosen or (ctx.unassigned_group_id if spec.kind == "group" else None)


def _date(_spec: FieldSpec, raw: Any, ctx: TenantContext) -> Any:
    return v.iso_date(raw, order=ctx.setting("dateOrder"))


def _attributes(_spec: FieldSpec, raw: Any, _ctx: TenantContext) -> Any:
    if not isinstance(raw, list):
        raise v.InvalidValue("must be a list of {class, name, type, value}")
    out: list[dict[str, Any]] = []
    for position, item in enumerate(raw):
        if not isinstance(item, dict):
            raise v.InvalidValue(f"item {position} must be an object")
        unknown = set(item) - {"class", "name", "type", "value"}
        if unknown:
            raise v.InvalidValue(f"item {position} has unknown keys {sorted(unknown)}")
        name = v.text(item.get("name") or "", max_length=100)
        if not name:
            raise v.InvalidValue(f"item {position} needs a name")
        kind = (v.text(item.get("type") or "string", max_length=20) or "string").lower()
        if kind not in ATTRIBUTE_TYPES:
            raise v.InvalidValue(f"item {position} type '{kind}' is not one of {', '.join(ATTRIBUTE_TYPES)}")
        value = _typed_attribute(kind, item.get("value"), position)
        cls = v.text(item.get("class") or "", max_length=100)
        out.append({"class": cls, "name": name, "type": kind, "value": value})
    return out


def _typed_attribute(kind: str, raw: Any, position: int) -> Any:
    if raw is None:
        return None
    if kind in ("number", "integer"):
        try:
            return v.number(raw, integer=kind == "integer")
        except v.InvalidValue as exc:
            why = "" if str(exc) == "is not a number" else f" (it {exc})"
            raise v.InvalidValue(f"item {position} value '{v.clip(str(raw))}' is not a valid {kind}{why}") from exc
    try:
        if kind == "boolean":
            return v.boolean(raw)
        if kind == "date":
            return v.iso_date(raw)
        if kind == "datetime":
            stamp = v.instant(raw)
            return stamp.isoformat() if stamp else None
        return v.text(raw, max_length=4000)
    except (ValueError, TypeError) as exc:
        raise v.InvalidValue(f"item {position} value '{raw}' is not a valid {kind}") from exc


def _addresses(_spec: FieldSpec, raw: Any, _ctx: TenantContext) -> Any:
    """Each item through :func:`clean_item` (our keys and the Propeller API's)."""
    if not isinstance(raw, list):
        raise v.InvalidValue("must be a list of address objects")
    return [clean_item(item, position) for position, item in enumerate(raw)]


def _contacts(_spec: FieldSpec, raw: Any, _ctx: TenantContext) -> Any:
    """People of the client: each item an object of :data:`CONTACT_KEYS` (text, trimmed, empty
    ones dropped) with at least a first or last name."""
    if not isinstance(raw, list):
        raise v.InvalidValue(f"must be a list of {{{', '.join(CONTACT_KEYS)}}} objects")
    out: list[dict[str, str]] = []
    for position, item in enumerate(raw):
        if not isinstance(item, dict):
            raise v.InvalidValue(f"item {position} must be an object")
        unknown = set(item) - set(CONTACT_KEYS)
        if unknown:
            raise v.InvalidValue(f"item {position} has unknown keys {sorted(unknown)}; use {', '.join(CONTACT_KEYS)}")
        person: dict[str, str] = {}
        for key in CONTACT_KEYS:
            if item.get(key) is None:
                continue
            try:
                value = v.text(item[key], max_length=CONTACT_MAX_LENGTH, name_like=key in ("firstName", "lastName"))
            except v.InvalidValue as exc:
                raise v.InvalidValue(f"item {position} {key} {exc}") from exc
            if value is not None:
                person[key] = value
        if not (person.get("firstName") or person.get("lastName")):
            raise v.InvalidValue(f"item {position} needs a firstName or lastName")
        out.append(person)
    return out


def _instant(_spec: FieldSpec, raw: Any, _ctx: TenantContext) -> Any:
    return v.instant(raw)


def _enrichment(_spec: FieldSpec, raw: Any, _ctx: TenantContext) -> Any:
    if not isinstance(raw, dict):
        raise v.InvalidValue("must be an object")
    return raw


_CONVERTERS: dict[str, Callable[[FieldSpec, Any, TenantContext], Any]] = {
    "text": _text,
    "name": _name,
    "type": lambda _s, raw, _c: v.client_type(raw),
    "gender": lambda _s, raw, _c: v.gender(raw),
    "bool": lambda _s, raw, _c: v.boolean(raw),
    "tags": lambda _s, raw, _c: v.tags(raw),
    "group": _group,
    "client_ref": _group,
    "date": _date,
    "attributes": _attributes,
    "addresses": _addresses,
    "contacts": _contacts,
    "instant": _instant,
    "enrichment": _enrichment,
}


NAME_PARTS = ("first_name", "middle_name", "last_name")


def derived_name(values: Mapping[str, Any], source: NameSource) -> str | None:
    """The display name built from the name parts (kept whole, the result cut to what the name
    column holds) or taken from the company."""
    if source == "company":
        return values.get("company") or None
    present = [str(values[a]) for a in NAME_PARTS if values.get(a)]
    return " ".join(present)[: BY_JSON["name"].max_length].rstrip() if present else None


def _derive_name(record: RawRecord, candidate: Candidate) -> None:
    if "name" in record.fields or candidate.values.get("name"):
        return
    if name := derived_name(candidate.values, "parts"):
        candidate.values["name"], candidate.name_from = name, "parts"
    elif candidate.values.get("company") and not any(a in record.fields for a in ("firstName", "lastName")):
        candidate.values["name"], candidate.name_from = candidate.values["company"], "company"


def follow_derived_name(candidate: Candidate, current: Mapping[str, Any]) -> None:
    """On an update, a derived name is built from the merged record (the stored parts the import
    left alone and the ones it gives), and only when the stored name still follows its own
    parts (or is empty): a name someone set by hand is kept."""
    if candidate.name_from is None:
        return
    if current.get("name") in (None, "", derived_name(current, candidate.name_from)):
        candidate.values["name"] = derived_name({**current, **candidate.values}, candidate.name_from)
    else:
        del candidate.values["name"]
