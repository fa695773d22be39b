"""A client generated from ``/openapi.json`` with openapi-python-client works end to end.

The generated package talks real HTTP to the service on loopback and gets typed models
back: what a user of the API gets when they generate a client for their own language.
"""

from __future__ import annotations

import importlib
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import TenantInfo
from tests.openapi_client import generate_client

PACKAGE = "clientdock_generated_client"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The client package generated from the API's description, imported."""
    spec = _spec()
    package = generate_client(spec, tmp_path_factory.mktemp("generated"), package=PACKAGE, fail_on_warning=True)
    sys.path.insert(0, str(package.parent))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(package.parent))
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def _spec() -> dict[str, Any]:
    import tempfile

    from clientdock.app import create_app
    from clientdock.db import Database
    from clientdock.settings import Settings

    directory = Path(tempfile.mkdtemp(prefix="clientdock-generated-"))
    url = f"sqlite:///{directory / 'spec.db'}"
    database = Database(url)
    try:
        spec: dict[str, Any] = TestClient(create_app(Settings(data_dir=directory, database_url=url), database)).get("/openapi.json").json()
        return spec
    finally:
        database.dispose()


@pytest.fixture
def base_url(app: FastAPI) -> Iterator[str]:
    """The app served by uvicorn on a free loopback port, for the length of a test."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the service did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def test_a_generated_client_upserts_reads_and_lists_through_typed_models(generated: ModuleType, base_url: str, tenant: TenantInfo) -> None:
    models = importlib.import_module(f"{PACKAGE}.models")
    upsert_client = importlib.import_module(f"{PACKAGE}.api.clients.upsert_client")
    get_client = importlib.import_module(f"{PACKAGE}.api.clients.get_client")
    list_clients = importlib.import_module(f"{PACKAGE}.api.clients.list_clients")
    list_imports = importlib.import_module(f"{PACKAGE}.api.imports.list_imports")
    bulk = importlib.import_module(f"{PACKAGE}.api.bulk.bulk_upsert_by_source_id")

    with generated.AuthenticatedClient(base_url=base_url, token=tenant.key) as api:
        body = models.ClientUpsert(tracking_id="crm-42", name="Ada Lovelace", email="ada@example.org", tags=["vip"])
        created = upsert_client.sync_detailed(tenant.code, client=api, body=body)
        assert created.status_code == 201
        assert isinstance(created.parsed, models.UpsertedClient)
        assert (created.parsed.result, created.parsed.tracking_id, created.parsed.tags) == ("created", "crm-42", ["vip"])

        again = upsert_client.sync_detailed(tenant.code, client=api, body=models.ClientUpsert(tracking_id="crm-42", note="hi"))
        assert again.status_code == 200
        assert isinstance(again.parsed, models.UpsertedClient)
        assert again.parsed.result == "updated"

        one = get_client.sync(tenant=tenant.code, client_id=created.parsed.id, client=api)
        assert isinstance(one, models.Client)
        assert (one.name, one.email, one.note) == ("Ada Lovelace", "ada@example.org", "hi")

        page = list_clients.sync(tenant.code, client=api, search="ada")
        assert isinstance(page, models.ClientPage)
        assert (page.total, [c.id for c in page.items]) == (1, [one.id])

        response = bulk.sync_detailed(client=api, body={"users": [{"source": "erp", "sourceId": 7, "fullName": "Acme Ltd"}]})
        assert response.status_code == 200
        assert isinstance(response.parsed, models.BulkResult)
        assert response.parsed.data[0].action == "created"

        imports = list_imports.sync(tenant.code, client=api)
        assert isinstance(imports, models.ImportJobPage)
        assert imports.total == 1
        (job,) = imports.items
        assert isinstance(job, models.ImportJob)
        assert (job.id, job.door, job.status, job.counts.created) == (response.parsed.import_id, "bulk", "succeeded", 1)


def test_a_generated_client_reports_a_problem(generated: ModuleType, base_url: str, tenant: TenantInfo) -> None:
    models = importlib.import_module(f"{PACKAGE}.models")
    get_client = importlib.import_module(f"{PACKAGE}.api.clients.get_client")
    with generated.AuthenticatedClient(base_url=base_url, token=tenant.key) as api:
        missing = get_client.sync_detailed(tenant=tenant.code, client_id="no-such-client", client=api)
    assert missing.status_code == 404
    assert isinstance(missing.parsed, models.Problem)
    assert missing.parsed.status == 404
