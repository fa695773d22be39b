"""The whole-run secret watch (``tests/secret_watch.py``) really runs: pytest in a child process on
a small test file that writes a secret the run made into its logs fails, naming the test, the
logger and a redacted excerpt, with and without pytest-xdist; the same file without the leaks
passes. Its registry finds secrets in a line whatever their number."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import clientdock
from tests.secret_watch import MIN_LENGTH, Registry

ROOT = Path(__file__).resolve().parents[1]
SOURCE = Path(clientdock.__file__).resolve().parents[1]

LEAKY = """
import logging
from pathlib import Path

import structlog

from clientdock.tenants import keys
from clientdock.users import service as users
from tests.secret_watch import watch_output


def test_logs_an_api_key_with_structlog(tmp_path):
    _prefix, key = keys.generate()
    Path("{kept}").write_text(key)
    structlog.get_logger("leaky.module").info("key_made", key=key)


def test_sends_a_header_to_a_logger_that_does_not_propagate():
    quiet = logging.getLogger("leaky.quiet")
    quiet.propagate = False
    quiet.error("calling with %s", {{"X-API-Key": "cdk_0123456789ab_notregisteredbutaheadervalue"}})


def test_a_service_process_writes_a_password(tmp_path):
    password = users.generate_password()
    output = tmp_path / "service.log"
    watch_output(output)
    output.write_text("INFO starting\\nWARNING signed in with " + password + "\\n")


def test_clean():
    structlog.get_logger("leaky.module").info("nothing_secret", prefix="cdk_0123")
"""

CLEAN = """
import logging

import structlog

from clientdock.tenants import keys


def test_makes_a_key_and_logs_only_its_prefix():
    prefix, key = keys.generate()
    structlog.get_logger("clean.module").info("key_made", prefix=prefix)
    logging.getLogger("clean.stdlib").warning("made a key of %d characters", len(key))
"""


def run_pytest(tmp_path: Path, source: str, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_planted.py").write_text(source)
    env = {"PYTHONPATH": f"{ROOT}:{SOURCE}", "PATH": str(Path(sys.executable).parent)}
    command = [sys.executable, "-m", "pytest", "-p", "tests.secret_watch", "-p", "no:cacheprovider", "-q", "test_planted.py", *args]
    return subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False)


@pytest.mark.slow
@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one process", "xdist"])
def test_a_run_whose_logs_carry_a_secret_fails_naming_the_test_logger_and_excerpt(tmp_path: Path, workers: list[str]) -> None:
    kept = tmp_path / "key.txt"
    done = run_pytest(tmp_path, LEAKY.format(kept=kept), *workers)
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "4 passed" in output  # every test passed: the watch alone fails the run
    assert "3 log line(s) of this run carried a secret (the run fails)" in output
    key = kept.read_text()
    assert key not in output  # the report redacts what it found
    assert "test_planted.py::test_logs_an_api_key_with_structlog\n    structlog logger leaky.module: API key" in output
    assert "key_made" in output
    assert "key=[API key 60 chars]" in output
    header = "test_sends_a_header_to_a_logger_that_does_not_propagate\n    logging logger leaky.quiet: X-API-Key header value"
    assert header in output
    assert "cdk_0123456789ab_notregisteredbutaheadervalue" not in output
    service = "test_planted.py::test_a_service_process_writes_a_password\n    output of a service process, service.log line 2: password"
    assert service in output
    assert "WARNING signed in with [password 20 chars]" in output
    assert "test_clean" not in output.split("secret watch")[-1]


@pytest.mark.slow
def test_a_run_whose_logs_carry_no_secret_passes(tmp_path: Path) -> None:
    done = run_pytest(tmp_path, CLEAN)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "carried a secret" not in done.stdout
    assert "secret watch: 2 log lines and 0 service process outputs checked against 1 secrets, none found" in done.stdout


def test_the_registry_finds_every_secret_in_a_line_and_ignores_short_values() -> None:
    registry = Registry()
    secrets = [f"token-{n:06d}-" + "x" * 20 for n in range(2000)]
    for secret in secrets:
        registry.add(secret, "token")
    registry.add("s" * (MIN_LENGTH - 1), "too short")
    assert len(registry) == 2000
    line = f"refreshed {secrets[1234]} then {secrets[7]}; also {'s' * 30}"
    assert sorted(registry.find(line)) == sorted([(secrets[1234], "token"), (secrets[7], "token")])
    assert registry.find(secrets[5][:-1]) == []  # a secret cut short is not one
    assert registry.find("") == []
