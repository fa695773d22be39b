"""Fixtures of the partner-app tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from clientdock.db import Database
from tests.apps.helpers import Key, platform_key


@pytest.fixture
def platform(database: Database) -> Key:
    """The platform credential, as ``clientdock platform-key create`` issues it."""
    return platform_key(database)


@pytest.fixture
def api(app: FastAPI) -> Iterator[TestClient]:
    """The app without its lifespan (no job engine, no webhook worker), for tests that run no
    import: registration, assignments and refused imports. Tests that run jobs use ``client``."""
    test_client = TestClient(app, raise_server_exceptions=False)
    yield test_client
    test_client.close()
