"""Shared fixtures: a fresh, migrated database per test (SQLite always, PostgreSQL when
CLIENTDOCK_TEST_POSTGRES_URL is set), the app on it, and tenant factories.

Isolation is cheap: migrations run once into a template (a SQLite file that is copied, a
PostgreSQL database used as TEMPLATE), and each test gets its own copy, dropped afterwards.
"""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from clientdock.app import create_app
from clientdock.db import Database
from clientdock.logs import configure as configure_logs
from clientdock.migrate import upgrade
from clientdock.settings import Settings
from clientdock.tenants import service as tenants
from tests.fakes.companies_house import CompaniesHouseFake

# No secret in any log line of the run: every process that runs tests watches its logs
# (tests/secret_watch.py; `-p no:tests.secret_watch` turns it off).
pytest_plugins = ["tests.secret_watch"]

# The suite sends many requests with one key within a second (loops of upserts, the fuzzer, the
# processes it starts inherit this too): a per-key rate limit far above that keeps every test but
# those of the limit itself (tests/tenants/test_ratelimit.py sets its own) from meeting it, while
# the limiter still runs on every request with a key.
os.environ["CLIENTDOCK_RATE_LIMIT_PER_SECOND"] = "1000000"
os.environ["CLIENTDOCK_RATE_LIMIT_BURST"] = "1000000"

# Log as the service does (``clientdock.logs.configure``): structlog's own default renders an
# exception with the local variables of every frame, settings and tokens among them, which the
# service's format never prints (a failed job's traceback in a link-fuzzing run leaked them).
configure_logs(json_logs=False, level=logging.DEBUG)

POSTGRES_URL = os.environ.get("CLIENTDOCK_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", *(["postgres"] if POSTGRES_URL else [])]
CORPUS = Path(__file__).parent / "corpus"


def _pg_admin() -> psycopg.Connection[tuple[object, ...]]:
    assert POSTGRES_URL
    return psycopg.connect(POSTGRES_URL, autocommit=True)


def pg_url_for(name: str) -> str:
    assert POSTGRES_URL
    base, _, _ = POSTGRES_URL.rpartition("/")
    return f"{base}/{name}"


def pg_drop(name: str) -> None:
    with _pg_admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    Database(f"sqlite:///{path}").engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    name = f"cdtest_tmpl_{uuid.uuid4().hex[:10]}"
    with _pg_admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    upgrade(pg_url_for(name))
    yield name
    pg_drop(name)


def new_database_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> tuple[str, str | None]:
    """A fresh migrated database; returns (url, PostgreSQL name to drop or None)."""
    if backend == "sqlite":
        target = tmp_path / f"clientdock-{uuid.uuid4().hex[:6]}.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), target)
        return f"sqlite:///{target}", None
    template = request.getfixturevalue("pg_template")
    name = f"cdtest_{uuid.uuid4().hex[:12]}"
    with _pg_admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return pg_url_for(name), name


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    url, pg_name = new_database_url(backend, tmp_path, request)
    yield url
    if pg_name:
        pg_drop(pg_name)


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    db = Database(db_url)
    yield db
    db.dispose()


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=db_url, sync_wait_seconds=10, allow_private_webhooks=True)


@pytest.fixture
def app(settings: Settings, database: Database) -> FastAPI:
    return create_app(settings, database)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@dataclass(frozen=True)
class TenantInfo:
    code: str
    id: str
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"X-API-Key": self.key}

    def path(self, suffix: str) -> str:
        return f"/tenants/{self.code}{suffix}"


def make_tenant(database: Database, *, code: str | None = None, scopes: list[str] | None = None) -> TenantInfo:
    code = code or f"t{uuid.uuid4().hex[:8]}"
    with database.session() as session:
        tenant = tenants.create_tenant(session, code)
        issued = tenants.issue_key(session, kind="tenant", tenant_id=tenant.id, scopes=scopes)
    return TenantInfo(code, tenant.id, issued.key)


@pytest.fixture
def tenant(database: Database) -> TenantInfo:
    return make_tenant(database, code="acme")


@pytest.fixture
def other_tenant(database: Database) -> TenantInfo:
    return make_tenant(database, code="beta")


@pytest.fixture
def register() -> Iterator[CompaniesHouseFake]:
    """A fake Companies House on loopback, with the register's example companies."""
    fake = CompaniesHouseFake()
    fake.seed_examples()
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()
