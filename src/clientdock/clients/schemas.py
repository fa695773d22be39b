"""The client's JSON shapes at the API edge (camelCase), built from the one field table.

``ClientFields`` (what a caller may write) and ``Client`` (what we answer) are generated
from :data:`clientdock.clients.fields.FIELDS`, so a new field is declared once.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, create_model
from pydantic.alias_generators import to_camel

from clientdock.clients.fields import API_FIELDS, FIELDS, REF_MAX_LENGTHS, FieldSpec


class CamelModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


def _no_nul(value: str | None) -> str | None:
    """PostgreSQL cannot store a NUL character in text: refused here, naming the field, as the
    import pipeline refuses it in the values it reads."""
    if value is not None and "\x00" in value:
        raise ValueError("contains a NUL character (\\u0000), which cannot be stored")
    return value


RefText = Annotated[str, AfterValidator(_no_nul)]


class ExternalRefIn(CamelModel):
    source: RefText = Field(min_length=1, max_length=REF_MAX_LENGTHS["source"])
    external_id: RefText = Field(min_length=1, max_length=REF_MAX_LENGTHS["externalId"])
    language: Annotated[str | None, AfterValidator(_no_nul)] = Field(default=None, max_length=REF_MAX_LENGTHS["language"])


class AttributeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    class_: str | None = Field(default=None, alias="class", max_length=100)
    name: str = Field(min_length=1, max_length=100)
    type: str | None = Field(default="string", max_length=20)
    value: str | int | float | bool | None = None


def _contact_text(description: str | None = None) -> Any:
    return Field(default=None, max_length=255, description=description)


class ContactIn(CamelModel):
    """One of the client's people; at least a first or last name. Values are trimmed."""

    model_config = ConfigDict(str_strip_whitespace=True)

    first_name: str | None = _contact_text()
    last_name: str | None = _contact_text()
    email: str | None = _contact_text()
    role: str | None = _contact_text("e.g. contact person, director, secretary")
    source: str | None = _contact_text("Where the person came from, e.g. xero, quickbooks, companies-house")
    appointed_on: str | None = _contact_text("YYYY-MM-DD, for officers")
    nationality: str | None = _contact_text()
    occupation: str | None = _contact_text()


#: What a caller may send for a field of each kind (text unless listed).
_SENT: dict[str, Any] = {
    "bool": bool,
    "tags": list[str],
    "attributes": list[AttributeIn],
    "addresses": list[dict[str, str | int | float | bool | None]],
    "contacts": list[ContactIn],
}
#: Fields whose sent type differs from their kind's: a debtor id may be a number (seed 004).
_SENT_BY_FIELD: dict[str, Any] = {"debtorId": str | int}
_DESCRIPTIONS: dict[str, str] = {
    "type": "Individual, PrivateLimitedCompany, … (aliases such as 'Personal' or 'ltd' accepted)",
    "contacts": "The client's people (contact persons, officers); sending the list replaces it",
}


def _sent_field(spec: FieldSpec) -> tuple[Any, Any]:
    kind = _SENT_BY_FIELD.get(spec.json) or _SENT.get(spec.kind, str)
    return kind | None, Field(default=None, description=_DESCRIPTIONS.get(spec.json))


_ClientFieldsBase: type[CamelModel] = create_model(  # type: ignore[call-overload]
    "_ClientFieldsBase", __base__=CamelModel, **{spec.attr: _sent_field(spec) for spec in API_FIELDS}
)


class ClientFields(_ClientFieldsBase):
    """Every writable field; omit a field to leave it unchanged on update."""


class ClientCreate(ClientFields):
    external_refs: list[ExternalRefIn] | None = None


class ClientUpsert(ClientFields):
    tracking_id: str | None = Field(default=None, description="Required: the match key.")


class ClientGroupIn(CamelModel):
    name: str = Field(min_length=1, max_length=255)


def present_fields(body: ClientFields) -> dict[str, Any]:
    """The fields the caller sent (camelCase), nulls included, omitted ones left out."""
    sent: dict[str, Any] = body.model_dump(exclude_unset=True, by_alias=True, exclude={"external_refs"})
    return sent


# --- answers ---------------------------------------------------------------------------------


