"""PostgreSQL row-level security, the second wall behind the application's tenant checks.

A session bound to a tenant (``db.bind_tenant``) runs each transaction as the tenant role, on
whose tables the policies of migration ``0016_row_security`` let it see and write that tenant's
rows only: a query that forgot its tenant filter still returns nothing of another tenant. A
session that is not bound (system work: migrations, the reaper, the job engine, platform routes)
sees everything, as before. On SQLite binding only records the tenant (the application's checks
are the only wall there), which the end-to-end proof below uses as its control.
"""

from __future__ import annotations

import hashlib
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import ColumnElement, Table, delete, func, select, text, true, update
from sqlalchemy.exc import DBAPIError, NoResultFound
from sqlalchemy.orm import Session

from clientdock import cli_import, rowwrite
from clientdock.app import create_app
from clientdock.apps import service as apps
from clientdock.apps.models import AppAssignment
from clientdock.connections import service as connections
from clientdock.connections.models import Connection, OAuthState
from clientdock.db import ROW_SECURED_TABLES, UNSECURED_TENANT_TABLES, Base, Database, as_login_role, bind_tenant, bound_tenant, utcnow
from clientdock.imports import respond
from clientdock.imports.respond import WaiterCap
from clientdock.jobs import workflow
from clientdock.jobs.models import FileMapping, ImportJob, ImportRow
from clientdock.notify import dispatcher
from clientdock.notify import service as notify
from clientdock.notify.models import Webhook, WebhookDelivery
from clientdock.rowwrite import insert_rows
from clientdock.settings import Settings
from clientdock.tenants import scoping
from clientdock.tenants import service as tenants
from clientdock.tenants.auth import Principal
from clientdock.tenants.keys import hash_key
from clientdock.tenants.models import IdempotencyRecord, Tenant
from clientdock.users import service as users
from clientdock.web import import_flow
from tests.conftest import BACKENDS, POSTGRES_URL, new_database_url, pg_drop
from tests.web.helpers import PASSWORD, sign_in

#: Tables under a tenant's row through a parent, not a ``tenant_id`` of their own.
CHILD_TABLES = {"import_rows": "import_jobs"}


@dataclass(frozen=True)
class Seeded:
    database: Database
    api: TestClient
    a: str  # tenant ids
    b: str
    a_code: str
    a_key: str
    a_client: str
    b_client: str
    settings: Settings
    platform: Principal


def _seed_tenant(database: Database, api: TestClient, code: str, manager: Principal) -> tuple[str, str, str]:
    """A tenant with a row in every table under row-level security; its id, key and a client's id."""
    with database.session() as session:
        tenant = tenants.create_tenant(session, code)
        key = tenants.issue_key(session, kind="tenant", tenant_id=tenant.id).key
        users.create_user(session, tenant, f"someone@{code}.test", PASSWORD)
        session.add(Connection(tenant_id=tenant.id, code="books", provider="xero", organisation_id=code, organisation_name=code))
        session.add(
            OAuthState(
                state_hash=uuid.uuid4().hex * 2,
                tenant_id=tenant.id,
                provider="xero",
                code_verifier="v",
                expires_at=utcnow() + timedelta(hours=1),
            )
        )
        session.add(FileMapping(tenant_id=tenant.id, headers_key=code, headers=["name"], mapping={"name": "fullName"}))
        notify.notify(session, tenant.id, "import.completed", "done", "done")
        apps.assign(session, manager, app_code_name="rls_app", assignee_uid=code, assignee_type="business", settings=None)
    headers = {"X-API-Key": key}
    hooked = api.post(f"/tenants/{code}/webhooks", json={"url": "http://127.0.0.1:9/hook"}, headers=headers)
    assert hooked.status_code == 201, hooked.text
    items = {"users": [{"source": "rls", "sourceId": f"{code}-1", "fullName": f"Client of {code}", "email": f"c@{code}.test"}]}
    done = api.post("/users/bulk/sourceId", json=items, headers=headers | {"Idempotency-Key": f"seed-{code}"})
    assert done.status_code == 200, done.text
    return tenant.id, key, done.json()["data"][0]["id"]


