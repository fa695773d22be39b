"""The Connections page over HTTP (the browser round trip is in tests/web): each form needs
the session's CSRF token, and a connection of another practice is never reachable."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from clientdock.db import Database
from tests.conftest import TenantInfo
from tests.connections.test_connections import connect
from tests.fakes.xero import XeroFake
from tests.web.helpers import UserInfo, make_user, page_token, sign_in


@pytest.fixture
def signed_in(client: TestClient, database: Database, tenant: TenantInfo) -> TestClient:
    user: UserInfo = make_user(database, tenant)
    assert sign_in(client, user.email, user.password).status_code == 303
    return client


def test_connect_from_the_page_goes_to_the_platform_and_back(signed_in: TestClient, xero: XeroFake) -> None:
    xero.add_tenant("Hopper Computing")
    html = signed_in.get("/connections").text
    assert "Connect Xero" in html
    policy = signed_in.get("/connections").headers["content-security-policy"]
    form_action = next(part for part in policy.split("; ") if part.startswith("form-action"))
    assert xero.base_url in form_action.split()
    started = signed_in.post("/connections/xero/connect", data={"csrf_token": page_token(signed_in)}, follow_redirects=False)
    assert started.status_code == 303
    at_platform = httpx.get(started.headers["location"], follow_redirects=False)
    back = urlsplit(at_platform.headers["location"])
    done = signed_in.get(f"{back.path}?{back.query}", follow_redirects=False)
    assert (done.status_code, done.headers["location"]) == (303, "/connections?connected=1")
    page = signed_in.get("/connections?connected=1").text
    assert "Connected 1 organisation" in page
    assert "Hopper Computing" in page


def test_every_form_needs_the_csrf_token(signed_in: TestClient, tenant: TenantInfo, xero: XeroFake) -> None:
    xero.add_tenant()
    (connection,) = connect(signed_in, tenant, "xero")
    calls = xero.total_calls()
    for path in ("/connections/xero/connect", f"/connections/{connection['code']}/import", f"/connections/{connection['code']}/disconnect"):
        assert signed_in.post(path, data={}, follow_redirects=False).status_code == 403, path
    assert xero.total_calls() == calls
    (listed,) = signed_in.get(tenant.path("/connections"), headers=tenant.headers).json()["items"]
    assert (listed["status"], listed["lastImportId"]) == ("active", None)


def test_another_practices_connection_is_not_found_from_the_page(signed_in: TestClient, other_tenant: TenantInfo, xero: XeroFake) -> None:
    xero.add_tenant()
    (theirs,) = connect(signed_in, other_tenant, "xero")
    token = page_token(signed_in)
    assert signed_in.get(f"/connections/{theirs['code']}/pick").status_code == 404
    assert signed_in.post(f"/connections/{theirs['code']}/import", data={"csrf_token": token}).status_code == 404
    assert signed_in.post(f"/connections/{theirs['code']}/disconnect", data={"csrf_token": token}).status_code == 404
    assert xero.total_calls(excluding=("authorize", "token", "connections")) == 0


def test_an_unconfigured_platform_cannot_be_connected(signed_in: TestClient, app: object) -> None:
    app.state.settings.quickbooks_client_id = None  # type: ignore[attr-defined]
    assert "QuickBooks Online is not set up on this server yet" in signed_in.get("/connections").text
    refused = signed_in.post("/connections/quickbooks/connect", data={"csrf_token": page_token(signed_in)})
    assert refused.status_code == 400
    assert "not configured" in refused.text
