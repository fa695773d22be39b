"""The client's JSON shapes at the API edge (camelCase)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class CamelModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class ExternalRefIn(CamelModel):
    source: str = Field(min_length=1, max_length=100)
    external_id: str = Field(min_length=1, max_length=255)
    language: str | None = Field(default=None, max_length=35)


class AttributeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    class_: str | None = Field(default=None, alias="class", max_length=100)
    name: str = Field(min_length=1, max_length=100)
    type: str | None = Field(default="string", max_length=20)
    value: str | int | float | bool | None = None


class ClientFields(CamelModel):
    """Every writable field; omit a field to leave it unchanged on update."""

    type: str | None = Field(
        default=None, description="Individual, PrivateLimitedCompany, … (aliases such as 'Personal' or 'ltd' accepted)"
    )
    name: str | None = None
    first_name: str | None = None
    middle_name: str | None = None
    last_name: str | None = None
    title: str | None = None
    email: str | None = None
    phone: str | None = None
    mobile: str | None = None
    company: str | None = None
    company_number: str | None = None
    tax_number: str | None = None
    coc_number: str | None = None
    debtor_id: str | int | None = None
    date_of_birth: str | None = None
    gender: str | None = None
    primary_language: str | None = None
    abbreviation: str | None = None
    login: str | None = None
    active: bool | None = None
    tags: list[str] | None = None
    client_group_id: str | None = None
    note: str | None = None
    project: str | None = None
    desk: str | None = None
    tracking_id: str | None = None
    attributes: list[AttributeIn] | None = None
    addresses: list[dict[str, str | None]] | None = None
    parent_id: str | None = None


class ClientCreate(ClientFields):
    external_refs: list[ExternalRefIn] | None = None


class ClientUpsert(ClientFields):
    tracking_id: str | None = Field(default=None, description="Required: the match key.")


class ClientGroupIn(CamelModel):
    name: str = Field(min_length=1, max_length=255)


class SettingsIn(BaseModel):
    model_config = ConfigDict(extra="allow")


class ClientOut(CamelModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow")

    id: str
    type: str
    name: str
    email: str | None = None
    created_at: datetime
    updated_at: datetime


def present_fields(body: ClientFields) -> dict[str, Any]:
    """The fields the caller sent (camelCase), nulls included, omitted ones left out."""
    return body.model_dump(exclude_unset=True, by_alias=True, exclude={"external_refs"})
