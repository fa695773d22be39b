"""Fixtures of the notify tests: settings without background workers (the tests move time
themselves) and a real HTTP receiver on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from clientdock.settings import Settings
from tests.notify.helpers import Receiver


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=db_url, allow_private_webhooks=True, start_workers=False)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running
