"""Thin HTTP for partner apps (S1): registration, assignment, and importing clients through an app."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from clientdock.apps import door, service
from clientdock.apps.access import AppBusiness, AppImportAccess, AppReadAccess, AssignmentLister, AssignmentManager, PlatformKey
from clientdock.apps.schemas import (
    AppAnswer,
    AppCredentialsAnswer,
    AppImportIn,
    AppImportJob,
    AppIn,
    AppPage,
    AssignmentAnswer,
    AssignmentIn,
    AssignmentPage,
)
from clientdock.deps import DbSession
from clientdock.errors import Forbidden
from clientdock.imports import respond
from clientdock.imports import service as imports
from clientdock.imports.deps import AppSettings, Engine, OnExistingQuery, Waiters
from clientdock.imports.schemas import job_json
from clientdock.jobs.models import ImportJob

router = APIRouter()
Page = Annotated[int, Query(ge=1, le=1_000_000)]
PageSize = Annotated[int, Query(alias="pageSize", ge=1, le=200)]

AUTH = (
    "**Auth**: platform credential (`clientdock platform-key create`); a tenant or app key is 403, no key 401. "
    "Field names are the seed's (snake_case)."
)


# --- platform: apps ------------------------------------------------------------------------


@router.post(
    "/platform/v1/apps",
    status_code=201,
    tags=["partner apps"],
    summary="Register a partner app (S1.1)",
    description=(
        f"{AUTH} Returns the app with its credentials: `client_id` (public) and `client_secret`, shown only in this answer. "
        "The secret is the app's API key (`X-API-Key` or `Authorization: Bearer`). `app_code_name` is unique (409 "
        "'already exists'); 400 names each bad field. App types: import_clients (may import clients into the businesses "
        "it is assigned to), export_clients, sync_clients, other (registered and assignable; no client endpoints yet)."
    ),
    response_model=AppCredentialsAnswer,
)
def register_app(body: AppIn, session: DbSession, _platform: PlatformKey) -> dict[str, Any]:
    registered = service.register_app(
        session, name=body.name, app_code_name=body.app_code_name, app_type=body.app_type, redirect_uri=body.redirect_uri
    )
    return {"data": service.app_json(registered.app, registered.client_secret)}


@router.get("/platform/v1/apps", tags=["partner apps"], summary="List partner apps (no secrets)", description=AUTH, response_model=AppPage)
def list_apps(session: DbSession, _platform: PlatformKey, page: Page = 1, page_size: PageSize = 50) -> dict[str, Any]:
    apps, total = service.list_apps(session, page, page_size)
    return {"data": [service.app_json(a) for a in apps], "total": total, "page": page, "pageSize": page_size}


@router.get(
    "/platform/v1/apps/{app_code_name}",
    tags=["partner apps"],
    summary="One partner app (no secret)",
    description=AUTH,
    response_model=AppAnswer,
)
def get_app(app_code_name: str, session: DbSession, _platform: PlatformKey) -> dict[str, Any]:
    return {"data": service.app_json(service.get_app(session, app_code_name))}


@router.post(
    "/platform/v1/apps/{app_code_name}/credentials",
    tags=["partner apps"],
    summary="Issue a new client_secret for an app (the old one stops working)",
    description=f"{AUTH} The new secret is shown only in this answer; every earlier secret of the app is revoked.",
    response_model=AppCredentialsAnswer,
)
def rotate_app_credentials(app_code_name: str, session: DbSession, _platform: PlatformKey) -> dict[str, Any]:
    app = service.get_app(session, app_code_name)
    secret = service.rotate_secret(session, app)
    return {"data": service.app_json(app, secret)}


# --- assignments -------------------------------------------------------------------------------

ASSIGN_AUTH = (
    "**Auth**: the platform credential (any business) or a business's tenant key with the `admin` scope (its own "
    "business only: another business is 403). App keys are 403. `assignee_uid` is the business's tenant code (its "
    "internal id is accepted too); an unknown business is 404 for the platform key, 403 for a tenant key."
)


@router.post(
    "/v3/apps/app_assignments",
    status_code=201,
    tags=["partner apps"],
    summary="Assign an app to a business (S1.2)",
    description=f"{ASSIGN_AUTH} Unknown app: 404. Already assigned: 409. 400 names each bad field.",
    response_model=AssignmentAnswer,
    responses={404: {"description": "No such app, or (platform key) no such business; `errors` names the field"}},
)
def create_app_assignment(body: AssignmentIn, session: DbSession, principal: AssignmentManager) -> dict[str, Any]:
    row, app, tenant = service.assign(
        session, principal, app_code_name=body.app_code_name, assignee_uid=body.assignee_uid, assignee_type=body.assignee_type,
        settings=body.settings.model_dump() if body.settings else None,
    )  # fmt: skip
    return {"data": service.assignment_json(row, app, tenant)}


@router.get(
    "/v3/apps/app_assignments",
    tags=["partner apps"],
    summary="List app assignments",
    description=(
        f"{ASSIGN_AUTH} Filter by `assignee_uid` (business) and/or `app_code_name`. A tenant key sees its own business's "
        "assignments; an app key sees only its own app's (the businesses it may act for)."
    ),
    response_model=AssignmentPage,
    responses={404: {"description": "(platform key) `assignee_uid` names no business"}},
)
def list_app_assignments(
    session: DbSession,
    principal: AssignmentLister,
    assignee_uid: str | None = None,
    app_code_name: str | None = None,
    page: Page = 1,
    page_size: PageSize = 50,
) -> dict[str, Any]:
    rows, total = service.list_assignments(
        session, principal, assignee_uid=assignee_uid, app_code_name=app_code_name, page=page, page_size=page_size
    )
    return {"data": [service.assignment_json(*r) for r in rows], "total": total, "page": page, "pageSize": page_size}


@router.get(
    "/v3/apps/app_assignments/{uid}",
    tags=["partner apps"],
    summary="One app assignment",
    description=f"{ASSIGN_AUTH} An unknown uid is 404, and so is, for a tenant key, another business's assignment.",
    response_model=AssignmentAnswer,
)
def get_app_assignment(uid: str, session: DbSession, principal: AssignmentManager) -> dict[str, Any]:
    return {"data": service.assignment_json(*service.get_assignment(session, principal, uid))}


@router.delete(
    "/v3/apps/app_assignments/{uid}",
    status_code=204,
    tags=["partner apps"],
    summary="Remove an app assignment (S1.2)",
    description=(
        f"{ASSIGN_AUTH} 204 No Content; an unknown (or already deleted) uid is 404, and so is, for a tenant key, another "
        "business's assignment. From then on the app gets 403 for "
        "that business, on imports and on reading its earlier imports."
    ),
    response_class=Response,
)
def delete_app_assignment(uid: str, session: DbSession, principal: AssignmentManager) -> Response:
    service.unassign(session, principal, uid)
    return Response(status_code=204)


# --- the business's clients, through an app ------------------------------------------------------

IMPORT_DESCRIPTION = """
Import clients into a business through a partner app (S1.3-S1.5). The import runs as a job through the
shared pipeline, with the hybrid answer: the request waits up to 10 s (`Prefer: wait=N`,
`Prefer: respond-async`); done in time → **201** with the finished job and `data` (one entry per
item: `index`, `action` created | updated | unchanged | skipped | failed, `id` of the client,
`lookup_key` (the email), `messages`, `errors`); else **202** with `Location` (this app's status
endpoint) and `Retry-After`.

