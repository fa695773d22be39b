"""``clientdock user create`` as a real process, and the demo user of the first ``serve``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clientdock.db import Database
from clientdock.server import DEMO_EMAIL, ensure_demo_tenant
from clientdock.users import service as users
from tests.concurrency import run_concurrently
from tests.test_cli import run


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    assert run(["migrate"], tmp_path).returncode == 0
    assert run(["tenant", "create", "firm1"], tmp_path).returncode == 0
    return tmp_path


@pytest.mark.slow
def test_user_create_prints_one_json_line_with_a_working_password(data_dir: Path) -> None:
    made = run(["user", "create", "--tenant", "firm1", "Ann@Firm1.test"], data_dir)
    assert made.returncode == 0, made.stderr
    lines = made.stdout.strip().splitlines()
    assert len(lines) == 1
    payload = json.loads(lines[0])
    assert set(payload) == {"email", "password"}
    assert payload["email"] == "ann@firm1.test"
    assert len(payload["password"]) >= 16
    db = Database(f"sqlite:///{data_dir / 'clientdock.db'}")
    try:
        with db.session() as session:
            assert users.authenticate(session, "ann@firm1.test", payload["password"]).email == "ann@firm1.test"
    finally:
        db.dispose()


@pytest.mark.slow
def test_user_create_refuses_an_unknown_tenant_or_a_taken_email(data_dir: Path) -> None:
    unknown = run(["user", "create", "--tenant", "nobody", "a@b.test"], data_dir)
    assert unknown.returncode == 1
    assert "no tenant 'nobody'" in unknown.stderr
    assert unknown.stdout == ""
    assert run(["user", "create", "--tenant", "firm1", "bob@firm1.test"], data_dir).returncode == 0
    taken = run(["user", "create", "--tenant", "firm1", "BOB@firm1.test"], data_dir)
    assert taken.returncode == 1
    assert "already exists" in taken.stderr
    invalid = run(["user", "create", "--tenant", "firm1", "not-an-email"], data_dir)
    assert invalid.returncode == 1
    assert "email" in invalid.stderr


def test_first_start_creates_the_demo_user_once(database: Database) -> None:
    first = ensure_demo_tenant(database)
    assert first is not None
    assert first["tenant"] == "demo"
    assert first["apiKey"].startswith("cdk_")
    assert first["email"] == DEMO_EMAIL
    with database.session() as session:
        assert users.authenticate(session, DEMO_EMAIL, first["password"]).email == DEMO_EMAIL
    assert ensure_demo_tenant(database) is None


def test_processes_starting_together_create_the_demo_tenant_once(database: Database) -> None:
    """Several ``serve`` processes started together on a fresh database (a scale-out deployment
    coming up): one creates the demo tenant and its user, the others find them and start."""
    created = [answer for answer in run_concurrently(4, lambda: ensure_demo_tenant(database)) if answer is not None]
    assert len(created) == 1
    assert set(created[0]) == {"tenant", "apiKey", "email", "password"}
    with database.session() as session:
        assert users.authenticate(session, DEMO_EMAIL, created[0]["password"]).email == DEMO_EMAIL
