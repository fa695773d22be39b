"""Sign in, sign out, sessions and CSRF, over HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from clientdock.db import Database, utcnow
from clientdock.errors import Conflict, ValidationFailed
from clientdock.users import service as users
from clientdock.users.models import User, UserSession
from clientdock.web.auth import CSRF_COOKIE, SESSION_COOKIE
from clientdock.web.signin import WRONG
from tests.conftest import TenantInfo
from tests.web.helpers import UserInfo, csrf_token, make_user, sign_in

PAGES = ["/clients", "/clients/some-id", "/imports", "/connections"]


def test_sign_in_form_has_labelled_fields_and_a_token(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    html = response.text
    assert '<label for="email">' in html
    assert '<label for="password">' in html
    assert csrf_token(html) == client.cookies[CSRF_COOKIE]
    assert "HttpOnly" in response.headers["set-cookie"]
    assert "SameSite=lax" in response.headers["set-cookie"]


def test_sign_in_lands_on_clients_with_a_session_cookie(client: TestClient, user: UserInfo) -> None:
    response = sign_in(client, user.email.upper(), user.password)
    assert response.status_code == 303
    assert response.headers["location"] == "/clients"
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE + "="))
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie
    assert "Max-Age" not in cookie
    page = client.get("/clients")
    assert page.status_code == 200
    assert user.email in page.text
    assert "Sign out" in page.text
    assert client.get("/", follow_redirects=False).headers["location"] == "/clients"


def test_the_session_cookie_is_secure_over_https(app: FastAPI, user: UserInfo) -> None:
    with TestClient(app, base_url="https://testserver") as secure:
        response = sign_in(secure, user.email, user.password)
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE + "="))
    assert "Secure" in cookie


def test_only_a_hash_of_the_session_token_is_stored(client: TestClient, user: UserInfo, database: Database) -> None:
    sign_in(client, user.email, user.password)
    token = client.cookies[SESSION_COOKIE]
    with database.session() as session:
        stored = session.scalars(select(UserSession.token_hash)).all()
        password_hash = session.scalar(select(User.password_hash))
    assert stored == [users.hash_token(token)]
    assert password_hash is not None
    assert password_hash.startswith("$argon2id$")


@pytest.mark.parametrize(("email", "password"), [("anna@acme.test", "wrong password"), ("nobody@acme.test", "anything")])
def test_wrong_credentials_show_the_form_again_without_saying_which(client: TestClient, user: UserInfo, email: str, password: str) -> None:
    response = sign_in(client, email, password)
    assert response.status_code == 400
    assert WRONG.replace("'", "&#39;") in response.text
    assert f'value="{email}"' in response.text
    assert SESSION_COOKIE not in client.cookies
    assert client.get("/clients", follow_redirects=False).status_code == 303


@pytest.mark.parametrize("path", PAGES)
def test_pages_redirect_to_sign_in_when_signed_out(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/?next=")


def test_htmx_requests_are_redirected_with_hx_redirect(client: TestClient) -> None:
    response = client.get("/clients?search=a", headers={"HX-Request": "true"}, follow_redirects=False)
    assert response.status_code == 200
    assert response.headers["hx-redirect"].startswith("/?next=")


def test_sign_in_returns_to_the_page_asked_for_but_never_off_site(client: TestClient, user: UserInfo) -> None:
    assert sign_in(client, user.email, user.password, next_="/imports").headers["location"] == "/imports"
    client.cookies.clear()
    assert sign_in(client, user.email, user.password, next_="//evil.example/x").headers["location"] == "/clients"
    client.cookies.clear()
    assert sign_in(client, user.email, user.password, next_="https://evil.example").headers["location"] == "/clients"


def test_a_sign_in_without_a_valid_token_is_refused(client: TestClient, user: UserInfo) -> None:
    client.get("/")
    missing = client.post("/", data={"email": user.email, "password": user.password}, follow_redirects=False)
    forged = client.post("/", data={"email": user.email, "password": user.password, "csrf_token": "forged"}, follow_redirects=False)
    for response in (missing, forged):
        assert response.status_code == 403
        assert "text/html" in response.headers["content-type"]
        assert "Form expired" in response.text
    assert SESSION_COOKIE not in client.cookies


def test_signed_in_forms_need_the_session_token(signed_in: TestClient) -> None:
    anonymous_token = "not-the-session-token"
    refused = signed_in.post("/sign-out", data={"csrf_token": anonymous_token}, follow_redirects=False)
    assert refused.status_code == 403
    assert signed_in.get("/clients", follow_redirects=False).status_code == 200
    # htmx requests may send the token as a header instead.
    token = csrf_token(signed_in.get("/clients").text)
    assert signed_in.post("/sign-out", headers={"X-CSRF-Token": token}, follow_redirects=False).status_code == 303


def test_sign_out_ends_the_session_for_good(signed_in: TestClient) -> None:
    token = csrf_token(signed_in.get("/clients").text)
    cookie = signed_in.cookies[SESSION_COOKIE]
    response = signed_in.post("/sign-out", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert signed_in.get("/clients", follow_redirects=False).status_code == 303
    # Replaying the old cookie does not bring the session back.
    signed_in.cookies.set(SESSION_COOKIE, cookie)
    assert signed_in.get("/clients", follow_redirects=False).status_code == 303


def test_users_are_created_once_per_email_case_insensitively(database: Database, tenant: TenantInfo, other_tenant: TenantInfo) -> None:
    make_user(database, tenant, email="Sam@Acme.test")
    with pytest.raises(Conflict):
        make_user(database, other_tenant, email="sam@acme.TEST")
    with pytest.raises(ValidationFailed):
        make_user(database, tenant, email="not an email")


def test_pages_send_security_headers(signed_in: TestClient) -> None:
    headers = signed_in.get("/clients").headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["cache-control"] == "no-store"
    assert headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("column", ["last_seen_at", "expires_at"])
def test_idle_or_expired_sessions_no_longer_sign_in(database: Database, user: UserInfo, column: str) -> None:
    with database.session() as session:
        started = users.sign_in(session, user.email, user.password)
    with database.session() as session:
        assert users.resolve_session(session, started.token) is not None
        past = utcnow() - users.IDLE_TIMEOUT - timedelta(minutes=1)
        session.execute(update(UserSession).values({column: past}))
    with database.session() as session:
        assert users.resolve_session(session, started.token) is None