**Who may call**: the app itself (its `client_secret` as API key) with the business it acts for in
`X-Business-Uid` (tenant code or id); or the business's own tenant key (scope `imports:write`; the
business is the key's own). The app must exist (else 404), have `app_type` `import_clients` and be
assigned to that business (else 403). A platform key is 403.

**Body**: `import_params.upload_type` `single` → `fields_mapping` is one object; `bulk` → a list of
1-1,000 objects (more → 413). `fields_mapping` keys are client fields in snake_case (first_name,
middle_name, last_name, name, title, email, phone, mobile, company, company_number, tax_number,
coc_number, debtor_id, date_of_birth, gender, primary_language, abbreviation, login, type, active,
tags, client_group_id, note, project, desk, tracking_id, attributes, addresses). **An unknown key
fails its item** (action `failed`, a message naming the key and the field it probably meant); the
other items still import. Existing clients are matched by email (case-insensitive):
`should_override` false → `skipped` (left as it is), true → `updated` (keys not sent stay
unchanged). The query parameter `onExisting` says the same in the words of every other door and
wins when given: `update`, `fillEmpty` (only the client's empty fields are written) or `skip`;
sent together with a `should_override` that says otherwise (false with update/fillEmpty, true
with skip) it is 400 naming `onExisting`, as is a value not among the three. An item without
email is created (with a warning: it cannot be matched later).
`send_notifications_when_done` true → when the job ends the business gets an in-app notification
and its webhooks fire (`import.completed` / `import.failed`). 400 names the field for a bad body.
"""


def _job_path(code: str, job_id: str) -> str:
    return f"/business/clients/v1/apps/{code}/imports/{job_id}"


def _render(access: AppBusiness) -> Callable[[Session, ImportJob], dict[str, Any]]:
    def render(session: Session, job: ImportJob) -> dict[str, Any]:
        body = job_json(session, job, access.tenant.code)
        body["links"]["app"] = _job_path(access.app.app_code_name, job.id)
        rows, _total = imports.job_rows(session, job, None, 1, max(job.total, 1))
        body["app_code_name"] = access.app.app_code_name
        body["business_uid"] = access.tenant.code
        body["import_params"] = {k: job.options.get(k) for k in ("upload_type", "should_override", "send_notifications_when_done")}
        body["data"] = [door.row_entry(r) for r in rows]
        return body

    return render


@router.post(
    "/business/clients/v1/apps/{app_code_name}/import",
    tags=["partner apps"],
    summary="Import clients through a partner app (S1.3)",
    description=IMPORT_DESCRIPTION,
    status_code=201,
    response_model=AppImportJob,
    responses={
        201: {"description": "Finished: the job with one entry per item in `data`"},
        202: {"model": AppImportJob, "description": "Still running: Location points at the status endpoint"},
        413: {"description": "More items than the bulk limit (1,000 by default)"},
    },
)
def import_via_app(
    request: Request,
    body: AppImportIn,
    access: AppImportAccess,
    session: DbSession,
    engine: Engine,
    settings: AppSettings,
    cap: Waiters,
    on_existing: OnExistingQuery = None,
) -> JSONResponse:
    params = body.import_params
    chosen = door.on_existing_of(params, on_existing)
    items = door.items_of(body, settings.bulk_batch_limit)
    records = [door.to_record(index, item) for index, item in enumerate(items)]
    code = access.app.app_code_name
    new_job = imports.NewJob(
        door=door.DOOR,
        policy=door.policy(chosen),
        records=records,
        options={
            "app": code, "notify": params.send_notifications_when_done, "upload_type": params.upload_type,
            "should_override": chosen != "skip", "send_notifications_when_done": params.send_notifications_when_done,
        },
        started_by=access.actor,
    )  # fmt: skip
    # The job row is committed before the hybrid wait (``respond.answer``). The assignment is
    # checked again in the same transaction (and held FOR SHARE on PostgreSQL), so a concurrent
    # delete either comes first (403) or waits until the job is queued.
    if service.assignment_of(session, access.app, access.tenant, lock=True) is None:
        raise Forbidden(f"app '{code}' is not assigned to business '{access.tenant.code}'")
    job_id = imports.start(session, engine, settings, access.ctx, new_job).id
    response = respond.answer(request, session, settings, cap, access.tenant, job_id, _render(access))
    response.headers["Location"] = _job_path(code, job_id)
    return response


@router.get(
    "/business/clients/v1/apps/{app_code_name}/imports/{job_id}",
    tags=["partner apps"],
    summary="Status and per-item results of an import made through this app",
    description=(
        "The same body as the import's 201. Callable by the app (with `X-Business-Uid`) or the business's key (scope "
        "`clients:read`) while the app is assigned to the business (else 403). Only imports made through this app are "
        "visible (others: 404)."
    ),
    response_model=AppImportJob,
    response_model_exclude_unset=True,
)
def get_app_import(job_id: str, session: DbSession, access: AppReadAccess) -> dict[str, Any]:
    job = service.app_import(session, access.app, access.tenant, job_id)
    return _render(access)(session, job)
