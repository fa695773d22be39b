"""Migrations: several processes starting together against one new PostgreSQL database migrate
one after the other (an advisory lock), so each succeeds and the schema is whole."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text

from clientdock.db import Database
from clientdock.migrate import MIGRATION_LOCK, alembic_config, upgrade
from tests.concurrency import run_concurrently
from tests.conftest import POSTGRES_URL, pg_url_for

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
