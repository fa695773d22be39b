"""What each client page needs from the database, loaded through the clients service."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from clientdock.clients import repository as clients
from clientdock.clients.models import Client, ExternalRef
from clientdock.clients.types import CLIENT_TYPES
from clientdock.errors import NotFound
from clientdock.tenants.context import TenantContext
from clientdock.tenants.models import ClientGroup
from clientdock.web import views

HISTORY_LIMIT = 100


@dataclass(frozen=True)
class ClientList:
    rows: list[Client]
    pager: views.Pager
    groups: list[ClientGroup]

    def context(self, filters: views.Filters) -> dict[str, Any]:
        return {
            "rows": self.rows, "pager": self.pager, "filters": filters, "groups": self.groups,
            "group_names": {g.id: g.name for g in self.groups}, "types": CLIENT_TYPES,
        }  # fmt: skip


def client_list(session: Session, ctx: TenantContext, filters: views.Filters, page: int) -> ClientList:
    rows, total = clients.list_clients(session, ctx, filters.as_filter(), page, views.PAGE_SIZE)
    return ClientList(rows, views.Pager(page, total), clients.list_groups(session, ctx))


@dataclass(frozen=True)
class ClientDetail:
    client: Client
    sections: list[views.Section]
    refs: list[ExternalRef]
    history: list[views.HistoryEntry]
    history_truncated: bool

    def context(self) -> dict[str, Any]:
        client = self.client
        return {
            "client": client, "sections": self.sections, "refs": self.refs, "history": self.history,
            "history_truncated": self.history_truncated, "addresses": views.address_lines(client),
            "attributes": views.attribute_items(client), "enrichment": views.enrichment_view(client.enrichment),
        }  # fmt: skip


def client_detail(session: Session, ctx: TenantContext, client_id: str) -> ClientDetail:
    client = clients.get_client(session, ctx, client_id)
    groups = {g.id: g.name for g in clients.list_groups(session, ctx)}
    parent = _parent(session, ctx, client)
    history = views.history_entries(clients.history(session, ctx, client.id))
    sections = views.client_sections(client, groups.get(client.client_group_id or "", ""), parent)
    refs = clients.refs_of(session, ctx, [client.id])[client.id]
    return ClientDetail(client, sections, refs, history[:HISTORY_LIMIT], len(history) > HISTORY_LIMIT)


def _parent(session: Session, ctx: TenantContext, client: Client) -> Client | None:
    if not client.parent_id:
        return None
    try:
        return clients.get_client(session, ctx, client.parent_id)
    except NotFound:
        return None


def client_form(session: Session, ctx: TenantContext, client_id: str) -> views.ClientForm:
    """The edit form, filled with the client's values as the API answers them."""
    client = clients.get_client(session, ctx, client_id)
    stored = clients.client_json(client, [])
    return views.ClientForm(client, {name: views.form_value(stored.get(name)) for name in views.EDITABLE}, {})
