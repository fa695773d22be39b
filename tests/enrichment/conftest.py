"""The service wired to a fake Companies House on loopback."""

from __future__ import annotations

from pathlib import Path

import pytest

from clientdock.settings import Settings
from tests.fakes.companies_house import CompaniesHouseFake


@pytest.fixture
def settings(tmp_path: Path, db_url: str, register: CompaniesHouseFake) -> Settings:
    return Settings(
        data_dir=tmp_path / "data", database_url=db_url, sync_wait_seconds=10, provider_backoff_seconds=0.01, **register.settings()
    )
