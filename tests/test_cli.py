"""The CLI forms scripts rely on, run as real processes against a fresh data dir."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "clientdock.cli"]


def run(args: list[str], data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CLIENTDOCK_DATA_DIR": str(data_dir)}
    env.pop("CLIENTDOCK_DATABASE_URL", None)
    return subprocess.run([*CLI, *args], capture_output=True, text=True, env=env, timeout=120, check=False)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    assert run(["migrate"], tmp_path).returncode == 0
    return tmp_path


def test_tenant_create_prints_one_json_line_and_refuses_a_second(data_dir: Path) -> None:
    first = run(["tenant", "create", "firm1", "--name", "Firm One"], data_dir)
    assert first.returncode == 0, first.stderr
    lines = first.stdout.strip().splitlines()
    assert len(lines) == 1
    payload = json.loads(lines[0])
    assert payload["tenant"] == "firm1"
    assert payload["apiKey"].startswith("cdk_")
    second = run(["tenant", "create", "firm1"], data_dir)
    assert second.returncode == 1
    assert "already exists" in second.stderr


def test_key_create_with_scopes_and_revoke(data_dir: Path) -> None:
    run(["tenant", "create", "firm2"], data_dir)
    made = run(["key", "create", "--tenant", "firm2", "--scope", "clients:read"], data_dir)
    assert made.returncode == 0, made.stderr
    payload = json.loads(made.stdout)
    assert payload["scopes"] == ["clients:read"]
    revoked = run(["key", "revoke", payload["keyId"]], data_dir)
    assert revoked.returncode == 0
    assert run(["key", "revoke", "no-such-key"], data_dir).returncode == 1
    assert run(["key", "create", "--tenant", "nobody"], data_dir).returncode == 1
    assert run(["key", "create", "--tenant", "firm2", "--scope", "root"], data_dir).returncode == 1


def test_platform_key_create(data_dir: Path) -> None:
    made = run(["platform-key", "create"], data_dir)
    assert made.returncode == 0
    assert json.loads(made.stdout)["apiKey"].startswith("cdk_")


def test_bad_tenant_code_fails_cleanly(data_dir: Path) -> None:
    result = run(["tenant", "create", "bad code!"], data_dir)
    assert result.returncode == 1
    assert "code" in result.stderr
