"""The log format of the service's processes, which the test run uses too (tests/conftest.py)."""

from __future__ import annotations

import logging

import pytest
import structlog

from clientdock.logs import configure

LOCAL_VALUE = "value-of-a-local-variable-7f3a"


def _fail(token: str) -> None:
    raise RuntimeError(f"failed with a token of {len(token)} characters")


@pytest.mark.parametrize("json_logs", [False, True], ids=["console", "json"])
def test_a_logged_exception_carries_its_traceback_but_no_local_variables(capsys: pytest.CaptureFixture[str], json_logs: bool) -> None:
    """A failed job logs ``log.exception``: its traceback must not print the frames' local
    variables (settings, tokens, keys), as structlog's default renderer does."""
    configure(json_logs=json_logs, level=logging.DEBUG)
    try:
        try:
            _fail(LOCAL_VALUE)
        except RuntimeError:
            structlog.get_logger("probe").exception("probe_failed")
        out = capsys.readouterr().out
    finally:
        configure(json_logs=False, level=logging.DEBUG)
    assert "probe_failed" in out
    assert "RuntimeError: failed with a token of 30 characters" in out
    assert "_fail" in out
    assert LOCAL_VALUE not in out
