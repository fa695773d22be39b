"""Typed helpers for the web tests: users, clients, and signing in through the real forms."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

import httpx
import httpx2
from fastapi.testclient import TestClient
from sqlalchemy import update

from clientdock.clients.models import Client
from clientdock.db import Database
from clientdock.tenants import service as tenants
from clientdock.users import service as users
from tests.conftest import TenantInfo

PASSWORD = "correct horse battery staple"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class UserInfo:
    email: str
    password: str


def make_user(database: Database, tenant: TenantInfo, *, email: str = "anna@acme.test", password: str = PASSWORD) -> UserInfo:
    with database.session() as session:
        created = users.create_user(session, tenants.get_tenant(session, tenant.code), email, password)
    return UserInfo(created.user.email, password)


def make_client(client: TestClient | httpx.Client, tenant: TenantInfo, **fields: Any) -> dict[str, Any]:
    response = client.post(tenant.path("/clients"), json=fields, headers=tenant.headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def set_enrichment(database: Database, client_id: str, enrichment: dict[str, Any]) -> None:
    with database.session() as session:
        session.execute(update(Client).where(Client.id == client_id).values(enrichment=enrichment))


def csrf_token(html: str) -> str:
    found = TOKEN.search(html)
    assert found, "no csrf_token field in the page"
    return found.group(1)


def sign_in(client: TestClient, email: str, password: str, *, next_: str = "") -> httpx2.Response:
    token = csrf_token(client.get("/").text)
    form = {"email": email, "password": password, "csrf_token": token, "next": next_}
    return client.post("/", data=form, follow_redirects=False)


COMPANIES_HOUSE = {
    "source": "companiesHouse",
    "fetchedAt": "2026-11-20T09:30:00+00:00",
    "registeredName": "HOPPER COMPUTING LTD",
    "status": "active",
    "sicCodes": ["62020"],
    "incorporatedOn": "2015-04-01",
    "keyDates": {"accountsNextDue": "2027-01-31", "accountsMadeUpTo": "2026-03-31", "confirmationStatementNextDue": "2027-04-15"},
    "contacts": [
        {"name": "HOPPER, Grace Brewster", "role": "director", "appointedOn": "2015-04-01"},
        {"name": "LOVELACE, Ada", "role": "secretary", "appointedOn": "2019-09-12"},
    ],
}


HX = {"HX-Request": "true"}
UPLOAD_TOKEN = re.compile(r'name="token" value="([0-9a-f]{32})"')
DRY_RUN = re.compile(r'name="dry_run" value="([0-9a-f]{32})"')
PROGRESS = re.compile(r"/imports/([0-9a-f]{32})/progress")


def page_token(client: TestClient) -> str:
    return csrf_token(client.get("/clients").text)


def upload(client: TestClient, content: str | bytes, *, token: str, filename: str = "clients.csv", htmx: bool = True) -> httpx2.Response:
    """Attach a file in the Import dialog (the multipart form, with its hidden token)."""
    data = content.encode() if isinstance(content, str) else content
    headers = HX if htmx else {}
    return client.post("/clients/import/upload", files={"file": (filename, data, "text/csv")}, data={"csrf_token": token}, headers=headers)


def found(pattern: re.Pattern[str], html: str) -> str:
    match = pattern.search(html)
    assert match, f"{pattern.pattern} not in {html[:2000]}"
    return match.group(1)


def preview(client: TestClient, *, token: str, upload_token: str, mapping: dict[int, str]) -> httpx2.Response:
    """Change the dropdowns: every column's field, by position."""
    form = {"csrf_token": token, "token": upload_token, **{f"col-{i}": name for i, name in mapping.items()}}
    return client.post("/clients/import/preview", data=form, headers=HX)


def start(client: TestClient, *, token: str, upload_token: str, dry_run: str) -> httpx2.Response:
    return client.post("/clients/import/start", data={"csrf_token": token, "token": upload_token, "dry_run": dry_run}, headers=HX)


def wait_for_progress(client: TestClient, job_id: str, view: str = "dialog", timeout: float = 60) -> httpx2.Response:
    """Poll the progress fragment as the page does, until it stops asking to be polled."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = client.get(f"/imports/{job_id}/progress?view={view}", headers=HX)
        assert response.status_code == 200, response.text
        if 'hx-trigger="every 1s"' not in response.text:
            return response
        time.sleep(0.1)
    raise AssertionError(f"import {job_id} did not finish in {timeout}s")
