"""Secrets at rest: a dump of the database holds none in clear (keys, app secrets, passwords,
sessions, OAuth states and their browser nonces are hashed; OAuth tokens, PKCE verifiers and
webhook secrets are encrypted), the logs of a run that makes and uses every kind hold none, and
the encryption key can be rotated (``clientdock secrets rotate``). The logs of every other test
are checked too, by the whole-run watch (``tests/secret_watch.py``)."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from clientdock.apps import service as apps
from clientdock.connections.browser import cookie_name
from clientdock.connections.models import Connection, OAuthState
from clientdock.connections.service import store_tokens, tokens_of
from clientdock.db import Database, utcnow
from clientdock.notify.models import Webhook
from clientdock.notify.service import create_webhook
from clientdock.outbound.errors import Tokens
from clientdock.rekey import rotate_all
from clientdock.secrets import ENV_VAR, InvalidToken, decrypt, encrypt
from clientdock.settings import Settings
from clientdock.tenants import service as tenants
from tests.conftest import TenantInfo
from tests.web.helpers import make_user, sign_in

OLD, NEW, OTHER = "old-key-" + "o" * 32, "new-key-" + "n" * 32, "someone-elses-key-" + "x" * 32
HOOK = "http://127.0.0.1:9/hook"


def keep_secrets(database: Database, settings: Settings, tenant: TenantInfo) -> dict[str, str]:
    """One of every secret the service keeps, made through the services; returns them in clear."""
    with database.session() as session:
        platform = tenants.issue_key(session, kind="platform").key
        app = apps.register_app(
            session, name="Partner", app_code_name="partner", app_type="import_clients", redirect_uri="https://partner.example/cb"
        )
        _hook, hook_secret = create_webhook(session, tenant.id, settings, url=HOOK)
        connection = Connection(tenant_id=tenant.id, code="xero-1", provider="xero", organisation_id="org-1", organisation_name="Org")
        tokens = Tokens("access-" + "a" * 40, "refresh-" + "r" * 40, utcnow() + timedelta(minutes=30))
        store_tokens(settings, connection, tokens)
        session.add(connection)
        verifier = "verifier-" + "v" * 60
        session.add(
            OAuthState(
                state_hash="0" * 64,
                tenant_id=tenant.id,
                provider="xero",
                code_verifier=encrypt(settings.data_dir, verifier),
                expires_at=utcnow() + timedelta(minutes=10),
            )  # fmt: skip
        )
        session.flush()
    user = make_user(database, tenant)
    return {
        "tenant key": tenant.key,
        "platform key": platform,
        "app key": app.client_secret,
        "webhook secret": hook_secret,
        "password": user.password,
        "access token": tokens.access_token,
        "refresh token": tokens.refresh_token,
        "PKCE verifier": verifier,
    }


def dump(url: str) -> str:
    """Everything in the database as text: pg_dump, or SQLite's own dump."""
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            return "\n".join(conn.iterdump())
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    return subprocess.run(["pg_dump", "--no-owner", plain], capture_output=True, text=True, check=True, timeout=120).stdout


