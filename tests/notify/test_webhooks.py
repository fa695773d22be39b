"""Registering, listing and deleting webhooks: validation, SSRF refusals, secrets, isolation."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from clientdock import secrets
from clientdock.app import create_app
from clientdock.db import Database
from clientdock.notify.models import Webhook, WebhookDelivery
from clientdock.settings import Settings
from tests.conftest import TenantInfo, make_tenant
from tests.notify.helpers import finish_job, register


@pytest.fixture
def strict_client(tmp_path: Path, db_url: str, database: Database) -> Iterator[TestClient]:
    """An app on the same database that refuses private webhook targets (the production default)."""
    strict = Settings(data_dir=tmp_path / "data", database_url=db_url, allow_private_webhooks=False, start_workers=False)
    with TestClient(create_app(strict, database), raise_server_exceptions=False) as test_client:
        yield test_client


def _problem_fields(response: Any) -> list[str]:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return [error["field"] for error in response.json()["errors"]]


def test_register_list_and_delete(client: TestClient, tenant: TenantInfo) -> None:
    created = register(client, tenant, "https://hooks.example.com/clientdock")

    listed = client.get(tenant.path("/webhooks"), headers=tenant.headers).json()
    deleted = client.delete(tenant.path(f"/webhooks/{created['id']}"), headers=tenant.headers)
    after = client.get(tenant.path("/webhooks"), headers=tenant.headers).json()

    assert created["events"] == ["import.completed", "import.failed"]
    assert created["secret"].startswith("whsec_")
    assert listed["total"] == 1
    assert listed["items"][0]["url"] == "https://hooks.example.com/clientdock"
    assert "secret" not in listed["items"][0]  # shown once, on create
    assert deleted.status_code == 204
    assert after == {"items": [], "total": 0}
    assert client.delete(tenant.path(f"/webhooks/{created['id']}"), headers=tenant.headers).status_code == 404


def test_chosen_events_and_secret(client: TestClient, tenant: TenantInfo) -> None:
    created = register(
        client, tenant, "http://hooks.example.com/x", events=["import.failed", "import.failed"], secret="s3cret-s3cret-s3cret"
    )

    assert created["events"] == ["import.failed"]
    assert created["secret"] == "s3cret-s3cret-s3cret"


def test_secret_is_encrypted_at_rest(client: TestClient, database: Database, settings: Settings, tenant: TenantInfo) -> None:
    created = register(client, tenant, "https://hooks.example.com/x")

    with database.session() as session:
        stored = session.scalars(select(Webhook.secret_encrypted)).one()

    assert created["secret"] not in stored
    assert secrets.decrypt(settings.data_dir, stored) == created["secret"]
    assert (settings.data_dir / "secret.key").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, ["url"]),
        ({"url": None}, ["url"]),
        ({"url": "ftp://hooks.example.com/x"}, ["url"]),
        ({"url": "not a url"}, ["url"]),
        ({"url": "https://"}, ["url"]),
        ({"url": "https://hooks.example.com:99999/x"}, ["url"]),
        ({"url": "https://hooks.example.com/" + "x" * 2100}, ["url"]),
        ({"url": "https://hooks.example.com/x", "events": ["import.exploded"]}, ["events"]),
        ({"url": "https://hooks.example.com/x", "events": []}, ["events"]),
        ({"url": "https://hooks.example.com/x", "events": "import.failed"}, ["events"]),
        ({"url": "mailto:me@example.com", "events": ["nope"]}, ["url", "events"]),
        ({"url": "https://hooks.example.com/x", "secret": "short"}, ["secret"]),
        ({"url": "https://hooks.example.com/x", "colour": "red"}, ["colour"]),
    ],
)
def test_validation_errors_name_the_field(client: TestClient, tenant: TenantInfo, body: dict[str, Any], fields: list[str]) -> None:
    response = client.post(tenant.path("/webhooks"), json=body, headers=tenant.headers)

    assert _problem_fields(response) == fields
    assert client.get(tenant.path("/webhooks"), headers=tenant.headers).json()["total"] == 0


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://127.1.2.3/hook",
        "http://10.0.0.5/hook",
        "http://172.16.3.4/hook",
        "http://192.168.1.1/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/hook",
        "http://0.0.0.0/hook",
        "http://224.0.0.1/hook",
        "http://240.0.0.1/hook",
        "http://[::1]/hook",
        "http://[::]/hook",
        "http://[fe80::1]/hook",
        "http://[fc00::1]/hook",
        "http://[ff02::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://[::ffff:10.0.0.1]/hook",
        "http://[2002:7f00:1::]/hook",
        "http://localhost:8000/hook",
        "http://LOCALHOST./hook",
    ],
)
def test_private_targets_are_refused(strict_client: TestClient, tenant: TenantInfo, url: str) -> None:
    response = strict_client.post(tenant.path("/webhooks"), json={"url": url}, headers=tenant.headers)

    assert _problem_fields(response) == ["url"]
    assert "private" in response.json()["detail"] or "resolve" in response.json()["detail"]


def test_public_targets_pass_the_strict_check(strict_client: TestClient, tenant: TenantInfo) -> None:
    response = strict_client.post(tenant.path("/webhooks"), json={"url": "https://93.184.216.34/hook"}, headers=tenant.headers)

    assert response.status_code == 201, response.text


def test_a_name_resolving_to_any_private_address_is_refused(
    strict_client: TestClient, tenant: TenantInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = socket.getaddrinfo

    def fake(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "mixed.example.net":
            stream = (socket.AF_INET, socket.SOCK_STREAM, 6, "")
            return [(*stream, ("93.184.216.34", port)), (*stream, ("10.1.1.1", port))]
        if host == "nowhere.example.net":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)

    mixed = strict_client.post(tenant.path("/webhooks"), json={"url": "https://mixed.example.net/x"}, headers=tenant.headers)
    unresolvable = strict_client.post(tenant.path("/webhooks"), json={"url": "https://nowhere.example.net/x"}, headers=tenant.headers)

    assert _problem_fields(mixed) == ["url"]
    assert "10.1.1.1" in mixed.json()["detail"]
    assert _problem_fields(unresolvable) == ["url"]


def test_only_admin_keys_manage_webhooks(client: TestClient, database: Database) -> None:
    writer = make_tenant(database, scopes=["clients:read", "clients:write", "imports:write"])

    assert client.get(writer.path("/webhooks"), headers=writer.headers).status_code == 403
    response = client.post(writer.path("/webhooks"), json={"url": "https://hooks.example.com/x"}, headers=writer.headers)
    assert response.status_code == 403


def test_tenant_isolation(client: TestClient, database: Database, tenant: TenantInfo, other_tenant: TenantInfo) -> None:
    hook = register(client, tenant, "https://hooks.example.com/acme")
    finish_job(database, tenant.id)
    mine = f"/webhooks/{hook['id']}"

    assert client.get(tenant.path("/webhooks"), headers=other_tenant.headers).status_code == 403
    assert client.delete(tenant.path(mine), headers=other_tenant.headers).status_code == 403
    assert client.get(tenant.path(mine + "/deliveries"), headers=other_tenant.headers).status_code == 403
    assert client.get(other_tenant.path("/webhooks"), headers=other_tenant.headers).json()["total"] == 0
    assert client.delete(other_tenant.path(mine), headers=other_tenant.headers).status_code == 404
    assert client.get(other_tenant.path(mine + "/deliveries"), headers=other_tenant.headers).status_code == 404
    assert client.get(tenant.path(mine + "/deliveries"), headers=tenant.headers).json()["total"] == 1


def test_deleting_a_webhook_drops_its_pending_deliveries(client: TestClient, database: Database, tenant: TenantInfo) -> None:
    hook = register(client, tenant, "https://hooks.example.com/x")
    finish_job(database, tenant.id)

    client.delete(tenant.path(f"/webhooks/{hook['id']}"), headers=tenant.headers)

    with database.session() as session:
        assert session.scalars(select(WebhookDelivery)).all() == []


def test_job_finished_queues_only_for_subscribed_webhooks(
    client: TestClient, database: Database, tenant: TenantInfo, other_tenant: TenantInfo
) -> None:
    both = register(client, tenant, "https://hooks.example.com/both")
    failures = register(client, tenant, "https://hooks.example.com/failures", events=["import.failed"])
    register(client, other_tenant, "https://hooks.example.com/beta")

    finish_job(database, tenant.id, event="import.completed")
    finish_job(database, tenant.id, event="import.failed", status="failed")

    with database.session() as session:
        queued = sorted((d.webhook_id, d.event, d.status) for d in session.scalars(select(WebhookDelivery)))
    assert queued == sorted(
        [
            (both["id"], "import.completed", "pending"),
            (both["id"], "import.failed", "pending"),
            (failures["id"], "import.failed", "pending"),
        ]
    )
