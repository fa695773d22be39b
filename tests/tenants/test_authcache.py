"""The short-lived cache of keys and tenant contexts, and the SQLite sessions behind the auth:
a change made through this process applies at once, a read never breaks a concurrent writer."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from clientdock.clients.models import Client
from clientdock.db import WRITERS, Database
from clientdock.imports import single
from clientdock.tenants import service
from clientdock.tenants.authcache import CACHE, AuthCache
from clientdock.tenants.context import load_context
from clientdock.tenants.models import Tenant
from tests.concurrency import run_concurrently
from tests.conftest import TenantInfo, make_tenant


def test_a_key_revoked_after_it_was_cached_is_refused_at_once(client: TestClient, database: Database, tenant: TenantInfo) -> None:
    assert client.get(tenant.path("/clients"), headers=tenant.headers).status_code == 200
    with database.session() as session:
        key = service.find_key(session, tenant.key)
        assert key is not None
        service.revoke_key(session, key.id)
    response = client.get(tenant.path("/clients"), headers=tenant.headers)
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


def test_a_changed_setting_applies_to_the_next_request(client: TestClient, tenant: TenantInfo) -> None:
    upsert = tenant.path("/clients/upsert")
    assert client.post(upsert, json={"trackingId": "a", "name": "A"}, headers=tenant.headers).json()["project"] is None
    changed = client.patch(tenant.path("/settings"), json={"defaultProject": "p1"}, headers=tenant.headers)
    assert changed.status_code == 200
    assert client.get(tenant.path("/settings"), headers=tenant.headers).json()["defaultProject"] == "p1"
    assert client.post(upsert, json={"trackingId": "b", "name": "B"}, headers=tenant.headers).json()["project"] == "p1"


def test_a_cached_tenant_still_checks_each_keys_scope(client: TestClient, database: Database, tenant: TenantInfo) -> None:
    assert client.post(tenant.path("/clients/upsert"), json={"trackingId": "a", "name": "A"}, headers=tenant.headers).status_code == 201
    with database.session() as session:
        reader = service.issue_key(session, kind="tenant", tenant_id=tenant.id, scopes=["clients:read"])
    headers = {"X-API-Key": reader.key}
    assert client.get(tenant.path("/clients"), headers=headers).status_code == 200
    response = client.post(tenant.path("/clients/upsert"), json={"trackingId": "a", "name": "A"}, headers=headers)
    assert response.status_code == 403
    assert "clients:write" in response.json()["detail"]


def test_refusals_are_not_cached(client: TestClient, database: Database, tenant: TenantInfo, other_tenant: TenantInfo) -> None:
    assert client.get(tenant.path("/clients"), headers=other_tenant.headers).status_code == 403
    assert client.get("/tenants/later/clients", headers=tenant.headers).status_code == 403
    with database.session() as session:
        # The tenant 'later' now exists, and the key is moved to it (a change no route makes).
        later = service.create_tenant(session, "later")
        key = service.find_key(session, tenant.key)
        assert key is not None
        key.tenant_id = later.id
    assert client.get("/tenants/later/clients", headers=tenant.headers).status_code == 200


def test_the_cache_forgets_after_its_time_and_when_emptied() -> None:
    expired = AuthCache(ttl=-1.0)
    expired.put("k", "v", expired.generation)
    assert expired.get("k") is None
    cache = AuthCache()
    cache.put("k", "v", cache.generation)
    assert cache.get("k") == "v"
    cache.clear()
    assert cache.get("k") is None


def test_a_read_that_raced_a_change_is_not_kept() -> None:
    cache = AuthCache()
    read_at = cache.generation
    cache.clear()  # a key was revoked while the read ran
    cache.put("k", "stale", read_at)
    assert cache.get("k") is None


def test_a_rolled_back_change_empties_nothing_at_commit(database: Database, tenant: TenantInfo) -> None:
    with database.session() as session:
        key = service.find_key(session, tenant.key)
        assert key is not None
        key.scopes = ["clients:read"]
        session.flush()
        session.rollback()
        CACHE.put("probe", "kept", CACHE.generation)
    assert CACHE.get("probe") == "kept"
    CACHE.clear()


def test_read_sessions_beside_concurrent_writers(database: Database, tenant: TenantInfo) -> None:
    """Deferred reads (the auth's) and writers that begin at once all succeed, and every write lands."""
    with database.read_session() as session:
        row = session.scalar(select(Tenant).where(Tenant.code == tenant.code))
        assert row is not None
        ctx = load_context(session, row)
    counter = iter(range(1000))

    def read_or_write() -> str:
        n = next(counter)
        if n % 2:
            with database.read_session() as session:
                assert service.find_key(session, tenant.key) is not None
            return "read"
        with database.session() as session:
            single.upsert(session, ctx, {"trackingId": f"t{n}", "name": f"N{n}"})
        return "wrote"

    results = run_concurrently(16, read_or_write)
    assert sorted(results) == ["read"] * 8 + ["wrote"] * 8
    with database.read_session() as session:
        assert session.scalar(select(func.count()).select_from(Client).where(Client.tenant_id == tenant.id)) == 8


def test_concurrent_upserts_of_other_tenants_all_land(client: TestClient, database: Database, tenant: TenantInfo) -> None:
    second = make_tenant(database)
    counter = iter(range(1000))

    def upsert() -> int:
        n = next(counter)
        who = tenant if n % 2 else second
        return client.post(who.path("/clients/upsert"), json={"trackingId": f"t{n}", "name": f"N{n}"}, headers=who.headers).status_code

    assert run_concurrently(12, upsert) == [201] * 12


def test_sqlite_writers_mutex_is_free_after_commits_rollbacks_and_failures(
    client: TestClient, database: Database, tenant: TenantInfo
) -> None:
    writers = WRITERS.get(database.engine)
    if writers is None:  # PostgreSQL: no mutex, its row locks do the queueing
        assert database.engine.dialect.name == "postgresql"
        return
    upsert = tenant.path("/clients/upsert")
    assert client.post(upsert, json={"trackingId": "a", "name": "A"}, headers=tenant.headers).status_code == 201
    assert not writers.locked()
    assert client.post(upsert, json={"trackingId": "b"}, headers=tenant.headers).status_code == 400
    assert not writers.locked()

    def fail_inside_a_transaction() -> None:
        with database.session() as session:
            session.execute(select(func.count()).select_from(Client))
            assert writers.locked()
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        fail_inside_a_transaction()
    assert not writers.locked()
    session = database.sessions()
    session.execute(select(func.count()).select_from(Client))
    session.close()  # neither committed nor rolled back by hand
    assert not writers.locked()


@pytest.mark.parametrize("end", ["commit", "rollback"])
def test_sqlite_writers_mutex_is_handed_on_only_after_sqlite_ended_the_transaction(database: Database, end: str) -> None:
    """SQLite runs the COMMIT (or ROLLBACK) while the mutex is still held: a writer let in
    before would meet the file lock and sleep in SQLite's busy handler."""
    writers = WRITERS.get(database.engine)
    if writers is None:  # PostgreSQL: no mutex
        assert database.engine.dialect.name == "postgresql"
        return
    held_at_end: list[bool] = []

    def trace(statement: str) -> None:
        if statement.strip().upper() in ("COMMIT", "ROLLBACK"):
            held_at_end.append(writers.locked())

    session = database.sessions()
    session.execute(select(func.count()).select_from(Client))
    driver = session.connection().connection.driver_connection
    assert driver is not None
    driver.set_trace_callback(trace)
    try:
        session.commit() if end == "commit" else session.rollback()
    finally:
        session.close()
    assert held_at_end == [True]
    assert not writers.locked()
