"""The Connections page: the partner apps assigned to the signed-in user's business, with
their imports; other businesses' apps never show."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from clientdock.db import Database
from tests.apps.helpers import JOHN, AppInfo, assign, platform_key, push, register
from tests.conftest import TenantInfo


def app_card(html: str, app: AppInfo) -> str:
    found = re.search(rf'<li class="connection" data-app="{app.code}">(.*?)</li>', html, re.S)
    assert found, f"no card for {app.code}"
    return found.group(1)


def test_lists_the_businesss_apps_with_their_last_import(
    database: Database, signed_in: TestClient, tenant: TenantInfo, other_tenant: TenantInfo
) -> None:
    platform = platform_key(database)
    pusher = register(signed_in, platform, name="Payroll Sync")
    quiet = register(signed_in, platform, name="Quiet App")
    elsewhere = register(signed_in, platform, name="Someone Else's App")
    assign(signed_in, platform.headers, pusher, tenant.code)
    assign(signed_in, platform.headers, quiet, tenant.code)
    assign(signed_in, platform.headers, elsewhere, other_tenant.code)
    push(signed_in, pusher, pusher.acting_for(tenant.code), JOHN)
    last = push(signed_in, pusher, pusher.acting_for(tenant.code), [JOHN, {"first_name": "Bad", "email": "nope"}], upload_type="bulk")
    assert last.status_code == 201, last.text

    html = signed_in.get("/connections").text

    card = app_card(html, pusher)
    assert "Payroll Sync" in card
    assert "2 imports" in card
    assert f'href="/imports/{last.json()["id"]}"' in card
    assert "0 created · 0 updated · 1 failed" in card
    assert "No imports from this app yet." in app_card(html, quiet)
    assert "Someone Else" not in html
    assert 'href="/imports?door=app"' in html
    assert "No partner apps yet" not in html


def test_an_unassigned_app_leaves_the_page(database: Database, signed_in: TestClient, tenant: TenantInfo) -> None:
    platform = platform_key(database)
    app = register(signed_in, platform)
    uid = assign(signed_in, platform.headers, app, tenant.code)
    assert f'data-app="{app.code}"' in signed_in.get("/connections").text

    assert signed_in.delete(f"/v3/apps/app_assignments/{uid}", headers=platform.headers).status_code == 204

    html = signed_in.get("/connections").text
    assert f'data-app="{app.code}"' not in html
    assert "No partner apps yet" in html


def test_app_names_are_escaped(database: Database, signed_in: TestClient, tenant: TenantInfo) -> None:
    platform = platform_key(database)
    app = register(signed_in, platform, name="<script>alert(1)</script>")
    assign(signed_in, platform.headers, app, tenant.code)
    html = signed_in.get("/connections").text
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html
