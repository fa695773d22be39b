"""Thin HTTP for reading clients, their history, client groups, the tenant's settings and the export.

The doors that write clients (create, PATCH, upsert, delete, bulk, files) are in ``imports``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query
from fastapi.responses import StreamingResponse

from clientdock.clients import repository, settings
from clientdock.clients.export import export_lines
from clientdock.clients.repository import ClientFilter
from clientdock.clients.schemas import Client, ClientGroup, ClientGroupIn, ClientGroupList, ClientHistory, ClientPage, TenantSettings
from clientdock.deps import Db, DbSession, ReadSession
from clientdock.errors import ValidationFailed
from clientdock.tenants.auth import ClientsRead, ClientsWrite, TenantAdmin
from clientdock.tenants.context import effective_settings
from clientdock.tenants.models import Tenant

router = APIRouter(prefix="/tenants/{tenant}", tags=["clients"])


@router.get("/clients", summary="List clients (paged, searchable)", response_model=ClientPage)
def list_clients(
    session: ReadSession,
    scope: ClientsRead,
    search: str | None = None,
    tag: str | None = None,
    client_group_id: Annotated[str | None, Query(alias="clientGroupId")] = None,
    type: str | None = None,
    due: Annotated[
        Literal["accounts-overdue", "confirmation-due-30d"] | None,
        Query(description="From the Companies House key dates: accounts overdue, or a confirmation statement due within 30 days"),
    ] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(alias="pageSize", ge=1, le=500)] = 50,
) -> dict[str, Any]:
    ctx = scope.ctx
    flt = repository.ClientFilter(search=search, tag=tag, client_group_id=client_group_id, type=type, due=due)
    rows, total = repository.list_clients(session, ctx, flt, page, page_size)
    refs = repository.refs_of(session, ctx, [r.id for r in rows])
    return {"items": [repository.client_json(r, refs[r.id]) for r in rows], "total": total, "page": page, "pageSize": page_size}


@router.get(
    "/clients/export.csv",
    summary="Export clients as CSV (the import's columns; re-uploading it updates them by ID)",
    description=(
        "The clients matching the list filters, ordered by name: ID, firstName, lastName, email, project, desk, active, "
        "type, created, then the other flat fields. Cells starting with = + - @, tab, CR or LF get a leading apostrophe "
        "(formula neutralisation), which the import removes again: re-uploading the file unchanged reports every row "
        "`unchanged`, and an edited cell updates that client (matched by ID). UTF-8 with a byte order mark."
    ),
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "A CSV file (UTF-8 with BOM)"}},
)
def export_clients(
    db: Db,
    scope: ClientsRead,
    search: str | None = None,
    tag: str | None = None,
    client_group_id: Annotated[str | None, Query(alias="clientGroupId")] = None,
    type: str | None = None,
) -> StreamingResponse:
    flt = ClientFilter(search=search, tag=tag, client_group_id=client_group_id, type=type)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    headers = {"Content-Disposition": f'attachment; filename="clients-{scope.tenant.code}-{stamp}.csv"'}
    return StreamingResponse(export_lines(db.session, scope.ctx, flt), media_type="text/csv; charset=utf-8", headers=headers)


@router.get("/clients/{client_id}", summary="Get a client", response_model=Client)
def get_client(client_id: str, session: ReadSession, scope: ClientsRead) -> dict[str, Any]:
    return repository.client_body(session, scope.ctx, client_id)


@router.get("/clients/{client_id}/history", summary="Every recorded change of a client", response_model=ClientHistory)
def get_client_history(client_id: str, session: ReadSession, scope: ClientsRead) -> dict[str, Any]:
    changes = repository.history(session, scope.ctx, client_id)
    items = [
        {
            "at": c.at.isoformat(),
            "action": c.action,
            "field": c.field,
            "before": c.before,
            "after": c.after,
            "jobId": c.job_id,
            "actor": c.actor,
        }
        for c in changes
    ]
    return {"items": items, "total": len(items)}


@router.get("/client-groups", tags=["client groups"], summary="List client groups", response_model=ClientGroupList)
def list_client_groups(session: DbSession, scope: ClientsRead) -> dict[str, Any]:
    groups = repository.list_groups(session, scope.ctx)
    items = [{"id": g.id, "name": g.name, "isDefault": g.is_default, "createdAt": g.created_at.isoformat()} for g in groups]
    return {"items": items, "total": len(items)}


@router.post("/client-groups", status_code=201, tags=["client groups"], summary="Create a client group", response_model=ClientGroup)
def create_client_group(body: ClientGroupIn, session: DbSession, scope: ClientsWrite) -> dict[str, Any]:
    group = repository.create_group(session, scope.ctx, body.name)
    return {"id": group.id, "name": group.name, "isDefault": group.is_default, "createdAt": group.created_at.isoformat()}


@router.get("/settings", tags=["tenants"], summary="The tenant's defaults and limits", response_model=TenantSettings)
def get_settings(scope: ClientsRead) -> dict[str, Any]:
    return {"tenant": scope.tenant.code, "name": scope.tenant.name, **effective_settings(scope.tenant)}


@router.patch("/settings", tags=["tenants"], summary="Change the tenant's defaults and limits", response_model=TenantSettings)
@router.put("/settings", include_in_schema=False, response_model=TenantSettings)
def update_settings(session: DbSession, scope: TenantAdmin, body: dict[str, Any] = Body(...)) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ValidationFailed.for_field("body", "must be a JSON object")
    changes = {k: v for k, v in body.items() if k not in ("tenant", "name")}
    effective = settings.update_settings(session, session.get_one(Tenant, scope.tenant_id), changes)
    return {"tenant": scope.tenant.code, "name": scope.tenant.name, **effective}
