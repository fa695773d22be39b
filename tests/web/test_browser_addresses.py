"""Addresses in the Import dialog, in Chromium: a file's address columns are matched and shown
with human labels ("Billing address – Postcode"), a column can be pointed at an address part,
and the imported client's page shows the addresses."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.web.test_browser import LAPTOP, Server, browser, errors, open_page, server, settled, shot, sign_in

pytestmark = pytest.mark.browser
__all__ = ["browser", "errors", "server"]  # fixtures shared with the other browser tests

FILE = (
    "First Name,Last Name,E-mail,Address,Billing Postcode,Shipping Town,Where to send\r\n"
    'Rosa,Quinn,rosa.quinn@mail.example.com,"4 Harbour Row\nWhitby\nYO21 3PU\nUnited Kingdom",YO21 1AA,Scarborough,1 Mill Lane\r\n'
)


def selected_label(dialog_select: object) -> str:
    text: str = dialog_select.evaluate("s => s.options[s.selectedIndex].text")  # type: ignore[attr-defined]
    return text


def test_address_columns_in_the_dialog(browser: Browser, server: Server, errors: list[str], tmp_path: Path) -> None:
    page = open_page(browser, errors, LAPTOP)
    sign_in(page, server)
    page.get_by_role("button", name="Import").click()
    dialog = page.get_by_role("dialog", name="Import clients")
    path = tmp_path / "whitby-clients.csv"
    path.write_text(FILE, encoding="utf-8")
    dialog.get_by_label("Choose a file").set_input_files(path)
    expect(dialog.get_by_text("Columns in your file")).to_be_visible()
    settled(page)
    billing = dialog.get_by_label("Client field for column Billing Postcode")
    assert selected_label(billing) == "Billing address – Postcode"
    assert selected_label(dialog.get_by_label("Client field for column Address")) == "Postal address – Line 1"
    assert selected_label(dialog.get_by_label("Client field for column Shipping Town")) == "Shipping address – Town or city"
    options = billing.locator("option").all_inner_texts()
    assert "Registered office – Postcode" in options
    assert not [text for text in options if "addresses." in text]

    # An unknown column pointed at an address part by its label.
    dialog.get_by_label("Client field for column Where to send").select_option(label="Registered office – Line 1")
    settled(page)
    summary = dialog.locator("#dry-run")
    expect(summary).to_contain_text("Would create", timeout=30_000)
    expect(summary).not_to_contain_text("Where to send")
    shot(page, "addresses-1-dialog-laptop.png", full_page=False)
    expect(dialog.get_by_text("addresses.", exact=False)).to_have_count(0)

    dialog.get_by_role("button", name=re.compile(r"^Import 1 client")).click()
    expect(page.locator(".toast").first).to_contain_text("Import finished", timeout=30_000)
    page.keyboard.press("Escape")
    page.get_by_label("Search").first.fill("Rosa")
    page.get_by_role("link", name=re.compile("Rosa Quinn")).first.click()
    page.wait_for_url("**/clients/*")
    body = page.locator("main")
    for text in ("Postal address", "4 Harbour Row", "Whitby", "YO21 3PU", "United Kingdom", "Billing address", "YO21 1AA", "Scarborough"):
        expect(body).to_contain_text(text)
    expect(body).to_contain_text("Registered office")
    expect(body).to_contain_text("1 Mill Lane")
    shot(page, "addresses-2-client-laptop.png")
    assert errors == []
