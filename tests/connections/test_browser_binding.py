"""The OAuth callback completes only in the browser that started the round trip: the answer that
sends it to the platform sets a cookie holding a nonce (only its hash is kept), and a callback
without it (somebody lured into approving a connection another tenant started) or with another
browser's nonce connects nothing and spends the state."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from http.cookies import Morsel, SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import httpx2
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from clientdock.connections.browser import COOKIE_PREFIX, cookie_name
from clientdock.connections.models import Connection, OAuthState
from clientdock.db import Database, utcnow
from clientdock.secrets import encrypt
from clientdock.settings import Settings
from tests.conftest import TenantInfo
from tests.connections.test_connections import authorize
from tests.fakes.base import FakePlatform
from tests.fakes.quickbooks import QuickBooksFake
from tests.fakes.xero import XeroFake
from tests.web.helpers import make_user, page_token, sign_in

PROVIDERS = ["xero", "quickbooks"]


@pytest.fixture
def platforms(xero: XeroFake, quickbooks: QuickBooksFake) -> dict[str, FakePlatform]:
    xero.add_tenant("Hopper Computing")
    quickbooks.add_company("Craig's Design")
    return {"xero": xero, "quickbooks": quickbooks}


def another_browser(app: FastAPI) -> TestClient:
    """A second browser: the same service, a cookie jar of its own."""
    return TestClient(app, raise_server_exceptions=False)


def binding_cookie(response: httpx2.Response) -> Morsel[str]:
    """The one browser-binding cookie a response sets, with its attributes."""
    jar: SimpleCookie = SimpleCookie()
    for header in response.headers.get_list("set-cookie"):
        jar.load(header)
    (name,) = [name for name in jar if name.startswith(COOKIE_PREFIX)]
    return jar[name]


def at_the_platform(location: str) -> str:
    """The person approves at the platform; the path and query it sends the browser back to."""
    answer = httpx.get(location, follow_redirects=False)
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["location"])
    return f"{back.path}?{back.query}"


def state_of(location: str) -> str:
    return parse_qs(urlsplit(location).query)["state"][0]


def connections(database: Database) -> list[Connection]:
    with database.session() as session:
        return list(session.scalars(select(Connection)))


def assert_refused_as_another_browser(answer: httpx2.Response) -> None:
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = answer.json()
    assert problem["title"] == "Invalid OAuth state"
    assert "must be finished in the browser that started it" in problem["detail"]
    assert "nothing was connected" in problem["detail"]
    assert problem["errors"] == [{"field": "state", "message": "this browser did not start this connection", "code": "wrong_browser"}]


def test_the_redirect_to_the_platform_sets_a_narrow_short_lived_cookie(client: TestClient, tenant: TenantInfo, xero: XeroFake) -> None:
    response = client.get(tenant.path("/connections/xero/authorize"), headers=tenant.headers, follow_redirects=False)
    assert response.status_code == 307
    cookie = binding_cookie(response)
    assert cookie.key == cookie_name(state_of(response.headers["location"]))
    assert len(cookie.value) >= 40
    assert cookie["httponly"] is True
    assert cookie["samesite"].lower() == "lax"
    assert cookie["path"] == "/connections/xero/callback"
    assert cookie["max-age"] == "900"
    assert not cookie["secure"]
    assert not cookie["domain"]


def test_over_https_the_cookie_is_secure(app: FastAPI, client: TestClient, tenant: TenantInfo, quickbooks: QuickBooksFake) -> None:
    secure = TestClient(app, base_url="https://testserver", raise_server_exceptions=False)
    response = secure.get(tenant.path("/connections/quickbooks/authorize"), headers=tenant.headers, follow_redirects=False)
    assert response.status_code == 307
    assert binding_cookie(response)["secure"] is True
    assert binding_cookie(response)["path"] == "/connections/quickbooks/callback"


def test_behind_an_https_public_url_the_cookie_is_secure_and_its_path_the_public_one(
    app: FastAPI, client: TestClient, tenant: TenantInfo, xero: XeroFake
) -> None:
    app.state.settings.public_url = "https://firm.example/clientdock/"
    response = client.get(tenant.path("/connections/xero/authorize"), headers=tenant.headers, follow_redirects=False)
    assert binding_cookie(response)["secure"] is True
    assert binding_cookie(response)["path"] == "/clientdock/connections/xero/callback"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_callback_in_a_browser_without_the_cookie_connects_nothing_and_spends_the_state(
    provider: str, app: FastAPI, client: TestClient, tenant: TenantInfo, platforms: dict[str, FakePlatform], database: Database
) -> None:
    link = authorize(client, tenant, provider)  # the attacker's tenant starts, and hands the link on
    back = at_the_platform(link)  # somebody of another firm approves it
    assert_refused_as_another_browser(another_browser(app).get(back, follow_redirects=False))
    assert connections(database) == []
    assert platforms[provider].recorded("token") == []  # the code was never exchanged
    replayed = client.get(back, follow_redirects=False)  # not even the starting browser can use it now
    assert replayed.status_code == 400
    assert "already used" in replayed.json()["detail"]
    assert connections(database) == []


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_callback_with_another_browsers_cookie_connects_nothing(
    provider: str, app: FastAPI, client: TestClient, tenant: TenantInfo, platforms: dict[str, FakePlatform], database: Database
) -> None:
    victim = another_browser(app)
    own = victim.get(tenant.path(f"/connections/{provider}/authorize"), headers=tenant.headers, follow_redirects=False)
    back = at_the_platform(authorize(client, tenant, provider))  # the victim's browser holds a cookie, not this one's
    assert_refused_as_another_browser(victim.get(back, follow_redirects=False))
    back = at_the_platform(authorize(client, tenant, provider))
    forged = f"{cookie_name(state_of(back))}={binding_cookie(own).value}"  # its own nonce under this state's name
    assert_refused_as_another_browser(another_browser(app).get(back, headers={"cookie": forged}, follow_redirects=False))
    assert connections(database) == []
    assert platforms[provider].recorded("token") == []


@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_browser_that_started_connects_and_its_cookie_is_cleared(
    provider: str, client: TestClient, tenant: TenantInfo, platforms: dict[str, FakePlatform], database: Database
) -> None:
    location = authorize(client, tenant, provider)
    name = cookie_name(state_of(location))
    assert name in client.cookies
    done = client.get(at_the_platform(location), follow_redirects=False)
    assert done.status_code == 201, done.text
    assert [c["provider"] for c in done.json()["connections"]] == [provider]
    cleared = binding_cookie(done)
    assert (cleared.key, cleared.value, cleared["max-age"], cleared["path"]) == (name, "", "0", f"/connections/{provider}/callback")
    assert name not in client.cookies
    assert len(connections(database)) == 1


def test_two_round_trips_started_in_one_browser_both_finish(
    client: TestClient, tenant: TenantInfo, platforms: dict[str, FakePlatform]
) -> None:
    first, second = authorize(client, tenant, "xero"), authorize(client, tenant, "xero")  # two tabs
    assert client.get(at_the_platform(second), follow_redirects=False).status_code == 201
    assert client.get(at_the_platform(first), follow_redirects=False).status_code == 201


def test_a_refused_callback_clears_the_cookie_too(client: TestClient, tenant: TenantInfo, xero: XeroFake) -> None:
    xero.add_tenant()
    xero.oauth.deny = True
    location = authorize(client, tenant, "xero")
    answer = client.get(at_the_platform(location), follow_redirects=False)
    assert answer.status_code == 400
    assert "did not grant access" in answer.json()["detail"]
    assert cookie_name(state_of(location)) not in client.cookies


def test_a_state_recorded_before_browsers_were_bound_completes_nowhere(
    client: TestClient, tenant: TenantInfo, settings: Settings, database: Database, xero: XeroFake
) -> None:
    state = "s" * 43
    with database.session() as session:
        session.add(
            OAuthState(
                state_hash=hashlib.sha256(state.encode()).hexdigest(),
                tenant_id=tenant.id,
                provider="xero",
                code_verifier=encrypt(settings.data_dir, "v" * 64),
                expires_at=utcnow() + timedelta(minutes=5),
            )  # fmt: skip
        )
    answer = client.get(f"/connections/xero/callback?state={state}&code=c", headers={"cookie": f"{cookie_name(state)}=anything"})
    assert_refused_as_another_browser(answer)
    assert xero.recorded("token") == []


def test_a_link_started_on_the_page_completes_only_in_that_browser(
    app: FastAPI, client: TestClient, tenant: TenantInfo, database: Database, xero: XeroFake
) -> None:
    xero.add_tenant("Hopper Computing")
    user = make_user(database, tenant)
    assert sign_in(client, user.email, user.password).status_code == 303
    started = client.post("/connections/xero/connect", data={"csrf_token": page_token(client)}, follow_redirects=False)
    assert started.status_code == 303
    cookie = binding_cookie(started)
    assert (cookie["path"], cookie["httponly"], cookie["samesite"].lower()) == ("/connections/xero/callback", True, "lax")
    back = at_the_platform(started.headers["location"])
    assert_refused_as_another_browser(another_browser(app).get(back, follow_redirects=False))
    assert connections(database) == []
    assert client.get(back, follow_redirects=False).status_code == 400  # spent
    again = client.post("/connections/xero/connect", data={"csrf_token": page_token(client)}, follow_redirects=False)
    done = client.get(at_the_platform(again.headers["location"]), follow_redirects=False)
    assert (done.status_code, done.headers["location"]) == (303, "/connections?connected=1")
    assert binding_cookie(done)["max-age"] == "0"
