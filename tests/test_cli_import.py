"""``clientdock import FILE --tenant CODE``, run as a real process: each exit code, the error
report it writes, dry runs, a mapping file, and ``--database-url`` (PostgreSQL when given)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from clientdock.db import Database
from clientdock.migrate import upgrade
from tests.conftest import CORPUS, POSTGRES_URL, make_tenant, pg_drop, pg_url_for
from tests.imports.csv_support import csv_bytes, parse_csv

CLI = [sys.executable, "-m", "clientdock.cli"]
pytestmark = pytest.mark.slow


def run(args: list[str], data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CLIENTDOCK_DATA_DIR": str(data_dir), "COLUMNS": "200"}
    env.pop("CLIENTDOCK_DATABASE_URL", None)
    return subprocess.run([*CLI, *args], capture_output=True, text=True, env=env, timeout=180, check=False)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cli-import")
    assert run(["migrate"], folder).returncode == 0
    return folder


def new_tenant(data_dir: Path) -> str:
    code = f"t{uuid.uuid4().hex[:8]}"
    assert run(["tenant", "create", code], data_dir).returncode == 0
    return code


def clients_of(data_dir: Path, code: str) -> list[dict[str, str]]:
    from clientdock.clients.export import client_rows
    from clientdock.clients.repository import ClientFilter
    from clientdock.tenants.context import load_context
    from clientdock.tenants.service import get_tenant

    database = Database(f"sqlite:///{data_dir / 'clientdock.db'}")
    try:
        with database.session() as session:
            ctx = load_context(session, get_tenant(session, code))
        header = ["ID", "firstName", "lastName", "email"]
        return [dict(zip(header, row[:4], strict=True)) for row in client_rows(database.session, ctx, ClientFilter())]
    finally:
        database.dispose()


def test_every_row_imported_exits_0_with_a_summary(data_dir: Path, tmp_path: Path) -> None:
    code = new_tenant(data_dir)
    file = tmp_path / "clients.csv"
    file.write_bytes(csv_bytes([["First Name", "E-mail"], ["Ann", "ann@firm.example.org"], ["Bo", "bo@firm.example.org"]]))
    result = run(["import", str(file), "--tenant", code], data_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Import succeeded" in result.stdout
    assert re.search(r"created\s*│\s*2", result.stdout)
    assert "rows/s" in result.stdout
    assert {c["email"] for c in clients_of(data_dir, code)} == {"ann@firm.example.org", "bo@firm.example.org"}


def test_some_rows_failed_exits_2_and_writes_the_error_report(data_dir: Path) -> None:
    code = new_tenant(data_dir)
    result = run(["import", str(CORPUS / "clients/basics_clients.csv"), "--tenant", code], data_dir)
    assert result.returncode == 2, result.stdout + result.stderr
    assert re.search(r"failed\s*│\s*5", result.stdout)
    assert re.search(r"blank \(skipped\)\s*│\s*1", result.stdout)
    match = re.search(r"(/\S+errors\.csv)", result.stdout.replace("\n", ""))
    assert match, result.stdout
    report = parse_csv(Path(match.group(1)).read_text(encoding="utf-8"))
    assert report[0] == ["First Name", "Last Name", "E-mail", "Active", "Type", "Mobile", "reason", "warning"]
    assert len(report) == 6
    assert len(clients_of(data_dir, code)) == 8


def test_rows_with_warnings_import_exit_0_and_get_a_report(data_dir: Path, tmp_path: Path) -> None:
    code = new_tenant(data_dir)
    file = tmp_path / "birthdays.csv"
    file.write_bytes(
        csv_bytes([["First Name", "E-mail", "Birthday"], ["Ann", "ann@firm.example.org", "03/14"], ["Bo", "bo@firm.example.org", ""]])
    )
    result = run(["import", str(file), "--tenant", code], data_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"created\s*│\s*2", result.stdout)
    assert re.search(r"with warnings\s*│\s*1", result.stdout)
    match = re.search(r"(/\S+errors\.csv)", result.stdout.replace("\n", ""))
    assert match, result.stdout
    report = parse_csv(Path(match.group(1)).read_text(encoding="utf-8"))
    assert report == [
        ["First Name", "E-mail", "Birthday", "reason", "warning"],
        ["Ann", "ann@firm.example.org", "03/14", "", "Date of birth '03/14' has no year (use YYYY-MM-DD); the field was left as it was"],
    ]


def test_a_refused_file_exits_1_and_writes_nothing(data_dir: Path) -> None:
    code = new_tenant(data_dir)
    for path in ("conformance/messytables/simple.zip", "conformance/csv-spectrum/csvs/simple.csv"):
        result = run(["import", str(CORPUS / path), "--tenant", code], data_dir)
        assert result.returncode == 1, result.stdout + result.stderr
        assert "refused" in result.stdout
    assert clients_of(data_dir, code) == []
    assert run(["import", str(CORPUS / "clients/basics_clients.csv"), "--tenant", "nobody"], data_dir).returncode == 1
    assert run(["import", "/no/such/file.csv", "--tenant", code], data_dir).returncode == 1


def test_dry_run_and_a_mapping_file(data_dir: Path, tmp_path: Path) -> None:
    code = new_tenant(data_dir)
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"Given Name": "firstName", "Family Name": "lastName", "E-mail 1 - Value": "email"}))
    google = str(CORPUS / "exports/google_contacts.csv")
    dry = run(["import", google, "--tenant", code, "--mapping", str(mapping), "--dry-run"], data_dir)
    assert dry.returncode == 0, dry.stdout + dry.stderr  # the company card without a given name is an organisation
    assert "Dry run succeeded" in dry.stdout
    assert re.search(r"created\s*│\s*9", dry.stdout)
    assert clients_of(data_dir, code) == []
    real = run(["import", google, "--tenant", code, "--mapping", str(mapping)], data_dir)
    assert real.returncode == 0
    assert len(clients_of(data_dir, code)) == 9
    mapping.write_text('{"Given Name": "favouriteColour"}')
    assert run(["import", google, "--tenant", code, "--mapping", str(mapping)], data_dir).returncode == 1


@pytest.mark.skipif(not POSTGRES_URL, reason="CLIENTDOCK_TEST_POSTGRES_URL not set")
def test_database_url_imports_into_postgresql(tmp_path: Path) -> None:
    name = f"cdcli_{uuid.uuid4().hex[:10]}"
    import psycopg

    assert POSTGRES_URL
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = pg_url_for(name)
    try:
        upgrade(url)
        database = Database(url)
        tenant = make_tenant(database, code="pgfirm")
        database.dispose()
        file = tmp_path / "clients.csv"
        file.write_bytes(csv_bytes([["firstName", "email"], ["Ann", "ann@firm.example.org"]]))
        result = run(["import", str(file), "--tenant", tenant.code, "--database-url", url], tmp_path / "data")
        assert result.returncode == 0, result.stdout + result.stderr
        assert re.search(r"created\s*│\s*1", result.stdout)
    finally:
        pg_drop(name)


def phones_of(data_dir: Path, code: str) -> dict[str, str | None]:
    from clientdock.clients.models import Client
    from clientdock.tenants.service import get_tenant

    database = Database(f"sqlite:///{data_dir / 'clientdock.db'}")
    try:
        with database.session() as session:
            tenant = get_tenant(session, code)
            return {c.email: c.phone for c in session.query(Client).filter(Client.tenant_id == tenant.id) if c.email}
    finally:
        database.dispose()


def test_on_existing_fill_empty_and_skip_show_their_updates(data_dir: Path, tmp_path: Path) -> None:
    code = new_tenant(data_dir)
    first, again = tmp_path / "first.csv", tmp_path / "again.csv"
    first.write_bytes(csv_bytes([["First Name", "Email", "Phone"], ["Ann", "ann@firm.example.org", "+44 20 7946 0001"],
                                 ["Bo", "bo@firm.example.org", ""]]))  # fmt: skip
    again.write_bytes(csv_bytes([["First Name", "Email", "Phone"], ["Ann", "ann@firm.example.org", "+44 20 7946 0999"],
                                 ["Bo", "bo@firm.example.org", "+44 20 7946 0002"]]))  # fmt: skip
    assert run(["import", str(first), "--tenant", code], data_dir).returncode == 0

    dry = run(["import", str(again), "--tenant", code, "--on-existing", "fillEmpty", "--dry-run"], data_dir)
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert "existing clients: fillEmpty" in dry.stdout
    assert "1 existing client(s) would change:" in dry.stdout
    assert 'line 3 phone: null → "+44 20 7946 0002"' in dry.stdout
    assert "line 2 phone" not in dry.stdout

    skipped = run(["import", str(again), "--tenant", code, "--on-existing", "skip"], data_dir)
    assert skipped.returncode == 0, skipped.stdout + skipped.stderr
    assert re.search(r"skipped\s*│\s*2", skipped.stdout)
    assert phones_of(data_dir, code) == {"ann@firm.example.org": "+44 20 7946 0001", "bo@firm.example.org": None}

    filled = run(["import", str(again), "--tenant", code, "--on-existing", "fillEmpty"], data_dir)
    assert "1 existing client(s) changed:" in filled.stdout
    assert phones_of(data_dir, code) == {"ann@firm.example.org": "+44 20 7946 0001", "bo@firm.example.org": "+44 20 7946 0002"}

    refused = run(["import", str(again), "--tenant", code, "--on-existing", "overwrite"], data_dir)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "--on-existing: must be one of update, fillEmpty, skip, not 'overwrite'" in refused.stdout


@pytest.mark.skipif(not POSTGRES_URL, reason="CLIENTDOCK_TEST_POSTGRES_URL not set")
def test_on_existing_on_postgresql(tmp_path: Path) -> None:
    import psycopg

    name = f"cdcli_{uuid.uuid4().hex[:10]}"
    assert POSTGRES_URL
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = pg_url_for(name)
    try:
        upgrade(url)
        database = Database(url)
        tenant = make_tenant(database, code="pgfill")
        database.dispose()
        first, again = tmp_path / "first.csv", tmp_path / "again.csv"
        first.write_bytes(csv_bytes([["firstName", "email", "company"], ["Ann", "ann@firm.example.org", ""]]))
        again.write_bytes(csv_bytes([["firstName", "email", "company"], ["Annie", "ann@firm.example.org", "Ann Ltd"]]))
        base = ["--tenant", tenant.code, "--database-url", url]
        assert run(["import", str(first), *base], tmp_path / "data").returncode == 0
        skipped = run(["import", str(again), *base, "--on-existing", "skip"], tmp_path / "data")
        assert re.search(r"skipped\s*│\s*1", skipped.stdout), skipped.stdout + skipped.stderr
        filled = run(["import", str(again), *base, "--on-existing", "fillEmpty"], tmp_path / "data")
        assert filled.returncode == 0, filled.stdout + filled.stderr
        assert 'line 2 company: null → "Ann Ltd"' in filled.stdout
        assert "firstName" not in filled.stdout.split("changed:")[1]
    finally:
        pg_drop(name)
