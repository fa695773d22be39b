"""The client's field set: JSON (camelCase) name, model attribute and kind, in one table.

Every door maps its input onto these names; the pipeline normalises by ``kind``.
"""

from __future__ import annotations

from dataclasses import dataclass

#: "Same name as ``json``" for a door's name of a field.
SAME = "="


@dataclass(frozen=True)
class FieldSpec:
    """One client field: its JSON (camelCase) name, model attribute and kind, and whether and
    under which name each door takes it: ``file`` (a CSV/spreadsheet column, the header
    table's field and the export's header), ``bulk`` (a key of an S4 item), ``app`` (a key of a
    partner app's ``fields_mapping``, which is the model attribute). ``None``: that door does
    not take the field."""

    json: str
    attr: str
    kind: str
    max_length: int = 255
    file: str | None = SAME
    bulk: str | None = SAME
    app: bool = True

    @property
    def file_name(self) -> str | None:
        return self.json if self.file == SAME else self.file

    @property
    def bulk_name(self) -> str | None:
        return self.json if self.bulk == SAME else self.bulk


#: In the header table's order (near matches of a header are tried in this order).
FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("type", "type", "type"),
    FieldSpec("name", "name", "name", 500, bulk="fullName"),
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
    FieldSpec("gender", "gender", "gender", 40),
    FieldSpec("primaryLanguage", "primary_language", "text", 35),
    FieldSpec("abbreviation", "abbreviation", "text", 100),
    FieldSpec("login", "login", "text", 255),
    FieldSpec("active", "active", "bool"),
    FieldSpec("tags", "tags", "tags"),
    FieldSpec("clientGroupId", "client_group_id", "group", bulk=None),
    FieldSpec("trackingId", "tracking_id", "text", 255, bulk=None),
    FieldSpec("note", "note", "text", 20000),
    FieldSpec("project", "project", "text", 100, bulk=None),
    FieldSpec("desk", "desk", "text", 100, bulk=None),
    FieldSpec("createdAt", "created_at", "instant", file="created", bulk=None, app=False),
    FieldSpec("attributes", "attributes", "attributes", file=None),
    # The file door takes addresses part by part, one column per (type, part): ADDRESS_FILE_FIELDS.
    FieldSpec("addresses", "addresses", "addresses", file=None),
    # The people of a client (contact persons of an accounting platform, Companies House officers):
    # written through the JSON API and the connection door only.
    FieldSpec("contacts", "contacts", "contacts", file=None, bulk=None, app=False),
    FieldSpec("parentId", "parent_id", "client_ref", file=None, bulk=None, app=False),
    # What a register said of the client (Companies House): written by the enrichment door only.
    FieldSpec("enrichment", "enrichment", "enrichment", file=None, bulk=None, app=False),
)

#: Writable through the JSON API (create, PATCH, upsert): every field but the creation time and
#: what a register said (the enrichment door writes that).
API_FIELDS: tuple[FieldSpec, ...] = tuple(spec for spec in FIELDS if spec.kind not in ("instant", "enrichment"))
#: The parts of an address object a file column can fill, in the order of a postal address
#: (the pipeline's ``ADDRESS_KEYS`` without ``type``).
ADDRESS_PARTS: tuple[str, ...] = (
    "line1", "line2", "line3", "line4", "street", "houseNumber", "city", "region", "postalCode", "country", "countryCode",
)  # fmt: skip
#: The address types a file's columns name: a header's prefix picks one ("Billing City"); a
#: header without one ("City", "Postcode") is the ``postal`` address.
ADDRESS_FILE_TYPES: tuple[str, ...] = ("postal", "street", "billing", "shipping", "registered", "business", "home")
#: The file door's address fields, ``addresses.<type>.<part>`` -> (type, part).
ADDRESS_FILE_FIELDS: dict[str, tuple[str, str]] = {
    f"addresses.{kind}.{part}": (kind, part) for kind in ADDRESS_FILE_TYPES for part in ADDRESS_PARTS
}
#: The file door's fields (header table, mapping, export): ``id`` (our client id) first, the
#: address parts last.
FILE_FIELDS: tuple[str, ...] = ("id", *(spec.file_name for spec in FIELDS if spec.file_name), *ADDRESS_FILE_FIELDS)
#: An S4 item's client keys (as sent) -> the canonical field.
BULK_KEYS: dict[str, str] = {spec.bulk_name: spec.json for spec in FIELDS if spec.bulk_name}
#: A partner app's keys (snake_case model attributes) -> the canonical field.
APP_KEYS: dict[str, str] = {spec.attr: spec.json for spec in FIELDS if spec.app}
#: The source/externalId/language of an external reference, at most this long (the refs table).
REF_MAX_LENGTHS: dict[str, int] = {"source": 100, "externalId": 255, "language": 35}

BY_JSON: dict[str, FieldSpec] = {spec.json: spec for spec in FIELDS}
BY_ATTR: dict[str, FieldSpec] = {spec.attr: spec for spec in FIELDS}

# Attributes derived from others: never set directly by input, compared for "unchanged".
DERIVED_ATTRS: tuple[str, ...] = ("email_key", "phone_e164", "mobile_e164")

# What the audit trail and the diff look at: everything a door can write.
TRACKED_ATTRS: tuple[str, ...] = tuple(spec.attr for spec in FIELDS if spec.attr != "created_at")