def _world(backend: str, request: pytest.FixtureRequest, folder: Path) -> Iterator[Seeded]:
    url, pg_name = new_database_url(backend, folder, request)
    database = Database(url)
    settings = Settings(data_dir=folder / "data", database_url=url, sync_wait_seconds=10, allow_private_webhooks=True)
    try:
        with TestClient(create_app(settings, database), raise_server_exceptions=False) as api:
            with database.session() as session:
                platform = tenants.issue_key(session, kind="platform")
                apps.register_app(
                    session, name="rls app", app_code_name="rls_app", app_type="import_clients", redirect_uri="https://example.com/cb"
                )
            manager = Principal("platform", platform.id, None, frozenset())
            a, a_key, a_client = _seed_tenant(database, api, "rls-a", manager)
            b, _, b_client = _seed_tenant(database, api, "rls-b", manager)
            yield Seeded(database, api, a, b, "rls-a", a_key, a_client, b_client, settings, manager)
    finally:
        database.dispose()
        if pg_name:
            pg_drop(pg_name)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def pg(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    """Two tenants with rows in every secured table, on PostgreSQL."""
    if POSTGRES_URL is None:
        pytest.skip("needs CLIENTDOCK_TEST_POSTGRES_URL (row-level security is PostgreSQL's)")
    yield from _world("postgres", request, tmp_path_factory.mktemp("rls-pg"))


@pytest.fixture(scope="module", params=BACKENDS)
def seeded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    """The same on each backend (PostgreSQL's is :func:`pg`'s)."""
    if request.param == "postgres":
        yield request.getfixturevalue("pg")
    else:
        yield from _world("sqlite", request, tmp_path_factory.mktemp("rls-sqlite"))


def _table(name: str) -> Table:
    return Base.metadata.tables[name]


def _tenant_of(name: str) -> ColumnElement[str]:
    """The column saying which tenant a row of ``name`` belongs to (a child's: its parent's)."""
    if name in CHILD_TABLES:
        return select(ImportJob.tenant_id).where(ImportJob.id == ImportRow.job_id).scalar_subquery()
    column: ColumnElement[str] = _table(name).c.tenant_id
    return column


def _tenants_seen(database: Database, name: str, tenant: str | None) -> set[str]:
    """The tenants whose rows of ``name`` a query with no tenant filter returns."""
    with database.session() as session:
        if tenant is not None:
            bind_tenant(session, tenant)
        return {row for row in session.scalars(select(_tenant_of(name)).select_from(_table(name))) if row is not None}


# --- the list of tables is the models' --------------------------------------------------------------


def test_every_tenant_table_of_the_models_is_under_row_security_or_says_why() -> None:
    with_tenant = {table.name for table in Base.metadata.tables.values() if "tenant_id" in table.c}
    assert with_tenant - set(UNSECURED_TENANT_TABLES) <= ROW_SECURED_TABLES, "a table with tenant_id has no policy"
    assert ROW_SECURED_TABLES <= with_tenant | set(CHILD_TABLES), "a secured table is neither a tenant's nor a known child"
    assert all(reason.strip() for reason in UNSECURED_TENANT_TABLES.values())
    for child, parent in CHILD_TABLES.items():
        assert {parent, child} <= ROW_SECURED_TABLES


def test_the_database_has_a_policy_on_every_listed_table_and_grants_on_every_table(pg: Seeded) -> None:
    role = Settings().tenant_role
    with pg.database.engine.connect() as conn:
        secured = set(conn.execute(text("SELECT relname FROM pg_class WHERE relrowsecurity AND relkind = 'r'")).scalars())
        policies = set(conn.execute(text("SELECT tablename FROM pg_policies WHERE :role = ANY(roles)"), {"role": role}).scalars())
        for name in Base.metadata.tables:
            privileges = ("SELECT", "INSERT", "UPDATE", "DELETE")
            granted = [conn.scalar(text("SELECT has_table_privilege(:r, :t, :p)"), {"r": role, "t": name, "p": p}) for p in privileges]
            assert granted == [True] * 4, name
    assert secured == ROW_SECURED_TABLES
    assert policies == ROW_SECURED_TABLES


def test_the_seed_has_rows_of_both_tenants_in_every_secured_table(pg: Seeded) -> None:
    for name in sorted(ROW_SECURED_TABLES):
        assert {pg.a, pg.b} <= _tenants_seen(pg.database, name, None), name


# --- reads and writes of a bound session ------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(ROW_SECURED_TABLES))
def test_a_bound_session_sees_only_its_tenants_rows_without_any_filter(pg: Seeded, name: str) -> None:
    assert _tenants_seen(pg.database, name, pg.a) == {pg.a}
    assert _tenants_seen(pg.database, name, pg.b) == {pg.b}


def test_a_session_bound_to_a_tenant_that_has_nothing_sees_nothing(pg: Seeded) -> None:
    for name in sorted(ROW_SECURED_TABLES):
        assert _tenants_seen(pg.database, name, uuid.uuid4().hex) == set(), name


def test_an_unbound_session_is_system_work_and_sees_every_tenant(pg: Seeded) -> None:
    with pg.database.session() as session:
        assert bound_tenant(session) is None
        assert session.scalar(text("SELECT current_user")) == session.scalar(text("SELECT session_user"))
        assert set(session.scalars(select(_table("clients").c.tenant_id))) >= {pg.a, pg.b}


def test_a_bound_session_may_not_insert_a_row_of_another_tenant(pg: Seeded) -> None:
    with pg.database.sessions() as session:
        bind_tenant(session, pg.a)
        session.add(FileMapping(tenant_id=pg.b, headers_key="sneaked", headers=[], mapping={}))
        with pytest.raises(DBAPIError, match="row-level security"):
            session.flush()
    with pg.database.session() as session:
        assert session.get(FileMapping, (pg.b, "sneaked")) is None


def test_a_bound_session_may_not_move_its_row_to_another_tenant(pg: Seeded) -> None:
    mappings = _table("file_mappings")
    with pg.database.sessions() as session:
        bind_tenant(session, pg.a)
        moved = update(mappings).where(mappings.c.headers_key == "rls-a").values(tenant_id=pg.b)
        with pytest.raises(DBAPIError, match="row-level security"):
            session.execute(moved)


def test_a_bound_session_cannot_update_or_delete_another_tenants_rows_it_cannot_see(pg: Seeded) -> None:
    clients = _table("clients")
    with pg.database.session() as session:
        bind_tenant(session, pg.a)
        changed = session.execute(update(clients).where(clients.c.id == pg.b_client).values(name="taken over"))
        deleted = session.execute(clients.delete().where(clients.c.id == pg.b_client))
        assert (changed.rowcount, deleted.rowcount) == (0, 0)  # type: ignore[attr-defined]
    with pg.database.session() as session:
        assert session.scalar(select(clients.c.name).where(clients.c.id == pg.b_client)) == "Client of rls-b"


def _outcome(job_id: str | None, index: int) -> dict[str, object]:
    """A row of ``import_rows`` under the job ``job_id``."""
    return {"id": uuid.uuid4().hex, "job_id": job_id, "row_index": index, "line": index, "action": "created"} | {
        "errors": [],
        "messages": [],
        "warnings": [],
        "changes": {},
    }


#: ``rowwrite.SMALL_BATCH`` for the bulk-insert tests: 0 sends every row through a stage, the
#: default sends these few rows as plain INSERTs.
WRITE_PATHS = pytest.mark.parametrize("small_batch", [0, rowwrite.SMALL_BATCH], ids=["staged", "statements"])


@WRITE_PATHS
def test_a_bound_session_may_not_insert_an_outcome_row_under_another_tenants_import(
    pg: Seeded, small_batch: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The child table's policy asks its parent: a row under B's import is refused, by the
    bulk path (a stage, then INSERT: PostgreSQL refuses COPY into a secured table) too."""
    monkeypatch.setattr(rowwrite, "SMALL_BATCH", small_batch)
    with pg.database.session() as session:
        b_job = session.scalar(select(ImportJob.id).where(ImportJob.tenant_id == pg.b))
    with pg.database.sessions() as session:
        bind_tenant(session, pg.a)
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):  # from the driver's own cursor
            insert_rows(session, _table("import_rows"), [_outcome(b_job, 100)])


@WRITE_PATHS
def test_the_bulk_insert_of_a_bound_session_writes_its_own_rows(pg: Seeded, small_batch: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rowwrite, "SMALL_BATCH", small_batch)
    with pg.database.session() as session:
        a_job = session.scalar(select(ImportJob.id).where(ImportJob.tenant_id == pg.a))
    rows = [_outcome(a_job, 100 + i) for i in range(3)]
    ids = [row["id"] for row in rows]
    with pg.database.session() as session:
        bind_tenant(session, pg.a)
        insert_rows(session, _table("import_rows"), rows)
    with pg.database.session() as session:
        assert session.scalar(select(func.count()).select_from(ImportRow).where(ImportRow.id.in_(ids))) == 3
        session.execute(_table("import_rows").delete().where(ImportRow.id.in_(ids)))


# --- the binding's life -------------------------------------------------------------------------------


def test_the_binding_survives_a_commit_and_a_rollback_of_the_same_session(pg: Seeded) -> None:
    with pg.database.session() as session:
        bind_tenant(session, pg.a)
        assert _clients_tenants(session) == {pg.a}
        session.commit()
        assert _clients_tenants(session) == {pg.a}
        session.rollback()
        assert _clients_tenants(session) == {pg.a}


def test_binding_a_session_that_already_ran_a_statement_applies_at_once(pg: Seeded) -> None:
    with pg.database.session() as session:
        assert _clients_tenants(session) >= {pg.a, pg.b}
        bind_tenant(session, pg.b)
        assert _clients_tenants(session) == {pg.b}
        assert session.scalar(text("SELECT current_setting('clientdock.tenant_id')")) == pg.b


def test_nothing_of_the_binding_stays_on_the_pooled_connection(pg: Seeded) -> None:
    own = Database(pg.database.url)  # a pool of its own, so the next session gets the same connection
    try:
        with own.session() as session:
            bind_tenant(session, pg.a)
            assert session.scalar(text("SELECT current_user")) == Settings().tenant_role
            connection = session.connection().connection.dbapi_connection
        with own.session() as session:
            assert session.connection().connection.dbapi_connection is connection
            assert session.scalar(text("SELECT current_user")) == session.scalar(text("SELECT session_user"))
            assert session.scalar(text("SELECT current_setting('clientdock.tenant_id', true)")) in (None, "")
            assert _clients_tenants(session) >= {pg.a, pg.b}
    finally:
        own.dispose()


def test_login_role_work_inside_a_bound_session_ends_with_the_tenant_role_back(pg: Seeded) -> None:
    with pg.database.session() as session:
        bind_tenant(session, pg.a)
        with as_login_role(session):
            assert _clients_tenants(session) >= {pg.a, pg.b}
        assert _clients_tenants(session) == {pg.a}
        with pytest.raises(KeyError), as_login_role(session):
            raise KeyError("not a database error")
        assert _clients_tenants(session) == {pg.a}


def test_a_session_is_never_bound_to_a_second_tenant(seeded: Seeded) -> None:
    with seeded.database.session() as session:
        bind_tenant(session, seeded.a)
        bind_tenant(session, seeded.a)  # the same tenant again: nothing changes
        with pytest.raises(RuntimeError, match="already acts for tenant"):
            bind_tenant(session, seeded.b)
        assert bound_tenant(session) == seeded.a


def test_binding_hides_other_tenants_on_postgresql_and_only_records_the_tenant_on_sqlite(seeded: Seeded) -> None:
    with seeded.database.session() as session:
        bind_tenant(session, seeded.a)
        assert bound_tenant(session) == seeded.a
        if seeded.database.engine.dialect.name == "sqlite":
            assert _clients_tenants(session) >= {seeded.a, seeded.b}
        else:
            assert _clients_tenants(session) == {seeded.a}


def _clients_tenants(session: Session) -> set[str]:
    return set(session.scalars(select(_table("clients").c.tenant_id)))


# --- end to end: a route whose query forgot its tenant filter -------------------------------------------


def test_a_route_whose_query_forgot_the_tenant_filter_leaks_nothing_on_postgresql(seeded: Seeded, monkeypatch: pytest.MonkeyPatch) -> None:
    """``scoping.owned`` made to forget the tenant: every query built by ``readable`` then has no
    tenant filter. On SQLite (the control) tenant A's client list shows B's client; on
    PostgreSQL row-level security keeps it out."""
    monkeypatch.setattr(scoping, "owned", lambda model, tenant: true())
    listed = seeded.api.get(f"/tenants/{seeded.a_code}/clients", params={"pageSize": 100}, headers={"X-API-Key": seeded.a_key})
    assert listed.status_code == 200, listed.text
    ids = {item["id"] for item in listed.json()["items"]}
    if seeded.database.engine.dialect.name == "sqlite":
        assert seeded.b_client in ids  # the filter really was forgotten
    else:
        assert ids == {seeded.a_client}
    fetched = seeded.api.get(f"/tenants/{seeded.a_code}/clients/{seeded.b_client}", headers={"X-API-Key": seeded.a_key})
    assert fetched.status_code == (200 if seeded.database.engine.dialect.name == "sqlite" else 404), fetched.text


def test_postgresql_is_tested_when_its_url_is_set() -> None:
    assert ("postgres" in BACKENDS) == (POSTGRES_URL is not None)


def test_a_web_page_whose_query_forgot_its_filter_leaks_nothing_on_postgresql(seeded: Seeded, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same through the web pages: the signed-in user's dependency binds the page's session."""
    with TestClient(seeded.api.app, raise_server_exceptions=False) as browser:
        assert sign_in(browser, "someone@rls-a.test", PASSWORD).status_code == 303
        monkeypatch.setattr(scoping, "owned", lambda model, tenant: true())
        page = browser.get("/clients")
    assert page.status_code == 200, page.text
    assert "Client of rls-a" in page.text
    assert ("Client of rls-b" in page.text) == (seeded.database.engine.dialect.name == "sqlite")


def test_an_import_jobs_steps_run_bound_to_the_jobs_tenant(pg: Seeded) -> None:
    """A chunk, the end of a job and its finish hooks run in the session ``_lock_job`` bound."""
    with pg.database.session() as session:
        b_job = session.scalar(select(ImportJob.id).where(ImportJob.tenant_id == pg.b))
    assert b_job is not None
    with pg.database.session() as session:
        job = workflow._lock_job(session, b_job)  # noqa: SLF001
        assert bound_tenant(session) == job.tenant_id == pg.b
        assert session.scalar(text("SELECT current_user")) == Settings().tenant_role
        assert _clients_tenants(session) == {pg.b}


# --- the rest of the tenant's work runs bound too ---------------------------------------------------------


def _is_pg(seeded: Seeded) -> bool:
    return seeded.database.engine.dialect.name == "postgresql"


def _job_of(database: Database, tenant: str) -> str:
    with database.session() as session:
        job = session.scalar(select(ImportJob.id).where(ImportJob.tenant_id == tenant).limit(1))
    assert job is not None
    return job


def _tenant_row(database: Database, tenant_id: str) -> Tenant:
    with database.session() as session:
        return session.get_one(Tenant, tenant_id)


def _spy_binding(monkeypatch: pytest.MonkeyPatch, module: object, name: str) -> list[tuple[str | None, str | None]]:
    """Wrap ``module.name(session, ...)``: each call records the tenant its session is bound to
    and, on PostgreSQL, the role its transaction runs as."""
    real = getattr(module, name)
    seen: list[tuple[str | None, str | None]] = []

    def spy(session: Session, *args: object, **kwargs: object) -> object:
        role = session.scalar(text("SELECT current_user")) if session.get_bind().dialect.name == "postgresql" else None
        seen.append((bound_tenant(session), role))
        return real(session, *args, **kwargs)

    monkeypatch.setattr(module, name, spy)
    return seen


def _tenant_role(seeded: Seeded) -> str | None:
    return Settings().tenant_role if _is_pg(seeded) else None


def test_the_web_dialogs_wait_reads_the_job_bound_to_the_users_tenant(seeded: Seeded, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = _spy_binding(monkeypatch, import_flow, "wait_for")
    tenant_a = _tenant_row(seeded.database, seeded.a)
    import_flow.wait(seeded.database, WaiterCap(1), tenant_a, _job_of(seeded.database, seeded.a), 0)
    assert seen == [(seeded.a, _tenant_role(seeded))]
    b_job = _job_of(seeded.database, seeded.b)
    if _is_pg(seeded):
        with pytest.raises(NoResultFound):  # B's job is not there for A's wait
            import_flow.wait(seeded.database, WaiterCap(1), tenant_a, b_job, 0)
    else:
        import_flow.wait(seeded.database, WaiterCap(1), tenant_a, b_job, 0)  # the control: only the job id keeps it apart


def test_the_hybrid_answers_wait_reads_the_job_bound_to_its_tenant(seeded: Seeded, monkeypatch: pytest.MonkeyPatch) -> None:
    """Through an app door import (an item that fails: no client is made)."""
    seen = _spy_binding(monkeypatch, respond, "wait_for")
    body = {"import_params": {"upload_type": "single"}, "fields_mapping": {"not_a_field": "x"}}
    headers = {"X-API-Key": seeded.a_key, "Prefer": "wait=10"}
    done = seeded.api.post("/business/clients/v1/apps/rls_app/import", json=body, headers=headers)
    assert done.status_code in (201, 202), done.text
    assert seen == [(seeded.a, _tenant_role(seeded))]


def test_a_tenant_keys_idempotency_record_carries_its_tenant(seeded: Seeded) -> None:
    with seeded.database.session() as session:
        record = session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.key == f"seed-{seeded.a_code}"))
    assert record is not None
    assert (record.tenant_id, record.principal, record.status_code) == (seeded.a, hash_key(seeded.a_key)[:64], 200)


def test_an_idempotency_record_of_another_tenant_is_never_replayed_on_postgresql(seeded: Seeded) -> None:
    """A record under A's credential and Idempotency-Key that is B's (what the credential filter
    alone would find): SQLite, the control, replays it; on PostgreSQL the middleware's session,
    bound to A, does not see it, and the request is answered by the route."""
    path, body, key = f"/tenants/{seeded.a_code}/webhooks", b'{"url": "not a url"}', f"planted-{uuid.uuid4().hex}"
    digest = hashlib.sha256(path.encode() + b"\0\0\0" + body).hexdigest()
    with seeded.database.session() as session:
        session.add(
            IdempotencyRecord(
                principal=hash_key(seeded.a_key)[:64],
                tenant_id=seeded.b,
                key=key,
                request_hash=digest,
                status_code=201,
                response_body='{"planted": true}',
                response_headers={"content-type": "application/json"},
            )  # fmt: skip
        )
    try:
        headers = {"X-API-Key": seeded.a_key, "Idempotency-Key": key, "Content-Type": "application/json"}
        answer = seeded.api.post(path, content=body, headers=headers)
        if _is_pg(seeded):
            assert answer.status_code == 400, answer.text
            assert "Idempotent-Replayed" not in answer.headers
        else:
            assert (answer.status_code, answer.json()) == (201, {"planted": True})
    finally:
        with seeded.database.session() as session:
            session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.key == key))


