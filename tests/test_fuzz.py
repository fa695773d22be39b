"""Fuzz the whole OpenAPI surface with schemathesis: no input may produce a 500.

The schema is read from the app object at import time, without starting the app (its
lifespan launches the job engine); requests go through a TestClient on a temporary SQLite
database that the module fixture migrates and removes.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings

from clientdock.app import create_app
from clientdock.db import Database
from clientdock.migrate import upgrade
from clientdock.settings import Settings
from tests.conftest import TenantInfo, make_tenant

_DIR = Path(tempfile.mkdtemp(prefix="clientdock-fuzz-"))
_URL = f"sqlite:///{_DIR / 'fuzz.db'}"
_DATABASE = Database(_URL)
APP = create_app(Settings(data_dir=_DIR / "data", database_url=_URL, sync_wait_seconds=1), _DATABASE)
schema = schemathesis.openapi.from_dict(APP.openapi())


@pytest.fixture(scope="module")
def fuzz_client() -> Iterator[tuple[TestClient, TenantInfo]]:
    upgrade(_URL)
    tenant = make_tenant(_DATABASE, code="fuzz")
    with TestClient(APP, raise_server_exceptions=False) as client:
        yield client, tenant
    _DATABASE.dispose()
    shutil.rmtree(_DIR, ignore_errors=True)


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_produces_a_server_error(case: Any, fuzz_client: tuple[TestClient, TenantInfo]) -> None:
    client, tenant = fuzz_client
    if "tenant" in (case.path_parameters or {}):
        case.path_parameters["tenant"] = tenant.code
    kwargs = case.as_transport_kwargs(base_url="http://testserver", headers={"X-API-Key": tenant.key})
    response = client.request(**kwargs)
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:500]}"