@pytest.fixture
def keyed(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.setenv(ENV_VAR, OLD)
    return monkeypatch


def test_a_dump_of_the_database_holds_no_secret_in_clear(
    keyed: pytest.MonkeyPatch, database: Database, settings: Settings, tenant: TenantInfo, db_url: str, client: TestClient
) -> None:
    kept = keep_secrets(database, settings, tenant)
    session_cookie = sign_in(client, *_user_login(database, tenant)).cookies
    text = dump(db_url)
    assert "webhooks" in text  # the dump is the real thing, rows and all
    assert tenant.code in text
    leaked = [name for name, value in kept.items() if value in text]
    leaked += [f"session cookie {name}" for name, value in session_cookie.items() if len(value) >= 16 and value in text]
    assert leaked == []


def test_an_oauth_round_trip_keeps_its_state_and_browser_nonce_only_hashed(
    database: Database, settings: Settings, tenant: TenantInfo, db_url: str, client: TestClient, capfd: pytest.CaptureFixture[str]
) -> None:
    settings.xero_client_id, settings.xero_client_secret = "app-id", "app-secret"  # the platform is never called
    started = client.get(tenant.path("/connections/xero/authorize"), headers=tenant.headers, follow_redirects=False)
    assert started.status_code == 307, started.text
    state = parse_qs(urlsplit(started.headers["location"]).query)["state"][0]
    nonce = started.cookies[cookie_name(state)]
    text = dump(db_url)
    assert hashlib.sha256(nonce.encode()).hexdigest() in text  # the dump holds the row
    assert state not in text
    assert nonce not in text
    logs = capfd.readouterr()
    assert nonce not in logs.out + logs.err


def _user_login(database: Database, tenant: TenantInfo) -> tuple[str, str]:
    user = make_user(database, tenant, email="dump@firm.co.uk")
    return user.email, user.password


def test_no_secret_reaches_the_logs_of_a_run_that_makes_and_uses_them(
    keyed: pytest.MonkeyPatch,
    database: Database,
    settings: Settings,
    tenant: TenantInfo,
    client: TestClient,
    capfd: pytest.CaptureFixture[str],
) -> None:
    kept = keep_secrets(database, settings, tenant)
    created = client.post(tenant.path("/webhooks"), json={"url": HOOK}, headers=tenant.headers)
    assert created.status_code == 201, created.text
    kept["webhook secret (API)"] = created.json()["secret"]
    assert client.get(tenant.path("/clients"), headers=tenant.headers).status_code == 200
    assert client.get(tenant.path("/clients"), headers={"X-API-Key": kept["tenant key"] + "x"}).status_code == 401
    assert client.get(tenant.path("/clients"), headers={"Authorization": f"Bearer {kept['platform key']}"}).status_code == 403
    email, password = _user_login(database, tenant)
    assert sign_in(client, email, password).status_code == 303
    assert sign_in(client, email, password + "wrong").status_code != 303
    kept["password (web)"] = password
    with database.session() as session:
        connection = session.scalars(select(Connection)).one()
        assert tokens_of(settings, connection).refresh_token == kept["refresh token"]
    logs = capfd.readouterr()
    written = logs.out + logs.err
    assert "webhook_created" in written  # the logs were captured
    assert [name for name, value in kept.items() if value in written] == []


def test_rotating_the_key_encrypts_every_secret_again_with_the_new_key(
    keyed: pytest.MonkeyPatch, database: Database, settings: Settings, tenant: TenantInfo
) -> None:
    kept = keep_secrets(database, settings, tenant)
    keyed.setenv(ENV_VAR, f"{NEW},{OLD}")
    report = rotate_all(database, settings.data_dir)
    assert report.as_json() == {"rotated": {"webhookSecrets": 1, "connectionTokens": 1, "oauthVerifiers": 1}, "unreadable": {}}
    keyed.setenv(ENV_VAR, NEW)  # the old key is gone: everything still opens
    with database.session() as session:
        hook = session.scalars(select(Webhook)).one()
        connection = session.scalars(select(Connection)).one()
        state = session.scalars(select(OAuthState)).one()
        assert decrypt(settings.data_dir, hook.secret_encrypted) == kept["webhook secret"]
        assert tokens_of(settings, connection).refresh_token == kept["refresh token"]
        assert decrypt(settings.data_dir, state.code_verifier) == kept["PKCE verifier"]
        keyed.setenv(ENV_VAR, OLD)
        with pytest.raises(InvalidToken):
            decrypt(settings.data_dir, hook.secret_encrypted)


def test_the_command_names_what_no_key_opens_and_exits_1(keyed: pytest.MonkeyPatch, database: Database, settings: Settings, db_url: str,
                                                        tenant: TenantInfo) -> None:  # fmt: skip
    keep_secrets(database, settings, tenant)
    with database.session() as session:
        stranger = Webhook(tenant_id=tenant.id, url=HOOK, events=["import.completed"], secret_encrypted="x")
        session.add(stranger)
        session.flush()
        keyed.setenv(ENV_VAR, OTHER)
        stranger.secret_encrypted = encrypt(settings.data_dir, "written with a key nobody has now")
        stranger_id = stranger.id
    env = {**os.environ, ENV_VAR: f"{NEW},{OLD}", "CLIENTDOCK_DATA_DIR": str(settings.data_dir)}
    done = subprocess.run(
        [sys.executable, "-m", "clientdock.cli", "secrets", "rotate", "--database-url", db_url],
        capture_output=True, text=True, timeout=120, check=False, env=env,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert f'"unreadable": {{"webhookSecrets": ["{stranger_id}"]}}' in done.stdout
    assert '"rotated": {"webhookSecrets": 1, "connectionTokens": 1, "oauthVerifiers": 1}' in done.stdout