class ContactOut(CamelModel):
    """One of the client's people as stored (null where not known)."""

    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    role: str | None = None
    source: str | None = None
    appointed_on: str | None = None
    nationality: str | None = None
    occupation: str | None = None


#: What we answer for a field of each kind (text or null unless listed).
_STORED: dict[str, Any] = {
    "bool": bool,
    "tags": list[str],
    "attributes": list[dict[str, Any]],
    "addresses": list[dict[str, Any]],
    "contacts": list[ContactOut],
    "instant": str,
    "enrichment": dict[str, Any],
}
#: Never null in an answer.
_REQUIRED = ("type", "name")


def _stored_field(spec: FieldSpec) -> tuple[Any, Any]:
    kind = _STORED.get(spec.kind)
    if kind is None:
        kind = str if spec.json in _REQUIRED else str | None
    description = "ISO 8601 instant" if spec.kind == "instant" else _DESCRIPTIONS.get(spec.json)
    return kind, Field(description=description)


class ExternalRefOut(CamelModel):
    source: str
    external_id: str
    language: str | None


_ClientBase: type[CamelModel] = create_model(  # type: ignore[call-overload]
    "_ClientBase", __base__=CamelModel, **{spec.attr: _stored_field(spec) for spec in FIELDS}
)


class Client(_ClientBase):
    """A client as every read answers it."""

    id: str
    phone_e164: str | None = Field(alias="phoneE164", description="The phone in E.164 when it could be parsed")
    mobile_e164: str | None = Field(alias="mobileE164", description="The mobile in E.164 when it could be parsed")
    external_refs: list[ExternalRefOut] = Field(description="Where the client came from: (source, externalId, language)")
    enrichment: dict[str, Any] = Field(description="What a register said of the client (source companiesHouse), as fetched")
    companies_house: dict[str, Any] | None = Field(
        description="The Companies House register data: registered name, status, office address, SIC codes, officers, "
        "when it was fetched (null: never enriched)"
    )
    key_dates: dict[str, Any] | None = Field(
        description="Accounts next due / next made up to / overdue, confirmation statement next due / overdue, date of creation"
    )
    updated_at: str = Field(description="ISO 8601 instant")


class FieldWarningOut(BaseModel):
    """A secondary value a write went without (a date of birth, type or gender that could not
    be read; a phone kept as given, without E.164), or another note: the field (its API name;
    null for the whole record), the value as given, and why."""

    field: str | None
    value: Any = None
    message: str


class UpsertedClient(Client):
    """The S2 upsert's answer: the client and whether it was created or updated."""

    result: str = Field(description="created, updated, or skipped (onExisting=skip: the client as it is)")
    warnings: list[FieldWarningOut] = Field(default_factory=list, description="Values left out or kept as given; [] when none")


class ClientPage(CamelModel):
    items: list[Client]
    total: int
    page: int
    page_size: int


class ClientChangeOut(CamelModel):
    at: str = Field(description="ISO 8601 instant")
    action: str = Field(description="created, updated, deleted or undone")
    field: str = Field(description="The field (camelCase), or * for the whole client")
    before: Any = None
    after: Any = None
    job_id: str | None = Field(description="The import that made the change, if any")
    actor: str | None = Field(description="Who: tenant:<key id>, user:<email>, cli, app:<code>")


class ClientHistory(CamelModel):
    items: list[ClientChangeOut]
    total: int


class ClientGroup(CamelModel):
    id: str
    name: str
    is_default: bool
    created_at: str = Field(description="ISO 8601 instant")


class ClientGroupList(CamelModel):
    items: list[ClientGroup]
    total: int


class TenantSettings(BaseModel):
    """The tenant's defaults for new clients and its limits (every setting, defaults filled in)."""

    model_config = ConfigDict(extra="allow")

    tenant: str
    name: str
    defaultType: str  # noqa: N815 - the wire names are the settings' own
    defaultActive: bool  # noqa: N815
    defaultProject: str | None  # noqa: N815
    defaultDesk: str | None  # noqa: N815
    importRowLimit: int  # noqa: N815
    dateOrder: str  # noqa: N815
    defaultRegion: str  # noqa: N815
