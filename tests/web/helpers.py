"""Typed helpers for the web tests: users, clients, and signing in through the real forms."""

from __future__ import annotations

import re
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
