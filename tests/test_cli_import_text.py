"""``clientdock import`` and the text rules of issue 14, as a real process: a mixed-encoding or
blank-only file is refused (exit 1) naming its lines and ``--encoding``, writing nothing, on
SQLite and (with ``--database-url``) PostgreSQL; ``--encoding`` is honoured strictly."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from clientdock.clients.models import Client
from clientdock.db import Database
from clientdock.jobs.models import ImportJob
from clientdock.migrate import upgrade
from tests.conftest import CORPUS, POSTGRES_URL, make_tenant, pg_drop, pg_url_for
from tests.test_cli_import import run

pytestmark = pytest.mark.slow

MIXED = CORPUS / "clients/mixed_utf8_cp1252.csv"
WINDOWS = CORPUS / "clients/windows1252_clients.csv"
BLANK = CORPUS / "clients/blank_only.csv"


def _postgres_url() -> Iterator[str]:
    import psycopg

    assert POSTGRES_URL
    name = f"cdclitext_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield pg_url_for(name)
    finally:
        pg_drop(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'clientdock.db'}"
        return
    if not POSTGRES_URL:
        pytest.skip("CLIENTDOCK_TEST_POSTGRES_URL not set")
    yield from _postgres_url()


def counts(url: str, tenant_id: str) -> tuple[int, int]:
    database = Database(url)
    try:
        with database.session() as session:
            clients = session.scalar(select(func.count()).select_from(Client).where(Client.tenant_id == tenant_id))
            jobs = session.scalar(select(func.count()).select_from(ImportJob).where(ImportJob.tenant_id == tenant_id))
            return int(clients or 0), int(jobs or 0)
    finally:
        database.dispose()


def prepared(url: str) -> tuple[str, str]:
    """A migrated database with one tenant: (tenant code, tenant id)."""
    upgrade(url)
    database = Database(url)
    try:
        tenant = make_tenant(database, code=f"t{uuid.uuid4().hex[:8]}")
    finally:
        database.dispose()
    return tenant.code, tenant.id


def test_a_mixed_file_exits_1_naming_its_lines_and_encoding_and_writes_nothing(database_url: str, tmp_path: Path) -> None:
    code, tenant_id = prepared(database_url)
    result = run(["import", str(MIXED), "--tenant", code, "--database-url", database_url], tmp_path / "data")
    assert result.returncode == 1, result.stdout + result.stderr
    text = " ".join(result.stdout.split())
    assert "not wholly UTF-8" in text
    assert "lines 5 and 6" in text
    assert "--encoding" in text
    assert "line 5 is not UTF-8" in text
    assert counts(database_url, tenant_id) == (0, 0)


def test_a_blank_only_file_exits_1_as_empty(database_url: str, tmp_path: Path) -> None:
    code, tenant_id = prepared(database_url)
    result = run(["import", str(BLANK), "--tenant", code, "--database-url", database_url], tmp_path / "data")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "The file is empty" in " ".join(result.stdout.split())
    assert "firstName" not in result.stdout
    assert counts(database_url, tenant_id) == (0, 0)


def test_encoding_is_honoured_strictly(database_url: str, tmp_path: Path) -> None:
    code, tenant_id = prepared(database_url)
    wrong = run(["import", str(WINDOWS), "--tenant", code, "--encoding", "utf-8", "--database-url", database_url], tmp_path / "data")
    assert wrong.returncode == 1, wrong.stdout + wrong.stderr
    assert re.search(r"lines 2,\s*3,\s*4,\s*5 and\s*6 cannot be decoded", wrong.stdout)
    assert counts(database_url, tenant_id) == (0, 0)
    right = run(["import", str(WINDOWS), "--tenant", code, "--encoding", "cp1252", "--database-url", database_url], tmp_path / "data")
    assert right.returncode == 0, right.stdout + right.stderr
    assert re.search(r"created\s*│\s*5", right.stdout)
    assert counts(database_url, tenant_id) == (5, 1)
