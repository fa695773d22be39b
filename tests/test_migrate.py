"""Migrations: several processes starting together against one new PostgreSQL database migrate
one after the other (an advisory lock), so each succeeds and the schema is whole. A migration
that fills a new column from data already kept is shown doing so on both databases."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from clientdock.db import Database, normalise_url
from clientdock.migrate import MIGRATION_LOCK, alembic_config, upgrade
from tests.concurrency import run_concurrently
from tests.conftest import BACKENDS, POSTGRES_URL, pg_url_for

PROCESSES = 4


@pytest.fixture
def empty_pg() -> Iterator[str]:
    if POSTGRES_URL is None:
        pytest.skip("needs CLIENTDOCK_TEST_POSTGRES_URL (CI sets it)")
    name = f"cdtest_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield pg_url_for(name)
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def applied(url: str) -> set[str]:
    db = Database(url)
    try:
        with db.engine.connect() as conn:
            return {str(v) for v in conn.execute(text("SELECT version_num FROM alembic_version")).scalars()}
    finally:
        db.dispose()


def heads(url: str) -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config(url)).get_heads())


@pytest.mark.slow
def test_processes_migrating_one_new_database_at_once_all_succeed(empty_pg: str) -> None:
    code = "import sys; from clientdock.migrate import upgrade; upgrade(sys.argv[1])"
    started = [subprocess.Popen([sys.executable, "-c", code, empty_pg], stderr=subprocess.PIPE, text=True) for _ in range(PROCESSES)]
    results = [(proc.wait(timeout=300), proc.stderr.read() if proc.stderr else "") for proc in started]
    assert [rc for rc, _ in results] == [0] * PROCESSES, [err[-2000:] for rc, err in results if rc]
    assert applied(empty_pg) == heads(empty_pg)


def test_threads_of_one_process_wait_for_each_other_too(empty_pg: str) -> None:
    """The lock is a session lock on a connection of each upgrade's own, so it serialises within a process as well."""
    run_concurrently(3, lambda: upgrade(empty_pg))
    assert applied(empty_pg) == heads(empty_pg)


def test_the_lock_is_released_after_the_upgrade(empty_pg: str) -> None:
    upgrade(empty_pg)
    with psycopg.connect(empty_pg, autocommit=True) as conn:
        assert conn.execute("SELECT pg_try_advisory_lock(%s)", (MIGRATION_LOCK,)).fetchone() == (True,)
    upgrade(empty_pg)  # nothing left to do, and nothing waits
    assert applied(empty_pg) == heads(empty_pg)


@pytest.mark.slow
def test_the_cli_migrates_the_job_engines_tables_too(empty_pg: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "clientdock.cli", "migrate", "--database-url", empty_pg],
        capture_output=True, text=True, timeout=300, check=False, env={**os.environ},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    with psycopg.connect(empty_pg, autocommit=True) as conn:
        assert conn.execute("SELECT to_regclass('dbos.workflow_status') IS NOT NULL").fetchone() == (True,)
    assert applied(empty_pg) == heads(empty_pg)


@pytest.fixture(params=BACKENDS)
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database with no schema yet, on each backend."""
    if request.param == "postgres":
        url: str = request.getfixturevalue("empty_pg")
        return url
    return f"sqlite:///{tmp_path / 'empty.db'}"


def test_0017_gives_the_idempotency_records_already_kept_the_tenant_of_their_key(empty_database: str) -> None:
    """A tenant key's record gets the key's tenant (so its retry after the upgrade, now read
    bound to the tenant, is still replayed); a platform key's, or one of a key since deleted, none."""
    config = alembic_config(empty_database)
    command.upgrade(config, "0016_row_security")
    engine = create_engine(normalise_url(empty_database))
    now = "CURRENT_TIMESTAMP"
    try:
        with engine.begin() as conn:
            conn.execute(text(f"INSERT INTO tenants (id, code, name, settings, created_at) VALUES ('t1', 'one', 'One', '{{}}', {now})"))
            for key_id, kind, tenant in (("k1", "tenant", "'t1'"), ("k2", "platform", "NULL")):
                conn.execute(
                    text(
                        "INSERT INTO api_keys (id, kind, tenant_id, prefix, secret_hash, scopes, created_at) "
                        f"VALUES (:id, :kind, {tenant}, :id, :hash, '[]', {now})"
                    ),
                    {"id": key_id, "kind": kind, "hash": f"hash-of-{key_id}"},
                )
            for principal in ("hash-of-k1", "hash-of-k2", "hash-of-a-deleted-key"):
                conn.execute(
                    text(
                        "INSERT INTO idempotency_keys (id, principal, key, request_hash, response_headers, created_at) "
                        f"VALUES (:principal, :principal, 'retry-1', 'h', '{{}}', {now})"
                    ),
                    {"principal": principal},
                )
        upgrade(empty_database)
        with engine.connect() as conn:
            rows = {principal: tenant for principal, tenant in conn.execute(text("SELECT principal, tenant_id FROM idempotency_keys"))}
        assert rows == {"hash-of-k1": "t1", "hash-of-k2": None, "hash-of-a-deleted-key": None}
        command.downgrade(config, "0016_row_security")
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT count(*) FROM idempotency_keys")) == 3
        upgrade(empty_database)
        assert applied(empty_database) == heads(empty_database)
    finally:
        engine.dispose()
