"""Credentials and calls shared by the partner-app tests."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from clientdock.db import Database
from clientdock.tenants import service as tenants

CALLBACK = "https://example.com/callback"
JOHN = {"first_name": "John", "email": "john.doe@example.com", "phone": "+1234567890"}


@dataclass(frozen=True)
class Key:
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"X-API-Key": self.key}


@dataclass(frozen=True)
class AppInfo:
    code: str
    uid: str
    client_id: str
    secret: str

    def acting_for(self, business: str) -> dict[str, str]:
        return {"X-API-Key": self.secret, "X-Business-Uid": business}

    @property
    def headers(self) -> dict[str, str]:
        return {"X-API-Key": self.secret}

    @property
    def import_path(self) -> str:
        return f"/business/clients/v1/apps/{self.code}/import"


def platform_key(database: Database) -> Key:
    with database.session() as session:
        return Key(tenants.issue_key(session, kind="platform").key)


def unique_code(prefix: str = "app") -> str:
    return f"{prefix}{time.time_ns()}{uuid.uuid4().hex[:4]}"


def app_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"name": "Test Import Clients App", "app_code_name": unique_code(), "app_type": "import_clients"}
    body["redirect_uri"] = CALLBACK
    body.update(overrides)
    return body


def register(client: TestClient, platform: Key, **overrides: Any) -> AppInfo:
    response = client.post("/platform/v1/apps", json=app_body(**overrides), headers=platform.headers)
    assert response.status_code == 201, response.text
    data = response.json()["data"]
    return AppInfo(data["app_code_name"], data["uid"], data["client_id"], data["client_secret"])


def assign_body(app: AppInfo, business: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "app_code_name": app.code, "assignee_uid": business, "assignee_type": "business", "settings": {"assignment_mode": "internal"},
    }  # fmt: skip
    body.update(overrides)
    return body


def assign(client: TestClient, headers: dict[str, str], app: AppInfo, business: str) -> str:
    response = client.post("/v3/apps/app_assignments", json=assign_body(app, business), headers=headers)
    assert response.status_code == 201, response.text
    uid: str = response.json()["data"]["uid"]
    return uid


def import_body(mapping: Any, *, should_override: bool = False, upload_type: str = "single", notify: bool = False) -> dict[str, Any]:
    params = {"should_override": should_override, "upload_type": upload_type, "send_notifications_when_done": notify}
    return {"import_params": params, "fields_mapping": mapping}


def push(client: TestClient, app: AppInfo, headers: dict[str, str], mapping: Any, **params: Any) -> Any:
    """POST the import of ``mapping`` through ``app``; returns the TestClient's response."""
    return client.post(app.import_path, json=import_body(mapping, **params), headers=headers)
