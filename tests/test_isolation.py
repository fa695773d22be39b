"""Tenant isolation: every route of the app, called with every credential that must be refused.

The routes are read from the router (``create_app(...).routes``, included routers too). Each
one has an entry in :data:`ROUTES` saying how to call it — its path filled with ids of objects
that belong to tenant A (a client, an import job, an app's import, a webhook, a notification, a
connection, a partner app and its assignment, a kept upload and its dry run) and a minimal
valid body — and which guard keeps it. The guard says which credential kinds must be refused
with which status (:data:`REFUSALS`). A route without an entry fails the test, and so does an
entry whose route is gone.

Every refused answer is also read: it must never contain :data:`MARKER`, which is planted in
tenant A's data (a client's name, an import's rows, a webhook's URL, a notification, a
connection's organisation). Where the right credential is harmless to use, the entry's
``owner`` status is checked too, so the ids in the table are known to be real.

One app and one database per backend (module-scoped), seeded once through the API.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from clientdock.app import create_app
from clientdock.apps import service as apps
from clientdock.connections.models import Connection
from clientdock.db import Database
from clientdock.notify import service as notify
from clientdock.settings import Settings
from clientdock.tenants import service as tenants
from clientdock.tenants.auth import Principal
from clientdock.users import service as users
from tests.conftest import BACKENDS, new_database_url, pg_drop
from tests.web.helpers import DRY_RUN, PASSWORD, UPLOAD_TOKEN, csrf_token, found, sign_in

MARKER = "Isolation-Marker-A"
#: Routes that are not the app's own: the docs FastAPI adds, and the static files.
NOT_OURS = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc", "/static"}

# --- credential kinds ----------------------------------------------------------------------------

NONE = "no credential"
OTHER_TENANT = "tenant B's key"
MISSING_SCOPE = "tenant A's key without the route's scope"
REVOKED = "tenant A's revoked key"
FOREIGN_APP = "a partner app not assigned to A"
FOREIGN_APP_DOOR = "a partner app not assigned to A, through its own door"
ASSIGNED_APP = "the app assigned to A, outside its door"
FOREIGN_APP_FOR_B = "a partner app assigned to B, acting for B through its own door"
ASSIGNED_APP_FOR_B = "the app assigned to A, acting for B (not assigned to it)"
PLATFORM = "the platform key"
TENANT_ON_PLATFORM = "tenant A's key"
REVOKED_PLATFORM = "a revoked platform key"
NO_SESSION = "no web session"
API_KEY_ON_PAGE = "tenant A's API key instead of a session"
OTHER_SESSION = "tenant B's web session"
SESSION_ON_API = "tenant A's web session instead of a key"

DENIED = frozenset({403, 404})
#: No credential, and a web session's cookie where an API key belongs: the API answers 401.
UNAUTHENTICATED = {NONE: frozenset({401}), SESSION_ON_API: frozenset({401})}
#: What each guard answers each credential kind. Pages redirect to sign-in (303) when nobody is
#: signed in; tenant B's session is refused (400, 403, 404) unless the entry says otherwise.
REFUSALS: dict[str, dict[str, frozenset[int]]] = {
    "tenant": {
        **UNAUTHENTICATED, OTHER_TENANT: DENIED, MISSING_SCOPE: frozenset({403}), REVOKED: frozenset({401}),
        FOREIGN_APP: DENIED, ASSIGNED_APP: frozenset({403}), PLATFORM: frozenset({403}),
    },
    # /users/bulk/sourceId: no tenant in the path, the key's own tenant is the one written.
    "own-tenant": {
        **UNAUTHENTICATED, MISSING_SCOPE: frozenset({403}), REVOKED: frozenset({401}), FOREIGN_APP: frozenset({403}),
        ASSIGNED_APP: frozenset({403}), PLATFORM: frozenset({403}),
    },
    "platform": {
        **UNAUTHENTICATED, TENANT_ON_PLATFORM: frozenset({403}), OTHER_TENANT: frozenset({403}),
        REVOKED_PLATFORM: frozenset({401}), FOREIGN_APP: frozenset({403}), ASSIGNED_APP: frozenset({403}),
    },
    # App assignments: the platform key, or a business's admin key for its own business.
    "assignments": {
        **UNAUTHENTICATED, OTHER_TENANT: DENIED, MISSING_SCOPE: frozenset({403}), REVOKED: frozenset({401}), FOREIGN_APP: DENIED,
    },
    # An app's door into business A: the app assigned to A (X-Business-Uid) or A's own key.
    "app-door": {
        **UNAUTHENTICATED, OTHER_TENANT: DENIED, MISSING_SCOPE: frozenset({403}), REVOKED: frozenset({401}),
        FOREIGN_APP: DENIED, FOREIGN_APP_DOOR: DENIED, FOREIGN_APP_FOR_B: DENIED, ASSIGNED_APP_FOR_B: frozenset({403}),
        PLATFORM: frozenset({403}),
    },
    "page": {
        NO_SESSION: frozenset({303}), API_KEY_ON_PAGE: frozenset({303}), OTHER_SESSION: frozenset({400, 403, 404}),
    },
    # Public: anyone may call; nobody's answer may carry tenant A's data.
    "public": {NONE: frozenset(range(200, 500)), OTHER_TENANT: frozenset(range(200, 500)), OTHER_SESSION: frozenset(range(200, 500))},
}  # fmt: skip


@dataclass(frozen=True)
class Call:
    """How to call one route, and what keeps it."""

    guard: str
    #: The tenant scope the route needs (tenant, own-tenant and app-door guards).
    scope: str | None = None
    #: Path parameters whose value is not the default of :meth:`World.ids` (param → id name).
    ids: dict[str, str] = field(default_factory=dict)
    json: Any = None
    form: dict[str, str] | None = None
    files: dict[str, tuple[str, bytes, str]] | None = None
    query: dict[str, str] = field(default_factory=dict)
    #: Tenant A's business in X-Business-Uid (the app door).
    business: bool = False
    #: The status with the right credential, checked after the refusals; None: not called (it
    #: would destroy what later entries need, or call a third party).
    owner: int | None = None
    #: Statuses for some credential kinds that differ from the guard's.
    overrides: dict[str, frozenset[int]] = field(default_factory=dict)
    #: World ids (beyond the marker) that a refused answer must not contain.
    absent: tuple[str, ...] = ()


CSV = f"name,email\n{MARKER} Upload,upload-a@acme.test\n".encode()
B_OWN = {OTHER_SESSION: frozenset({200})}  # a page of B's own data (nothing of A's in it)
B_OWN_REDIRECT = {OTHER_SESSION: frozenset({200, 303})}

#: Every route of the app, by "METHOD path".
ROUTES: dict[str, Call] = {
    # --- clients, settings, groups ----------------------------------------------------------------
    "GET /tenants/{tenant}/clients": Call("tenant", "clients:read", owner=200),
    "GET /tenants/{tenant}/clients/export.csv": Call("tenant", "clients:read", owner=200),
    "GET /tenants/{tenant}/clients/{client_id}": Call("tenant", "clients:read", owner=200),
    "GET /tenants/{tenant}/clients/{client_id}/history": Call("tenant", "clients:read", owner=200),
    "GET /tenants/{tenant}/client-groups": Call("tenant", "clients:read", owner=200),
    "POST /tenants/{tenant}/client-groups": Call("tenant", "clients:write", json={"name": "Isolation group"}, owner=201),
    "GET /tenants/{tenant}/settings": Call("tenant", "clients:read", owner=200),
    "PUT /tenants/{tenant}/settings": Call("tenant", "admin", json={"defaultRegion": "GB"}, owner=200),
    "PATCH /tenants/{tenant}/settings": Call("tenant", "admin", json={"defaultRegion": "GB"}, owner=200),
    # --- the single-record doors ------------------------------------------------------------------
    "POST /tenants/{tenant}/clients": Call("tenant", "clients:write", json={"name": "Created", "email": "created@acme.test"}, owner=201),
    "POST /tenants/{tenant}/clients/upsert": Call("tenant", "clients:write", json={"trackingId": "iso-1", "name": "Upserted"}, owner=201),
    "PATCH /tenants/{tenant}/clients/{client_id}": Call("tenant", "clients:write", json={"note": "patched"}, owner=200),
    "DELETE /tenants/{tenant}/clients/{client_id}": Call("tenant", "clients:write", ids={"client_id": "doomed_client"}, owner=204),
    "POST /tenants/{tenant}/clients/{client_id}/enrich": Call("tenant", "clients:write", owner=400),  # no register configured
    "POST /tenants/{tenant}/clients/enrich": Call("tenant", "clients:write", json={"clientIds": ["{client_id}"]}, owner=400),
    # --- files, bulk, imports -------------------------------------------------------------------------
    "POST /tenants/{tenant}/clients/import/csv": Call(
        "tenant", "imports:write", files={"file": ("clients.csv", b"name,email\nFiled,filed@acme.test\n", "text/csv")}, owner=201
    ),
    "GET /tenants/{tenant}/clients/import/template.csv": Call("public"),  # documented: no tenant data, no key needed
    "POST /users/bulk/sourceId": Call(
        "own-tenant", "imports:write", json={"users": [{"source": "iso", "sourceId": "a-1", "note": "from elsewhere"}]}, owner=200,
        overrides={OTHER_TENANT: frozenset({200})}, absent=("client_id",),
    ),  # fmt: skip
    "GET /tenants/{tenant}/imports": Call("tenant", "clients:read", owner=200),
    "GET /tenants/{tenant}/imports/{job_id}": Call("tenant", "clients:read", owner=200),
    "GET /tenants/{tenant}/imports/{job_id}/rows": Call("tenant", "clients:read", owner=200),
    "GET /tenants/{tenant}/imports/{job_id}/errors.csv": Call("tenant", "clients:read", owner=200),
    "POST /tenants/{tenant}/imports/{job_id}/cancel": Call("tenant", "imports:write", owner=409),  # it has ended
    "GET /tenants/{tenant}/imports/{job_id}/undo": Call("tenant", "imports:write", owner=200),
    "POST /tenants/{tenant}/imports/{job_id}/undo": Call("tenant", "imports:write", ids={"job_id": "doomed_job"}, owner=200),
    # --- connections ------------------------------------------------------------------------------------
    "GET /tenants/{tenant}/connections/{provider}/authorize": Call("tenant", "admin", owner=400),  # Xero not configured here
    "GET /connections/{provider}/callback": Call("public", query={"state": "not-a-state", "code": "x"}),
    "GET /tenants/{tenant}/connections": Call("tenant", "clients:read", owner=200),
    "GET /tenants/{tenant}/connections/{code}/contacts": Call("tenant", "clients:read"),  # the owner would call Xero
    "DELETE /tenants/{tenant}/connections/{code}": Call("tenant", "admin", ids={"code": "doomed_connection"}, owner=204),
    "POST /tenants/{tenant}/clients/import/from-connection": Call(
        "tenant", "imports:write", query={"connectionCode": "{code}", "importAll": "true"}
    ),  # the owner would call Xero
    # --- partner apps -------------------------------------------------------------------------------------
    "POST /platform/v1/apps": Call(
        "platform", json={"name": "Sneaky", "app_code_name": "sneaky", "app_type": "import_clients", "redirect_uri": "https://example.com/cb"},
        owner=201,
    ),
    "GET /platform/v1/apps": Call("platform", owner=200),
    "GET /platform/v1/apps/{app_code_name}": Call("platform", owner=200),
    "POST /platform/v1/apps/{app_code_name}/credentials": Call("platform", ids={"app_code_name": "spare_app"}, owner=200),
    "POST /v3/apps/app_assignments": Call(
        "assignments", "admin", json={"app_code_name": "{spare_app}", "assignee_uid": "{tenant}", "assignee_type": "business"}, owner=201
    ),
    "GET /v3/apps/app_assignments": Call(
        "assignments", "admin", query={"assignee_uid": "{tenant}"}, owner=200, absent=("uid",),
        overrides={FOREIGN_APP: frozenset({200, 403})},  # an app key lists its own app's assignments: none with A
    ),  # fmt: skip
    "GET /v3/apps/app_assignments/{uid}": Call("assignments", "admin", owner=200),
    "DELETE /v3/apps/app_assignments/{uid}": Call("assignments", "admin", ids={"uid": "doomed_assignment"}, owner=204),
    "POST /business/clients/v1/apps/{app_code_name}/import": Call(
        "app-door", "imports:write", business=True,
        json={"import_params": {"upload_type": "single"}, "fields_mapping": {"first_name": "Pushed", "email": "pushed@acme.test"}},
        owner=201, overrides={FOREIGN_APP_FOR_B: frozenset({201})},  # B's own app importing into B: allowed, and none of A's data
    ),  # fmt: skip
    "GET /business/clients/v1/apps/{app_code_name}/imports/{job_id}": Call(
        "app-door", "clients:read", ids={"job_id": "app_job"}, business=True, owner=200
    ),
    # --- notifications, webhooks ----------------------------------------------------------------------------
    "GET /tenants/{tenant}/notifications": Call("tenant", "clients:read", owner=200),
    "POST /tenants/{tenant}/notifications/read-all": Call("tenant", "clients:write", owner=200),
    "POST /tenants/{tenant}/notifications/{notification_id}/read": Call("tenant", "clients:write", owner=200),
    "GET /tenants/{tenant}/webhooks": Call("tenant", "admin", owner=200),
    "POST /tenants/{tenant}/webhooks": Call("tenant", "admin", json={"url": "http://127.0.0.1:9/hook"}, owner=201),
    "DELETE /tenants/{tenant}/webhooks/{webhook_id}": Call("tenant", "admin", ids={"webhook_id": "doomed_webhook"}, owner=204),
    "GET /tenants/{tenant}/webhooks/{webhook_id}/deliveries": Call("tenant", "admin", owner=200),
    # --- the platform's view of the workers -------------------------------------------------------------------
    "GET /admin/workers": Call("platform", owner=200),
    "GET /admin/queues": Call("platform", owner=200),
    "GET /healthz": Call("public"),
    # --- web pages -------------------------------------------------------------------------------------------
    "GET /": Call("public"),
    "POST /": Call("public", form={"email": "anna@iso-a.test", "password": "not the password"}),
    # B signs itself out (in a session of its own, which the other entries do not use).
    "POST /sign-out": Call("page", overrides={OTHER_SESSION: frozenset({303})}, form={}),
    "GET /clients/import/template.csv": Call("page", overrides=B_OWN),
    "GET /clients/import": Call("page", overrides=B_OWN),
    "POST /clients/import/upload": Call(
        "page", files={"file": ("b.csv", b"name,email\nOwn,own-b@beta.test\n", "text/csv")}, form={}, overrides=B_OWN
    ),
    "GET /clients/import/upload-form": Call("page", overrides=B_OWN),
    "POST /clients/import/preview": Call("page", form={"token": "{upload_token}", "col-0": "name", "col-1": "email"}),
    "POST /clients/import/fix": Call("page", form={"token": "{upload_token}", "dry_run": "{dry_run}", "row": "1", "cell-name": "x"}),
    "GET /clients/import/dry-runs/{job_id}": Call("page", ids={"job_id": "dry_run"}, query={"token": "{upload_token}"}),
    "POST /clients/import/start": Call("page", form={"token": "{upload_token}", "dry_run": "{dry_run}"}),
    "GET /clients": Call("page", overrides=B_OWN),
    "GET /clients/export.csv": Call("page", overrides=B_OWN),
    "GET /clients/{client_id}": Call("page"),
    "GET /clients/{client_id}/edit": Call("page"),
    "POST /clients/{client_id}/edit": Call("page", form={"name": "Overwritten by B"}),
    "POST /clients/{client_id}/enrich": Call("page"),
    "GET /imports": Call("page", overrides=B_OWN),
    "GET /imports/{job_id}": Call("page"),
    "GET /imports/{job_id}/progress": Call("page"),
    "GET /imports/{job_id}/errors.csv": Call("page"),
    "GET /imports/{job_id}/undo": Call("page"),
    "POST /imports/{job_id}/undo": Call("page"),
    "GET /notifications/bell": Call("page", overrides=B_OWN),
    "POST /notifications/read-all": Call("page", overrides=B_OWN_REDIRECT),
    "GET /connections": Call("page", overrides=B_OWN),
    "POST /connections/{provider}/connect": Call("page"),  # B's own connect; refused: Xero is not configured here
    "POST /connections/{code}/import": Call("page"),
    "GET /connections/{code}/pick": Call("page"),
    "POST /connections/{code}/disconnect": Call("page"),
}  # fmt: skip


def route_keys(app: FastAPI) -> set[str]:
    """Every route of the app as "METHOD path", HEAD left out (Starlette adds it to each GET)."""
    keys: set[str] = set()
    for context in iter_route_contexts(app.routes):
        path = context.path_format
        if path is None or context.path in NOT_OURS:  # a Mount's path is its prefix (its path_format adds /{path})
            continue
        route = context.original_route
        methods = sorted((context.methods or set()) - {"HEAD"})
        assert methods or not isinstance(route, APIRoute), f"{path}: a route without methods"
        assert methods, f"{path}: not an API or page route ({type(route).__name__}); add it to NOT_OURS or give it an entry"
        keys.update(f"{method} {path}" for method in methods)
    return keys


# --- the world: tenant A's objects, and the credentials ---------------------------------------------


@dataclass
class World:
    database: Database
    api: TestClient
    web_a: TestClient
    web_b: TestClient
    ids: dict[str, str]
    keys: dict[str, str]
    foreign_app_key: str
    b_csrf: str
    #: Tenant B's second session, the one ``POST /sign-out`` ends.
    web_b_out: TestClient
    b_out_csrf: str

    def fill(self, text: str) -> str:
        return text.format(**self.ids) if "{" in text else text

    def filled(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.fill(value)
        if isinstance(value, list):
            return [self.filled(v) for v in value]
        if isinstance(value, dict):
            return {k: self.filled(v) for k, v in value.items()}
        return value


def _key(session: Any, tenant_id: str | None = None, *, kind: str = "tenant", scopes: list[str] | None = None) -> str:
    return tenants.issue_key(session, kind=kind, tenant_id=tenant_id, scopes=scopes).key


def _created(response: Any, status: int = 201) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture(scope="module", params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("isolation")
    url, pg_name = new_database_url(str(request.param), folder, request)
    database = Database(url)
    settings = Settings(data_dir=folder / "data", database_url=url, sync_wait_seconds=10, allow_private_webhooks=True)
    app = create_app(settings, database)
    try:
        with TestClient(app, raise_server_exceptions=False) as api:
            web = [TestClient(app, raise_server_exceptions=False) for _ in range(3)]
            yield _seed(database, api, *web)
            for each in web:
                each.close()
    finally:
        database.dispose()
        if pg_name:
            pg_drop(pg_name)
        shutil.rmtree(folder, ignore_errors=True)


def _seed(database: Database, api: TestClient, web_a: TestClient, web_b: TestClient, web_b_out: TestClient) -> World:
    keys: dict[str, str] = {}
    ids: dict[str, str] = {"provider": "xero"}
    with database.session() as session:
        a = tenants.create_tenant(session, "iso-a", name=f"{MARKER} Practice")
        b = tenants.create_tenant(session, "iso-b")
        ids["tenant"], ids["tenant_b"], ids["a_id"] = a.code, b.code, a.id
        keys["a"] = _key(session, a.id)
        keys["b"] = _key(session, b.id)
        for scope in tenants.TENANT_SCOPES:
            keys[f"a-without-{scope}"] = _key(session, a.id, scopes=[s for s in tenants.TENANT_SCOPES if s != scope])
        revoked = tenants.issue_key(session, kind="tenant", tenant_id=a.id)
        tenants.revoke_key(session, revoked.id)
        keys["a-revoked"] = revoked.key
        keys["platform"] = _key(session, kind="platform")
        revoked_platform = tenants.issue_key(session, kind="platform")
        tenants.revoke_key(session, revoked_platform.id)
        keys["platform-revoked"] = revoked_platform.key
        registered = {}
        for name in ("iso_app", "iso_foreign_app", "iso_spare_app", "iso_doomed_app"):
            registered[name] = apps.register_app(
                session, name=name, app_code_name=name, app_type="import_clients", redirect_uri="https://example.com/cb"
            )
        ids["app_code_name"], ids["spare_app"] = "iso_app", "iso_spare_app"
        keys["app"] = registered["iso_app"].client_secret
        foreign_app_key = registered["iso_foreign_app"].client_secret
        platform = tenants.find_key(session, keys["platform"])
        assert platform is not None
        manager = Principal("platform", platform.id, None, frozenset())
        ids["uid"] = apps.assign(session, manager, app_code_name="iso_app", assignee_uid=a.code, assignee_type="business", settings=None)[
            0
        ].id
        apps.assign(session, manager, app_code_name="iso_foreign_app", assignee_uid=b.code, assignee_type="business", settings=None)
        ids["doomed_assignment"] = apps.assign(
            session, manager, app_code_name="iso_doomed_app", assignee_uid=a.code, assignee_type="business", settings=None
        )[0].id
        for code in ("iso-conn", "iso-conn-doomed"):
            session.add(
                Connection(tenant_id=a.id, code=code, provider="xero", organisation_id=code, organisation_name=f"{MARKER} Org {code}")
            )
        ids["code"], ids["doomed_connection"] = "iso-conn", "iso-conn-doomed"
        ids["notification_id"] = notify.notify(session, a.id, "import.completed", f"{MARKER} finished", f"{MARKER} body").id
        users.create_user(session, a, "anna@iso-a.test", PASSWORD)
        users.create_user(session, b, "bob@iso-b.test", PASSWORD)

    headers = {"X-API-Key": keys["a"]}
    tenant_path = f"/tenants/{ids['tenant']}"
    bulk = api.post(
        "/users/bulk/sourceId",
        json={"users": [{"source": "iso", "sourceId": "a-1", "fullName": MARKER, "email": "marker-a@acme.test"}]},
        headers=headers,
    )
    bulk_body = _created(bulk, 200)
    ids["client_id"], ids["job_id"] = bulk_body["data"][0]["id"], bulk_body["importId"]
    for source_id, name in (("a-2", "doomed_client"), ("a-3", "doomed_job")):
        users_of = {"users": [{"source": "iso", "sourceId": source_id, "fullName": f"{MARKER} {source_id}"}]}
        made = _created(api.post("/users/bulk/sourceId", json=users_of, headers=headers), 200)
        ids[name] = made["data"][0]["id"] if name == "doomed_client" else made["importId"]
    hook = {"url": f"http://127.0.0.1:9/{MARKER}"}
    ids["webhook_id"] = _created(api.post(f"{tenant_path}/webhooks", json=hook, headers=headers))["id"]
    ids["doomed_webhook"] = _created(api.post(f"{tenant_path}/webhooks", json=hook, headers=headers))["id"]
    pushed = api.post(
        "/business/clients/v1/apps/iso_app/import",
        json={"import_params": {"upload_type": "single"}, "fields_mapping": {"first_name": MARKER, "email": "app-a@acme.test"}},
        headers={"X-API-Key": keys["app"], "X-Business-Uid": ids["tenant"]},
    )
    ids["app_job"] = _created(pushed)["id"]

    sign_in(web_a, "anna@iso-a.test", PASSWORD)
    a_csrf = csrf_token(web_a.get("/clients/import").text)
    uploaded = web_a.post("/clients/import/upload", files={"file": ("a.csv", CSV, "text/csv")}, data={"csrf_token": a_csrf})
    assert uploaded.status_code == 200, uploaded.text
    ids["upload_token"], ids["dry_run"] = found(UPLOAD_TOKEN, uploaded.text), found(DRY_RUN, uploaded.text)
    assert sign_in(web_b, "bob@iso-b.test", PASSWORD).status_code == 303
    b_csrf = csrf_token(web_b.get("/clients/import").text)
    assert sign_in(web_b_out, "bob@iso-b.test", PASSWORD).status_code == 303
    b_out_csrf = csrf_token(web_b_out.get("/clients/import").text)
    return World(database, api, web_a, web_b, ids, keys, foreign_app_key, b_csrf, web_b_out, b_out_csrf)


# --- the checks ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def routes_of_the_app(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    folder = tmp_path_factory.mktemp("isolation-routes")
    settings = Settings(data_dir=folder, database_url=f"sqlite:///{folder / 'app.db'}")
    database = Database(settings.resolved_database_url)
    try:
        return route_keys(create_app(settings, database))
    finally:
        database.dispose()


def test_every_route_has_an_entry(routes_of_the_app: set[str]) -> None:
    """A new route needs an entry in ROUTES: how to call it as tenant A, and what keeps it."""
    assert sorted(routes_of_the_app - ROUTES.keys()) == []


def test_every_entry_names_a_route(routes_of_the_app: set[str]) -> None:
    assert sorted(ROUTES.keys() - routes_of_the_app) == []


def test_every_entry_has_a_known_guard_and_scope() -> None:
    for name, call in ROUTES.items():
        assert call.guard in REFUSALS, name
        needs_scope = call.guard in ("tenant", "own-tenant", "assignments", "app-door")
        assert (call.scope in tenants.TENANT_SCOPES) if needs_scope else call.scope is None, name


def _request(world: World, name: str, call: Call, kind: str | None, *, key: str | None = None, extra: dict[str, str] | None = None) -> Any:
    """Call the route of ``name`` as ``kind`` (None: the right credential, or ``key`` when given)."""
    method, path = name.split(" ", 1)
    ids = {**world.ids, **{param: world.ids[source] for param, source in call.ids.items()}}
    if kind in (FOREIGN_APP_DOOR, FOREIGN_APP_FOR_B):
        ids["app_code_name"] = "iso_foreign_app"
    url = path.format(**{k: v for k, v in ids.items()}) if "{" in path else path
    headers: dict[str, str] = dict(extra or {})
    key = key or _key_for(world, call, kind)
    if key:
        headers["X-API-Key"] = key
    if call.business:
        headers["X-Business-Uid"] = world.ids["tenant_b" if kind in (FOREIGN_APP_FOR_B, ASSIGNED_APP_FOR_B) else "tenant"]
    client = world.web_a if kind == SESSION_ON_API else world.api
    form = world.filled(call.form) if call.form is not None else None
    if call.guard == "page" or (call.guard == "public" and kind == OTHER_SESSION):
        client, token = (world.web_b_out, world.b_out_csrf) if name == "POST /sign-out" else (world.web_b, world.b_csrf)
        client = client if kind == OTHER_SESSION else world.api
        if kind == OTHER_SESSION and method == "POST":
            form = {**(form or {}), "csrf_token": token}
    if kind is None and call.guard == "app-door":
        headers["X-API-Key"] = world.keys["app"]
    return client.request(
        method, url, params=world.filled(call.query), json=world.filled(call.json), data=form, files=call.files, headers=headers,
        follow_redirects=False,
    )  # fmt: skip


def _key_for(world: World, call: Call, kind: str | None) -> str | None:
    keys = world.keys
    chosen = {
        None: keys["platform"] if call.guard == "platform" else keys["a"],
        NONE: None, OTHER_TENANT: keys["b"], MISSING_SCOPE: keys.get(f"a-without-{call.scope}"), REVOKED: keys["a-revoked"],
        FOREIGN_APP: world.foreign_app_key, FOREIGN_APP_DOOR: world.foreign_app_key, ASSIGNED_APP: keys["app"],
        FOREIGN_APP_FOR_B: world.foreign_app_key, ASSIGNED_APP_FOR_B: keys["app"],
        PLATFORM: keys["platform"], TENANT_ON_PLATFORM: keys["a"],
        REVOKED_PLATFORM: keys["platform-revoked"], NO_SESSION: None, API_KEY_ON_PAGE: keys["a"], OTHER_SESSION: None, SESSION_ON_API: None,
    }  # fmt: skip
    return chosen[kind]


def _kinds(call: Call) -> dict[str, frozenset[int]]:
    return {**REFUSALS[call.guard], **call.overrides}


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_wrong_credentials_are_refused_and_see_nothing_of_tenant_a(world: World, name: str) -> None:
    call = ROUTES[name]
    wrong: list[str] = []
    for kind, allowed in _kinds(call).items():
        response = _request(world, name, call, kind)
        if response.status_code not in allowed:
            wrong.append(
                f"{kind}: {response.status_code} (expected {sorted(allowed) if len(allowed) < 6 else 'not 5xx'}) {response.text[:200]}"
            )
        leaked = [MARKER, *(world.ids[n] for n in call.absent)]
        seen = response.text + "".join(f"{k}: {v}" for k, v in response.headers.items())
        if any(secret in seen for secret in leaked):
            wrong.append(f"{kind}: the answer (body or headers) shows tenant A's data: {seen[:300]}")
        if call.guard == "page" and response.status_code == 303 and kind != OTHER_SESSION:
            assert response.headers["location"].startswith("/"), response.headers
    assert wrong == [], name
    if call.owner is None:
        return
    if not (name.startswith("POST ") and call.guard in ("tenant", "own-tenant", "assignments", "platform")):
        response = _request(world, name, call, None)
        assert response.status_code == call.owner, f"{name} as tenant A: {response.status_code} {response.text[:300]}"
        return
    # A POST as its owner, with an Idempotency-Key and a key of its own; once that key is revoked,
    # a retry is 401 like any request of a revoked key, not the stored answer.
    with world.database.session() as session:
        platform = call.guard == "platform"
        fresh = tenants.issue_key(session, kind="platform" if platform else "tenant", tenant_id=None if platform else world.ids["a_id"])
    retry = {"Idempotency-Key": f"iso-{fresh.id}"}
    response = _request(world, name, call, None, key=fresh.key, extra=retry)
    assert response.status_code == call.owner, f"{name} as its owner: {response.status_code} {response.text[:300]}"
    with world.database.session() as session:
        tenants.revoke_key(session, fresh.id)
    replay = _request(world, name, call, None, key=fresh.key, extra=retry)
    assert (replay.status_code, MARKER in replay.text) == (401, False), f"{name}, the owner's revoked key: {replay.text[:300]}"


def test_a_revoked_key_gets_no_replay_of_an_idempotent_answer(world: World) -> None:
    """The Idempotency-Key replay is keyed by the credential: once that key is revoked, a retry
    with it is 401 like any other request, not the stored answer with tenant A's data."""
    with world.database.session() as session:
        issued = tenants.issue_key(session, kind="tenant", tenant_id=world.ids["a_id"])
    headers = {"X-API-Key": issued.key, "Idempotency-Key": f"iso-{issued.id}"}
    body = {"name": f"{MARKER} replayed", "email": f"replay-{issued.id}@acme.test"}
    path = f"/tenants/{world.ids['tenant']}/clients"
    assert world.api.post(path, json=body, headers=headers).status_code == 201
    with world.database.session() as session:
        tenants.revoke_key(session, issued.id)
    replay = world.api.post(path, json=body, headers=headers)
    assert replay.status_code == 401, replay.text
    assert MARKER not in replay.text


