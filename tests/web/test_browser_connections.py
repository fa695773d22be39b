"""The Connections page in Chromium: connect Xero through the OAuth round trip (a fake Xero
on loopback plays the consent screen), import every contact, and disconnect."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.fakes.clock import FakeClock
from tests.fakes.companies_house import CompaniesHouseFake
from tests.fakes.xero import XeroFake
from tests.secret_watch import watch_output
from tests.web.test_browser import (
    LAPTOP,
    PHONE,
    Server,
    browser,
    errors,
    first_json_line,
    free_port,
    open_page,
    shot,
    sign_in,
    wait_until_healthy,
)

pytestmark = pytest.mark.browser
__all__ = ["browser", "errors"]  # fixtures shared with the other browser tests


@pytest.fixture(scope="module")
def xero() -> Iterator[XeroFake]:
    fake = XeroFake(FakeClock(datetime.now(UTC)))
    fake.start()
    organisation = fake.add_tenant("Hopper Computing")
    fake.generate_contacts(organisation, 40)
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture(scope="module")
def register() -> Iterator[CompaniesHouseFake]:
    fake = CompaniesHouseFake()
    fake.seed_examples()
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, xero: XeroFake, register: CompaniesHouseFake) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp("serve-connections")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ, "CLIENTDOCK_DATA_DIR": str(data_dir), "CLIENTDOCK_PUBLIC_URL": url,
        **{f"CLIENTDOCK_{key.upper()}": value for key, value in {**xero.settings(), **register.settings()}.items()},
    }  # fmt: skip
    env.pop("CLIENTDOCK_DATABASE_URL", None)
    watch_output(data_dir / "server.log")
    watch_output(data_dir / "server.out")
    with (data_dir / "server.log").open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "clientdock.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            stdout=subprocess.PIPE, stderr=log, text=True, env=env,
        )  # fmt: skip
        try:
            credentials = first_json_line(process, timeout=120, keep=data_dir / "server.out")
            wait_until_healthy(url, timeout=120)
            yield Server(url, credentials["email"], credentials["password"], credentials["apiKey"], "")
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stdout:
                process.stdout.close()


def test_connect_xero_import_its_contacts_and_disconnect(browser: Browser, server: Server, xero: XeroFake, errors: list[str]) -> None:
    (organisation,) = xero.tenants
    picked_name = str(xero.add_contacts(organisation, [{"Name": "Zebedee Quill Ltd", "EmailAddress": "zq@quill.example"}])[0]["Name"])
    page = open_page(browser, errors, LAPTOP)
    sign_in(page, server)
    page.get_by_role("link", name="Connections").click()
    expect(page.get_by_role("heading", name="Accounting platforms")).to_be_visible()
    expect(page.get_by_role("button", name="Connect QuickBooks Online")).to_be_disabled()
    shot(page, "connections-empty-laptop.png")

    page.get_by_role("button", name="Connect Xero").click()
    page.wait_for_url("**/connections?connected=1")
    assert [c["name"] for c in page.context.cookies() if c["name"].startswith("clientdock_oauth_")] == []  # used, then cleared
    expect(page.get_by_role("status")).to_contain_text("Connected 1 organisation")
    card = page.locator("[data-connection]")
    expect(card).to_contain_text("Hopper Computing")
    expect(card).to_contain_text("Xero")
    shot(page, "connections-connected-laptop.png")

    card.get_by_role("button", name="Import all contacts").click()
    page.wait_for_url("**/imports/*")
    expect(page.get_by_role("navigation", name="Rows by outcome")).to_contain_text("41", timeout=30_000)
    shot(page, "connections-import-laptop.png")

    page.goto(server.url + "/connections")
    expect(page.locator("[data-connection]")).to_contain_text("last imported")

    page.get_by_role("link", name="Pick contacts…").click()
    page.get_by_label("Name or email").fill(picked_name)
    page.get_by_role("button", name="Search").click()
    expect(page.locator(".pick-list li")).to_have_count(1)
    page.locator(".pick-list").get_by_role("checkbox").check()
    shot(page, "connections-pick-laptop.png")
    page.get_by_role("button", name="Import the ticked contacts").click()
    page.wait_for_url("**/imports/*")
    expect(page.get_by_role("navigation", name="Rows by outcome")).to_contain_text("1", timeout=30_000)

    page.goto(server.url + "/connections")
    phone = open_page(browser, errors, PHONE)
    sign_in(phone, server)
    phone.goto(server.url + "/connections")
    shot(phone, "connections-phone-connected.png")

    page.locator("[data-connection]").get_by_role("button", name="Disconnect").click()
    page.wait_for_url("**/connections")
    expect(page.locator("[data-connection]")).to_contain_text("Disconnected")
    assert xero.recorded("revocation")
    assert errors == []


def test_enrich_a_company_from_its_page(browser: Browser, server: Server, errors: list[str]) -> None:
    made = httpx.post(
        f"{server.url}/tenants/demo/clients", headers={"X-API-Key": server.api_key},
        json={"name": "Iwoca", "type": "ltd", "companyNumber": "7798925"},
    ).json()  # fmt: skip
    page = open_page(browser, errors, LAPTOP)
    sign_in(page, server)
    page.goto(f"{server.url}/clients/{made['id']}")
    page.get_by_role("button", name="Enrich from Companies House").click()
    page.wait_for_url(f"**/clients/{made['id']}")
    card = page.locator("section[aria-labelledby='section-enrichment']")
    expect(card).to_contain_text("IWOCA LTD")
    expect(card).to_contain_text("Key dates")
    expect(card.get_by_role("button", name="Refresh from Companies House")).to_be_visible()
    shot(page, "client-enriched-laptop.png")

    page.goto(f"{server.url}/clients")
    page.get_by_label("Companies House").select_option("confirmation-due-30d")
    expect(page.locator(".results__count")).to_have_text("1 client matches")
    expect(page.locator("tbody")).to_contain_text("Iwoca")
    shot(page, "clients-due-filter-laptop.png")
    phone = open_page(browser, errors, PHONE)
    sign_in(phone, server)
    phone.goto(f"{server.url}/clients?due=confirmation-due-30d")
    shot(phone, "clients-due-filter-phone.png")
    assert errors == []