def test_assignment_listing_by_a_tenant_admin_key_that_forgot_its_filter_leaks_nothing_on_postgresql(
    seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(apps, "owned", lambda model, tenant: true())
    listed = seeded.api.get("/v3/apps/app_assignments", headers={"X-API-Key": seeded.a_key})
    assert listed.status_code == 200, listed.text
    businesses = {row["assignee_id"] for row in listed.json()["data"]}
    if _is_pg(seeded):
        assert businesses == {seeded.a}
    else:
        assert seeded.b in businesses  # the filter really was forgotten


def test_managing_an_assignment_by_uid_with_a_tenant_admin_key_runs_bound(seeded: Seeded, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = _spy_binding(monkeypatch, apps, "get_assignment")
    with seeded.database.session() as session:
        mine, theirs = (session.scalar(select(AppAssignment.id).where(AppAssignment.tenant_id == t)) for t in (seeded.a, seeded.b))
    headers = {"X-API-Key": seeded.a_key}
    assert seeded.api.get(f"/v3/apps/app_assignments/{mine}", headers=headers).status_code == 200
    assert seeded.api.get(f"/v3/apps/app_assignments/{theirs}", headers=headers).status_code == 404
    assert seen == [(seeded.a, _tenant_role(seeded))] * 2


def test_the_app_doors_check_that_forgot_its_filter_admits_no_app_of_another_business_on_postgresql(
    seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An app assigned to B only, called with A's key: with the assignment query's tenant filter
    forgotten, SQLite (the control) finds B's assignment and lets it through to the import's
    lookup (404); on PostgreSQL the check's session, bound to A, finds none (403)."""
    code = "rls_b_only"
    with seeded.database.session() as session:
        if apps.find_app(session, code) is None:
            apps.register_app(session, name="b only", app_code_name=code, app_type="import_clients", redirect_uri="https://example.com/cb")
            apps.assign(session, seeded.platform, app_code_name=code, assignee_uid="rls-b", assignee_type="business", settings=None)
    monkeypatch.setattr(apps, "readable", lambda tenant, model: select(model))
    answer = seeded.api.get(f"/business/clients/v1/apps/{code}/imports/{uuid.uuid4().hex}", headers={"X-API-Key": seeded.a_key})
    assert answer.status_code == (403 if _is_pg(seeded) else 404), answer.text


def test_the_oauth_callback_works_bound_to_the_states_tenant(seeded: Seeded) -> None:
    state, nonce = uuid.uuid4().hex, uuid.uuid4().hex
    with seeded.database.session() as session:
        session.add(
            OAuthState(
                state_hash=hashlib.sha256(state.encode()).hexdigest(),
                tenant_id=seeded.b,
                provider="xero",
                code_verifier="v",
                browser_hash=hashlib.sha256(nonce.encode()).hexdigest(),
                expires_at=utcnow() + timedelta(minutes=5),
            )  # fmt: skip
        )
    with seeded.database.session() as session:
        callback = connections.Callback(state, error="access_denied", browser_nonce=nonce)
        with pytest.raises(connections.ConsentDenied):
            connections.complete_authorize(session, seeded.settings, "xero", callback)
        assert bound_tenant(session) == seeded.b
        if _is_pg(seeded):
            assert session.scalar(text("SELECT current_user")) == Settings().tenant_role
            assert _clients_tenants(session) == {seeded.b}


def test_a_connections_token_store_acts_for_its_tenant_only(pg: Seeded) -> None:
    with pg.database.session() as session:
        b_connection = session.scalar(select(Connection.id).where(Connection.tenant_id == pg.b))
    assert b_connection is not None
    with pytest.raises(NoResultFound):  # a store told tenant A sees no connection of B
        connections.ConnectionTokens(pg.database, pg.settings, pg.a, b_connection).revoked()
    with pg.database.session() as session:
        assert session.get_one(Connection, b_connection).status == "active"


def test_a_webhook_attempts_outcome_is_written_bound_to_the_deliverys_tenant(seeded: Seeded) -> None:
    """A delivery of B recorded as if it were A's changes nothing on PostgreSQL (the control,
    SQLite, writes it); recorded as B's, it is written."""
    with seeded.database.session() as session:
        hook = session.scalar(select(Webhook).where(Webhook.tenant_id == seeded.b).limit(1))
        assert hook is not None
        delivery = WebhookDelivery(
            tenant_id=seeded.b, webhook_id=hook.id, event="rls.test", attempts=1, next_attempt_at=utcnow() + timedelta(days=1)
        )
        session.add(delivery)
        session.flush()
        item = dispatcher.Claimed(delivery.id, seeded.a, hook.id, "rls.test", {}, utcnow(), 1, hook.url, hook.secret_encrypted)
    delivered = dispatcher.Outcome(status_code=200)
    try:
        dispatcher.record(seeded.database, item, delivered, utcnow())
        with seeded.database.session() as session:
            status = session.get_one(WebhookDelivery, item.id).status
        assert status == ("pending" if _is_pg(seeded) else "delivered")
        if _is_pg(seeded):
            dispatcher.record(seeded.database, replace(item, tenant_id=seeded.b), delivered, utcnow())
            with seeded.database.session() as session:
                assert session.get_one(WebhookDelivery, item.id).status == "delivered"
    finally:
        with seeded.database.session() as session:
            session.execute(delete(WebhookDelivery).where(WebhookDelivery.id == item.id))


def test_the_cli_imports_reads_are_bound_to_the_imports_tenant(seeded: Seeded) -> None:
    b_job = _job_of(seeded.database, seeded.b)
    assert cli_import._load(seeded.database, seeded.b, b_job).id == b_job  # noqa: SLF001
    if _is_pg(seeded):
        with pytest.raises(NoResultFound):
            cli_import._load(seeded.database, seeded.a, b_job)  # noqa: SLF001
    else:
        assert cli_import._load(seeded.database, seeded.a, b_job).id == b_job  # noqa: SLF001 (the control)
