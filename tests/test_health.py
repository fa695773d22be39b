"""``GET /healthz`` answers while a write transaction is open: a probe must never queue behind
an import's chunk (on SQLite the writers take turns; the probe reads through the read engine)."""

from __future__ import annotations

import threading

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, update

from clientdock.db import Database
from clientdock.tenants.models import Tenant
from tests.conftest import TenantInfo


def test_health_answers_while_a_writer_holds_its_transaction(client: TestClient, database: Database, tenant: TenantInfo) -> None:
    holding, release = threading.Event(), threading.Event()

    def writer() -> None:
        with database.session() as session:
            session.execute(update(Tenant).where(Tenant.id == tenant.id).values(name="Being written"))
            holding.set()
            release.wait(60)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert holding.wait(30)
        answer = client.get("/healthz")
        still_writing = not release.is_set() and thread.is_alive()
    finally:
        release.set()
        thread.join()
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "ok"
    assert still_writing


def test_health_is_503_naming_the_cause_when_the_database_cannot_be_reached(client: TestClient, database: Database) -> None:
    url = database.read_engine.url
    unreachable = url.set(database="/nonexistent/folder/clientdock.db") if url.get_backend_name() == "sqlite" else url.set(port=1)
    original, database.read_engine = database.read_engine, create_engine(unreachable)
    try:
        answer = client.get("/healthz")
    finally:
        database.read_engine.dispose()
        database.read_engine = original
    assert answer.status_code == 503
    assert answer.json()["status"] == "unavailable"
