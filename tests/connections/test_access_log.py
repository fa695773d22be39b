"""``clientdock serve`` logs each request (uvicorn's access log) without the secrets of its query
string: the platform sends the browser back to ``/connections/{provider}/callback?code=…&state=…``,
and that authorization code and state must not be kept in a log."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from clientdock.db import Database
from clientdock.logs import redact_query
from tests.conftest import make_tenant
from tests.fakes.xero import XeroFake
from tests.processes import Service


def test_the_values_of_secret_parameters_are_redacted_and_the_rest_kept() -> None:
    assert redact_query("/connections/xero/callback?code=abc123&state=xyz789&scope=openid") == (
        "/connections/xero/callback?code=[redacted]&state=[redacted]&scope=openid"
    )
    assert redact_query("/x?API_KEY=k&Token=t&tag=a%20b") == "/x?API_KEY=[redacted]&Token=[redacted]&tag=a+b"
    assert redact_query("/tenants/acme/clients?search=quill&limit=5") == "/tenants/acme/clients?search=quill&limit=5"
    assert redact_query("/healthz") == "/healthz"


@pytest.mark.slow
def test_the_access_log_keeps_no_oauth_code_or_state(tmp_path: Path, xero: XeroFake) -> None:
    xero.add_tenant()
    data_dir = tmp_path / "data"
    platform = {f"CLIENTDOCK_{name.upper()}": value for name, value in xero.settings().items()}
    service = Service({"CLIENTDOCK_DATA_DIR": str(data_dir), **platform}, tmp_path / "serve.log")
    service.env["CLIENTDOCK_PUBLIC_URL"] = service.url
    try:
        service.start()
        db = Database(f"sqlite:///{data_dir / 'clientdock.db'}")
        tenant = make_tenant(db)
        db.dispose()
        with httpx.Client() as browser:  # keeps the cookie that binds the approval to it
            to_platform = browser.get(service.url + tenant.path("/connections/xero/authorize"), headers=tenant.headers)
            assert to_platform.status_code == 307, to_platform.text
            at_platform = browser.get(to_platform.headers["location"])
            callback = at_platform.headers["location"]
            sent = parse_qs(urlsplit(callback).query)
            back = browser.get(callback)
            assert back.status_code == 201, back.text
    finally:
        service.stop()
    logged = service.output()
    assert '"GET /connections/xero/callback?code=[redacted]&state=[redacted] HTTP/1.1" 201' in logged
    assert sent["code"][0] not in logged
    assert sent["state"][0] not in logged