def test_an_unassigned_app_gets_no_replay_of_an_idempotent_import(world: World) -> None:
    """Once an app is unassigned it gets 403 for that business, a retry of an earlier import
    with the same Idempotency-Key too (it was the stored answer, with the business's clients)."""
    code = f"iso_replay_{len(world.ids)}_{world.ids['a_id'][:6]}"
    with world.database.session() as session:
        secret = apps.register_app(
            session, name=code, app_code_name=code, app_type="import_clients", redirect_uri="https://example.com/cb"
        ).client_secret
    platform = {"X-API-Key": world.keys["platform"]}
    assigned = world.api.post(
        "/v3/apps/app_assignments", json={"app_code_name": code, "assignee_uid": world.ids["tenant"], "assignee_type": "business"},
        headers=platform,
    )  # fmt: skip
    uid = _created(assigned)["data"]["uid"]
    headers = {"X-API-Key": secret, "X-Business-Uid": world.ids["tenant"], "Idempotency-Key": f"iso-{code}"}
    body = {"import_params": {"upload_type": "single"}, "fields_mapping": {"first_name": MARKER, "email": f"{code}@acme.test"}}
    path = f"/business/clients/v1/apps/{code}/import"
    assert world.api.post(path, json=body, headers=headers).status_code == 201
    assert world.api.post(path, json=body, headers=headers).headers.get("Idempotent-Replayed") == "true"  # while assigned
    assert world.api.delete(f"/v3/apps/app_assignments/{uid}", headers=platform).status_code == 204
    replay = world.api.post(path, json=body, headers=headers)
    assert replay.status_code == 403, replay.text
    assert MARKER not in replay.text
