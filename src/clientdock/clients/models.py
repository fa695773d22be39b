from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Dialect, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from clientdock.db import Base, new_id, utcnow


class JSONList(TypeDecorator[list[Any]]):
    """A JSON list that is never null: ``None`` is stored (and read back) as ``[]``.

    A door's insert names every field of the table; a field it does not give arrives as
    ``None``, which must not become a JSON ``null`` in a column the API answers as a list.
    """

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: list[Any] | None, dialect: Dialect) -> list[Any]:
        return [] if value is None else value

    def process_result_value(self, value: list[Any] | None, dialect: Dialect) -> list[Any]:
        return [] if value is None else value


class Client(Base):
    """A person or company a firm serves. ``email_key`` is the case-folded email, unique per tenant."""

    __tablename__ = "clients"
    __table_args__ = (
        UniqueConstraint("tenant_id", "email_key"),
        UniqueConstraint("tenant_id", "tracking_id"),
        Index("ix_clients_tenant_updated", "tenant_id", "updated_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(500))
    first_name: Mapped[str | None] = mapped_column(String(500))
    middle_name: Mapped[str | None] = mapped_column(String(500))
    last_name: Mapped[str | None] = mapped_column(String(500))
    title: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(320))
    email_key: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(100))
    phone_e164: Mapped[str | None] = mapped_column(String(32))
    mobile: Mapped[str | None] = mapped_column(String(100))
    mobile_e164: Mapped[str | None] = mapped_column(String(32))
    company: Mapped[str | None] = mapped_column(String(500))
    company_number: Mapped[str | None] = mapped_column(String(64))
    tax_number: Mapped[str | None] = mapped_column(String(64))
    coc_number: Mapped[str | None] = mapped_column(String(64))
    debtor_id: Mapped[str | None] = mapped_column(String(64))
    date_of_birth: Mapped[str | None] = mapped_column(String(10))
    gender: Mapped[str | None] = mapped_column(String(40))
    primary_language: Mapped[str | None] = mapped_column(String(35))
    abbreviation: Mapped[str | None] = mapped_column(String(100))
    login: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    tags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    client_group_id: Mapped[str | None] = mapped_column(ForeignKey("client_groups.id"), index=True)
    note: Mapped[str | None] = mapped_column(Text)
    project: Mapped[str | None] = mapped_column(String(100))
    desk: Mapped[str | None] = mapped_column(String(100))
    tracking_id: Mapped[str | None] = mapped_column(String(255))
    attributes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    addresses: Mapped[list[Any]] = mapped_column(JSON, default=list)
    #: The client's people: ``[{firstName, lastName, email, role, source, appointedOn, nationality, occupation}]``.
    contacts: Mapped[list[Any]] = mapped_column(JSONList, default=list, server_default="[]")
    enrichment: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("clients.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ExternalRef(Base):
    """Where a client came from: (source, externalId, language), unique per tenant.

    ``language`` is stored as "" when absent so the unique key works on every database.
    """

    __tablename__ = "client_external_refs"
    __table_args__ = (UniqueConstraint("tenant_id", "source", "external_id", "language"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(100))
    external_id: Mapped[str] = mapped_column(String(255))
    language: Mapped[str] = mapped_column(String(35), default="")


class ClientChange(Base):
    """The audit trail: one row per field an operation changed (before/after as JSON)."""

    __tablename__ = "client_changes"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[str] = mapped_column(String(32), index=True)
    job_id: Mapped[str | None] = mapped_column(String(32), index=True)
    action: Mapped[str] = mapped_column(String(16))
    field: Mapped[str] = mapped_column(String(64))
    before: Mapped[Any | None] = mapped_column(JSON)
    after: Mapped[Any | None] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Who: ``kind:key id`` of an API key, ``user:email`` on the web page, ``cli``.
    actor: Mapped[str | None] = mapped_column(String(255))
