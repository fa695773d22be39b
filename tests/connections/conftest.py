"""The service wired to fake Xero and QuickBooks servers on loopback (one of each per test)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from clientdock.settings import Settings
from tests.fakes.clock import FakeClock
from tests.fakes.quickbooks import QuickBooksFake
from tests.fakes.xero import XeroFake


@pytest.fixture
def clock() -> FakeClock:
    """The fakes' time starts now, so "modified since our last import" compares like the real thing."""
    return FakeClock(datetime.now(UTC))


@pytest.fixture
def xero(clock: FakeClock) -> Iterator[XeroFake]:
    fake = XeroFake(clock)
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def quickbooks(clock: FakeClock) -> Iterator[QuickBooksFake]:
    fake = QuickBooksFake(clock)
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def settings(tmp_path: Path, db_url: str, xero: XeroFake, quickbooks: QuickBooksFake) -> Settings:
    return Settings(
        data_dir=tmp_path / "data", database_url=db_url, sync_wait_seconds=10, public_url="http://testserver",
        provider_backoff_seconds=0.01, quickbooks_throttle_wait_seconds=0.2, provider_timeout_seconds=5,
        **xero.settings(), **quickbooks.settings(),
    )  # fmt: skip
