"""A database too busy to take a request in time is answered 503 with Retry-After (problem
details, documented), never 500, and nothing of the request is written."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, select

from clientdock import db as dbmodule
from clientdock.app import create_app
from clientdock.clients.models import Client
from clientdock.db import Database, normalise_url
from clientdock.problems import BUSY_RETRY_AFTER
from clientdock.settings import Settings
from tests.conftest import BACKENDS, TenantInfo, make_tenant, new_database_url
from tests.contract import assert_documented

UPSERT = "/tenants/{tenant}/clients/upsert"


def _assert_busy(client: TestClient, tenant: TenantInfo) -> None:
    answer = client.post(tenant.path("/clients/upsert"), json={"trackingId": "t-1", "name": "Ada"}, headers=tenant.headers)
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == str(BUSY_RETRY_AFTER)
    assert answer.headers["content-type"] == "application/problem+json"
    assert "nothing was written" in answer.json()["detail"]
    assert_documented(client, answer, "post", UPSERT)


def test_sqlite_locked_by_another_process_answers_503_and_writes_nothing(
    tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    db_url, _ = new_database_url("sqlite", tmp_path, request)
    monkeypatch.setattr(dbmodule, "SQLITE_BUSY_TIMEOUT_SECONDS", 0.2)
    database = Database(db_url)
    tenant = make_tenant(database)
    app = create_app(Settings(data_dir=tmp_path / "data", database_url=db_url), database)
    other = sqlite3.connect(normalise_url(db_url).removeprefix("sqlite:///"), isolation_level=None)
    try:
        with TestClient(app) as client:
            assert client.get(tenant.path("/clients"), headers=tenant.headers).status_code == 200  # the key is read and kept
            other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
            _assert_busy(client, tenant)
            other.execute("ROLLBACK")
            with database.session() as session:
                assert session.scalar(select(func.count()).select_from(Client)) == 0
            after = client.post(tenant.path("/clients/upsert"), json={"trackingId": "t-1", "name": "Ada"}, headers=tenant.headers)
            assert after.status_code == 201
    finally:
        other.close()
        database.dispose()


@pytest.mark.parametrize("backend", [b for b in BACKENDS if b == "postgres"])
def test_postgresql_without_a_free_connection_in_time_answers_503(backend: str, db_url: str, tmp_path: Path) -> None:
    database = Database(db_url)
    tenant = make_tenant(database)
    small = create_engine(normalise_url(db_url), pool_size=1, max_overflow=0, pool_timeout=0.2)
    for maker in (database.sessions, database.read_sessions):
        maker.configure(bind=small)
    app = create_app(Settings(data_dir=tmp_path / "data", database_url=db_url), database)
    try:
        with TestClient(app) as client:
            held = small.connect()  # the pool's only connection is busy elsewhere
            try:
                _assert_busy(client, tenant)
            finally:
                held.close()
            with database.session() as session:
                assert session.scalar(select(func.count()).select_from(Client)) == 0
    finally:
        small.dispose()
        database.dispose()
