"""Thin HTTP for clients, client groups and the S2 upsert."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from clientdock.clients import service
from clientdock.clients.schemas import ClientCreate, ClientFields, ClientGroupIn, ClientUpsert, present_fields
from clientdock.deps import DbSession
from clientdock.pipeline.records import Ref
from clientdock.tenants.auth import ClientsRead, ClientsWrite, TenantScope
from clientdock.tenants.context import TenantContext, load_context

router = APIRouter(prefix="/tenants/{tenant}", tags=["clients"])


def _ctx(session: Session, scope: TenantScope) -> TenantContext:
    return load_context(session, scope.tenant)


def _client_body(session: Session, ctx: TenantContext, client_id: str) -> dict[str, Any]:
    client = service.get_client(session, ctx, client_id)
    return service.client_json(client, service.refs_of(session, ctx, [client.id])[client.id])


@router.get("/clients", summary="List clients (paged, searchable)")
def list_clients(
    session: DbSession,
    scope: ClientsRead,
    search: str | None = None,
    tag: str | None = None,
    client_group_id: Annotated[str | None, Query(alias="clientGroupId")] = None,
    type: str | None = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(alias="pageSize", ge=1, le=500)] = 50,
) -> dict[str, Any]:
    ctx = _ctx(session, scope)
    flt = service.ClientFilter(search=search, tag=tag, client_group_id=client_group_id, type=type)
    rows, total = service.list_clients(session, ctx, flt, page, page_size)
    refs = service.refs_of(session, ctx, [r.id for r in rows])
    return {"items": [service.client_json(r, refs[r.id]) for r in rows], "total": total, "page": page, "pageSize": page_size}


@router.post("/clients", status_code=201, summary="Create a client")
def create_client(body: ClientCreate, session: DbSession, scope: ClientsWrite) -> dict[str, Any]:
    ctx = _ctx(session, scope)
    refs = [Ref(r.source.strip(), r.external_id.strip(), (r.language or "").strip()) for r in body.external_refs or []]
    outcome = service.create(session, ctx, present_fields(body), refs, actor=scope.actor)
    assert outcome.client_id is not None
    return _client_body(session, ctx, outcome.client_id)


@router.post(
    "/clients/upsert",
    summary="Upsert a client by trackingId (S2)",
    description=(
        "Creates the client when no client of the tenant has this trackingId (201, result=created), "
        "else updates it (200, result=updated). Omitted fields are unchanged; tags [] clears; "
        "clientGroupId defaults to the Unassigned group on create. Idempotent."
    ),
    responses={201: {"description": "created"}, 200: {"description": "updated"}},
)
def upsert_client(body: ClientUpsert, session: DbSession, scope: ClientsWrite) -> JSONResponse:
    ctx = _ctx(session, scope)
    outcome = service.upsert(session, ctx, present_fields(body), actor=scope.actor)
    assert outcome.client_id is not None
    created = outcome.action == "created"
    payload = {**_client_body(session, ctx, outcome.client_id), "result": "created" if created else "updated"}
    return JSONResponse(payload, status_code=201 if created else 200)


@router.get("/clients/{client_id}", summary="Get a client")
def get_client(client_id: str, session: DbSession, scope: ClientsRead) -> dict[str, Any]:
    return _client_body(session, _ctx(session, scope), client_id)


@router.patch("/clients/{client_id}", summary="Change a client (omitted fields unchanged)")
def patch_client(client_id: str, body: ClientFields, session: DbSession, scope: ClientsWrite) -> dict[str, Any]:
    ctx = _ctx(session, scope)
    service.patch(session, ctx, client_id, present_fields(body), actor=scope.actor)
    return _client_body(session, ctx, client_id)


@router.delete("/clients/{client_id}", status_code=204, summary="Delete a client")
def delete_client(client_id: str, session: DbSession, scope: ClientsWrite) -> Response:
    service.delete_client(session, _ctx(session, scope), client_id, actor=scope.actor)
    return Response(status_code=204)


@router.get("/clients/{client_id}/history", summary="Every recorded change of a client")
def client_history(client_id: str, session: DbSession, scope: ClientsRead) -> dict[str, Any]:
    changes = service.history(session, _ctx(session, scope), client_id)
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


@router.get("/client-groups", tags=["client groups"], summary="List client groups")
def list_groups(session: DbSession, scope: ClientsRead) -> dict[str, Any]:
    groups = service.list_groups(session, _ctx(session, scope))
    items = [{"id": g.id, "name": g.name, "isDefault": g.is_default, "createdAt": g.created_at.isoformat()} for g in groups]
    return {"items": items, "total": len(items)}


@router.post("/client-groups", status_code=201, tags=["client groups"], summary="Create a client group")
def create_group(body: ClientGroupIn, session: DbSession, scope: ClientsWrite) -> dict[str, Any]:
    group = service.create_group(session, _ctx(session, scope), body.name)
    return {"id": group.id, "name": group.name, "isDefault": group.is_default, "createdAt": group.created_at.isoformat()}
