"""Partner apps: registration, credentials, assignment to businesses, and who may act for whom.

A business is a tenant; it is named by its code (``assignee_uid`` and ``X-Business-Uid``
also accept its internal id). An app acts for a business only while an assignment of the
app to that business exists.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import false, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from clientdock.apps.door import DOOR
from clientdock.apps.models import App, AppAssignment
from clientdock.db import utcnow
from clientdock.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from clientdock.jobs.models import ImportJob
from clientdock.tenants.auth import Principal
from clientdock.tenants.models import ApiKey, Tenant
from clientdock.tenants.scoping import owned, readable, readable_columns
from clientdock.tenants.service import issue_key

IMPORT_CLIENTS = "import_clients"
APP_TYPES: dict[str, str] = {
    IMPORT_CLIENTS: "pushes clients into the businesses it is assigned to (POST /business/clients/v1/apps/{app_code_name}/import)",
    "export_clients": "reads clients out of a business (reserved: no endpoint yet)",
    "sync_clients": "keeps clients in sync both ways (reserved: no endpoint yet)",
    "other": "any other integration; registered and assignable, no client endpoints",
}
ASSIGNEE_TYPES = ("business",)
ASSIGNMENT_MODES = ("internal",)
CODE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
CODE_RULE = "use 1-64 lower-case letters, digits, '-' or '_', starting with a letter or digit"
MAX_NAME = 255
MAX_URI = 2048


@dataclass(frozen=True)
class RegisteredApp:
    app: App
    client_secret: str


# --- apps -------------------------------------------------------------------------------


def _text(value: str | None) -> str:
    return (value or "").strip()


def validate_app(name: str | None, app_code_name: str | None, app_type: str | None, redirect_uri: str | None) -> list[FieldError]:
    errors: list[FieldError] = []
    name_ = _text(name)
    if not name_:
        errors.append(FieldError("name", "is required (a non-empty string)", code="missing"))
    elif len(name_) > MAX_NAME:
        errors.append(FieldError("name", f"is {len(name_)} characters long; at most {MAX_NAME} allowed"))
    code = app_code_name or ""
    if not code.strip():
        errors.append(FieldError("app_code_name", "is required (a non-empty string)", code="missing"))
    elif not CODE_NAME.match(code):
        errors.append(FieldError("app_code_name", f"'{code[:80]}' is not allowed: {CODE_RULE}"))
    kind = _text(app_type)
    if not kind:
        errors.append(FieldError("app_type", "is required (a non-empty string)", code="missing"))
    elif kind not in APP_TYPES:
        errors.append(FieldError("app_type", f"'{kind[:80]}' is not an app type; use one of {', '.join(APP_TYPES)}"))
    uri = _text(redirect_uri)
    if not uri:
        errors.append(FieldError("redirect_uri", "is required (an absolute http or https URL)", code="missing"))
    else:
        problem = redirect_uri_problem(uri)
        if problem:
            errors.append(FieldError("redirect_uri", problem))
    return errors


def redirect_uri_problem(uri: str) -> str | None:
    if len(uri) > MAX_URI:
        return f"is {len(uri)} characters long; at most {MAX_URI} allowed"
    if any(ch.isspace() or ord(ch) < 32 for ch in uri):
        return "must not contain spaces or control characters"
    try:
        parts = urlsplit(uri)
        _ = parts.port  # raises ValueError for a port that is not a number
    except ValueError:
        return f"'{uri[:80]}' is not a valid URL"
    if parts.scheme.lower() not in ("http", "https"):
        return f"'{uri[:80]}' must be an absolute http or https URL"
    if not parts.hostname:
        return f"'{uri[:80]}' has no host"
    if parts.fragment or uri.endswith("#"):
        return "must not contain a fragment (#…)"
    return None


def register_app(session: Session, *, name: str, app_code_name: str, app_type: str, redirect_uri: str) -> RegisteredApp:
    """Create the app and its credential (an ``app`` API key); the secret is returned only here."""
    errors = validate_app(name, app_code_name, app_type, redirect_uri)
    if errors:
        raise ValidationFailed("; ".join(f"{e.field}: {e.message}" for e in errors), errors)
    if find_app(session, app_code_name) is not None:
        raise _exists(app_code_name)
    app = App(
        name=name.strip(), app_code_name=app_code_name, app_type=app_type.strip(), redirect_uri=redirect_uri.strip(),
        client_id=f"cda_{secrets.token_hex(12)}",
    )  # fmt: skip
    try:
        with session.begin_nested():
            session.add(app)
            session.flush()
    except IntegrityError as exc:
        raise _exists(app_code_name) from exc
    issued = issue_key(session, kind="app", app_id=app.id)
    return RegisteredApp(app, issued.key)


def _exists(code: str) -> Conflict:
    return Conflict(f"an app with app_code_name '{code}' already exists", [FieldError("app_code_name", "already exists", code="duplicate")])


def rotate_secret(session: Session, app: App) -> str:
    """Issue a new credential for the app and revoke every earlier one."""
    now = utcnow()
    for key in session.scalars(select(ApiKey).where(ApiKey.kind == "app", ApiKey.app_id == app.id, ApiKey.revoked_at.is_(None))):
        key.revoked_at = now
    return issue_key(session, kind="app", app_id=app.id).key


def find_app(session: Session, app_code_name: str) -> App | None:
    return session.scalar(select(App).where(App.app_code_name == app_code_name))


def get_app(session: Session, app_code_name: str) -> App:
    app = find_app(session, app_code_name)
    if app is None:
        raise NotFound(f"no app '{app_code_name}'")
    return app


def list_apps(session: Session, page: int, page_size: int) -> tuple[list[App], int]:
    total = session.scalar(select(func.count()).select_from(App)) or 0
    rows = session.scalars(select(App).order_by(App.created_at, App.id).offset((page - 1) * page_size).limit(page_size))
    return list(rows), total


def app_json(app: App, client_secret: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "uid": app.id,
        "name": app.name,
        "app_code_name": app.app_code_name,
        "app_type": app.app_type,
        "redirect_uri": app.redirect_uri,
        "client_id": app.client_id,
        "created_at": app.created_at.isoformat(),
    }
    if client_secret is not None:
        out["client_secret"] = client_secret
    return out


# --- businesses and authority ------------------------------------------------------------


def find_business(session: Session, uid: str) -> Tenant | None:
    """The business named by its code, or else by its internal id."""
    uid = uid.strip()
    if not uid:
        return None
    tenant = session.scalar(select(Tenant).where(Tenant.code == uid))
    return tenant if tenant is not None else session.get(Tenant, uid)


def check_manager(principal: Principal) -> None:
    """Who may manage assignments at all: the platform key, or a tenant key with ``admin``."""
    if principal.kind == "platform":
        return
    if principal.kind == "tenant":
        if not principal.has("admin"):
            raise Forbidden("managing app assignments needs a key with the 'admin' scope")
        return
    raise Forbidden(f"a {principal.kind} key cannot manage app assignments; use the platform key or the business's admin key")


def business_for_manager(session: Session, principal: Principal, assignee_uid: str) -> Tenant:
    """The business a manager names: any for the platform, only its own for a tenant key."""
    check_manager(principal)
    tenant = find_business(session, assignee_uid)
    if principal.kind == "platform":
        if tenant is None:
            raise NotFound(f"no business '{assignee_uid[:80]}'", [FieldError("assignee_uid", "no such business", code="not_found")])
        return tenant
    if tenant is None or tenant.id != principal.tenant_id:
        raise Forbidden(f"this API key has no access to business '{assignee_uid[:80]}'")
    return tenant


# --- assignments ------------------------------------------------------------------------


def validate_assignment(app_code_name: str, assignee_uid: str, assignee_type: str, settings: dict[str, Any] | None) -> list[FieldError]:
    errors: list[FieldError] = []
    if not app_code_name.strip():
        errors.append(FieldError("app_code_name", "is required (a non-empty string)", code="missing"))
    if not assignee_uid.strip():
        errors.append(FieldError("assignee_uid", "is required: the business's code (or id)", code="missing"))
    if assignee_type not in ASSIGNEE_TYPES:
        errors.append(FieldError("assignee_type", f"'{assignee_type[:80]}' is not supported; use {', '.join(ASSIGNEE_TYPES)}"))
    for key, value in (settings or {}).items():
        if key != "assignment_mode":
            errors.append(FieldError(f"settings.{key}", "is not a setting; use assignment_mode"))
        elif value not in ASSIGNMENT_MODES:
            errors.append(FieldError("settings.assignment_mode", f"must be one of {', '.join(ASSIGNMENT_MODES)}"))
    return errors


def assign(
    session: Session, principal: Principal, *, app_code_name: str, assignee_uid: str, assignee_type: str, settings: dict[str, Any] | None
) -> tuple[AppAssignment, App, Tenant]:
    check_manager(principal)
    errors = validate_assignment(app_code_name, assignee_uid, assignee_type, settings)
    if errors:
        raise ValidationFailed("; ".join(f"{e.field}: {e.message}" for e in errors), errors)
    tenant = business_for_manager(session, principal, assignee_uid)
    app = find_app(session, app_code_name)
    if app is None:
        raise NotFound(f"no app '{app_code_name[:80]}'", [FieldError("app_code_name", "no such app", code="not_found")])
    if session.scalar(readable_columns(tenant, AppAssignment.id).where(AppAssignment.app_id == app.id)):
        raise _assigned(app, tenant)
    row = AppAssignment(
        app_id=app.id, tenant_id=tenant.id, assignee_type=assignee_type, settings={"assignment_mode": "internal", **(settings or {})},
        created_by=f"{principal.kind}:{principal.key_id}",
    )  # fmt: skip
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError as exc:
        raise _assigned(app, tenant) from exc
    return row, app, tenant


def _assigned(app: App, tenant: Tenant) -> Conflict:
    return Conflict(f"app '{app.app_code_name}' is already assigned to business '{tenant.code}'")


def get_assignment(session: Session, principal: Principal, uid: str) -> tuple[AppAssignment, App, Tenant]:
    """The assignment ``uid``; for a tenant key only its own business's: another business's is
    404 like one that does not exist (the key's session, bound to its tenant, cannot see it on
    PostgreSQL, and SQLite answers the same)."""
    check_manager(principal)
    row = session.get(AppAssignment, uid)
    if row is None or (principal.kind == "tenant" and row.tenant_id != principal.tenant_id):
        raise NotFound(f"no app assignment '{uid[:80]}'" + (" of this business" if principal.kind == "tenant" else ""))
    return row, session.get_one(App, row.app_id), session.get_one(Tenant, row.tenant_id)


def unassign(session: Session, principal: Principal, uid: str) -> None:
    row, _app, _tenant = get_assignment(session, principal, uid)
    session.delete(row)
    session.flush()


def list_assignments(
    session: Session, principal: Principal, *, assignee_uid: str | None, app_code_name: str | None, page: int, page_size: int
) -> tuple[list[tuple[AppAssignment, App, Tenant]], int]:
    """Platform: every assignment; tenant admin key: its own business's; app key: its own app's."""
    query = select(AppAssignment, App, Tenant).join(App, App.id == AppAssignment.app_id).join(Tenant, Tenant.id == AppAssignment.tenant_id)
    if principal.kind == "app":
        query = query.where(AppAssignment.app_id == principal.app_id)
        if assignee_uid:
            tenant = find_business(session, assignee_uid)
            query = query.where(owned(AppAssignment, tenant) if tenant else false())
    elif assignee_uid:
        tenant = business_for_manager(session, principal, assignee_uid)
        query = query.where(owned(AppAssignment, tenant))
    else:
        check_manager(principal)
        if principal.kind == "tenant":
            query = query.where(owned(AppAssignment, principal.tenant_id or ""))
    if app_code_name:
        query = query.where(App.app_code_name == app_code_name)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(query.order_by(AppAssignment.created_at, AppAssignment.id).offset((page - 1) * page_size).limit(page_size))
    return [(a, b, c) for a, b, c in rows.tuples()], total


def assignment_json(row: AppAssignment, app: App, tenant: Tenant) -> dict[str, Any]:
    return {
        "uid": row.id,
        "app_code_name": app.app_code_name,
        "app_uid": app.id,
        "assignee_uid": tenant.code,
        "assignee_id": tenant.id,
        "assignee_type": row.assignee_type,
        "settings": row.settings,
        "created_at": row.created_at.isoformat(),
    }


def assignment_of(session: Session, app: App, tenant: Tenant, *, lock: bool = False) -> AppAssignment | None:
    """The assignment of ``app`` to ``tenant``; ``lock`` holds it (FOR SHARE) until commit on PostgreSQL,
    so a concurrent delete waits for the transaction that relies on it."""
    query = readable(tenant, AppAssignment).where(AppAssignment.app_id == app.id)
    if lock and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(read=True)
    return session.scalar(query)


# --- a business's view of its apps ------------------------------------------------------


@dataclass(frozen=True)
class ConnectedApp:
    """An app assigned to a business, with what it last imported there."""

    app: App
    assignment: AppAssignment
    imports: int
    last_import: ImportJob | None


def connected_apps(session: Session, tenant_id: str) -> list[ConnectedApp]:
    """The apps assigned to this business, oldest assignment first, each with its import count
    and newest import (jobs it started, or that a tenant key pushed through its door)."""
    query = (
        select(AppAssignment, App)
        .join(App, App.id == AppAssignment.app_id)
        .where(owned(AppAssignment, tenant_id))
        .order_by(AppAssignment.created_at, AppAssignment.id)
    )
    out: list[ConnectedApp] = []
    for assignment, app in session.execute(query).tuples():
        actor = f"app:{app.app_code_name}"
        by_app = (
            owned(ImportJob, tenant_id),
            ImportJob.door == DOOR,
            or_(ImportJob.started_by == actor, ImportJob.started_by.startswith(f"{actor} (", autoescape=True)),
        )
        count = session.scalar(select(func.count()).select_from(ImportJob).where(*by_app)) or 0
        last = session.scalar(select(ImportJob).where(*by_app).order_by(ImportJob.created_at.desc(), ImportJob.id.desc()).limit(1))
        out.append(ConnectedApp(app, assignment, count, last))
    return out


def app_import(session: Session, app: App, tenant: Tenant, job_id: str) -> ImportJob:
    """An import that ``app`` made for ``tenant``; any other import of the business is 404."""
    job = session.scalar(readable(tenant, ImportJob).where(ImportJob.id == job_id))
    if job is None or job.door != DOOR or (job.options or {}).get("app") != app.app_code_name:
        raise NotFound(f"no import '{job_id[:80]}' made through app '{app.app_code_name}' for this business")
    return job
