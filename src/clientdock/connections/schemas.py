"""The JSON of connections (tokens never appear in it)."""

from __future__ import annotations

from pydantic import Field

from clientdock.clients.schemas import CamelModel
from clientdock.connections.models import Connection as ConnectionRow


class Connection(CamelModel):
    code: str = Field(description="The connection's code, e.g. xero-3f9a1c: the connectionCode of an import")
    provider: str = Field(description="xero or quickbooks")
    organisation_id: str = Field(description="Xero's tenantId, QuickBooks' realmId")
    organisation_name: str
    status: str = Field(description="active; expired (the platform refused the grant: connect again); disconnected")
    connected_by: str | None
    created_at: str
    last_import_id: str | None = Field(description="The connection's last import (any outcome)")
    last_imported_at: str | None = Field(description="When the last successful import started reading (what since=last asks after)")


class ConnectionList(CamelModel):
    items: list[Connection]
    total: int


class Connected(CamelModel):
    """The callback's answer when no browser page asked for the connection."""

    tenant: str
    connections: list[Connection]


def connection_json(row: ConnectionRow) -> dict[str, object]:
    return {
        "code": row.code,
        "provider": row.provider,
        "organisationId": row.organisation_id,
        "organisationName": row.organisation_name,
        "status": row.status,
        "connectedBy": row.connected_by,
        "createdAt": row.created_at.isoformat(),
        "lastImportId": row.last_import_id,
        "lastImportedAt": row.last_imported_at.isoformat() if row.last_imported_at else None,
    }


class PlatformContact(CamelModel):
    external_id: str = Field(description="The platform's id: what externalIds of an import takes")
    name: str | None
    email: str | None
    active: bool


class PlatformContactList(CamelModel):
    items: list[PlatformContact]
    total: int
