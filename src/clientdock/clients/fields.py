"""The client's field set: JSON (camelCase) name, model attribute and kind, in one table.

Every door maps its input onto these names; the pipeline normalises by ``kind``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldSpec:
    json: str
    attr: str
    kind: str
    max_length: int = 255


FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("type", "type", "type"),
    FieldSpec("name", "name", "name", 500),
    FieldSpec("firstName", "first_name", "name", 500),
    FieldSpec("middleName", "middle_name", "name", 500),
    FieldSpec("lastName", "last_name", "name", 500),
    FieldSpec("title", "title", "name", 100),
    FieldSpec("email", "email", "email", 320),
    FieldSpec("phone", "phone", "phone", 100),
    FieldSpec("mobile", "mobile", "phone", 100),
    FieldSpec("company", "company", "name", 500),
    FieldSpec("companyNumber", "company_number", "text", 64),
    FieldSpec("taxNumber", "tax_number", "text", 64),
    FieldSpec("cocNumber", "coc_number", "text", 64),
    FieldSpec("debtorId", "debtor_id", "text", 64),
    FieldSpec("dateOfBirth", "date_of_birth", "date"),
    FieldSpec("gender", "gender", "text", 40),
    FieldSpec("primaryLanguage", "primary_language", "text", 35),
    FieldSpec("abbreviation", "abbreviation", "text", 100),
    FieldSpec("login", "login", "text", 255),
    FieldSpec("active", "active", "bool"),
    FieldSpec("tags", "tags", "tags"),
    FieldSpec("clientGroupId", "client_group_id", "group"),
    FieldSpec("note", "note", "text", 20000),
    FieldSpec("project", "project", "text", 100),
    FieldSpec("desk", "desk", "text", 100),
    FieldSpec("trackingId", "tracking_id", "text", 255),
    FieldSpec("attributes", "attributes", "attributes"),
    FieldSpec("addresses", "addresses", "addresses"),
    FieldSpec("parentId", "parent_id", "client_ref"),
    FieldSpec("createdAt", "created_at", "instant"),
)

BY_JSON: dict[str, FieldSpec] = {spec.json: spec for spec in FIELDS}
BY_ATTR: dict[str, FieldSpec] = {spec.attr: spec for spec in FIELDS}

# Attributes derived from others: never set directly by input, compared for "unchanged".
DERIVED_ATTRS: tuple[str, ...] = ("email_key", "phone_e164", "mobile_e164")

# What the audit trail and the diff look at: everything a door can write.
TRACKED_ATTRS: tuple[str, ...] = tuple(spec.attr for spec in FIELDS if spec.attr != "created_at")
