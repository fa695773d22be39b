"""The Import dialog in Chromium with a practice's list of companies, trusts and partnerships:
no first-name column, a Client Name column; the dialog checks it, imports it and the clients
list shows them. A file with no name column at all is told, in words, what to pick."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.web.test_browser import LAPTOP, Server, browser, errors, open_page, server, settled, shot, sign_in

pytestmark = pytest.mark.browser
__all__ = ["browser", "errors", "server"]  # fixtures shared with the other browser tests

PRACTICE = (
    "Client Name,Client Type,Email,Company Number\n"
    "Acme Trading Ltd,Private limited company,accounts@acme-trading.example,01234567\n"
    "Hart Family Trust,Trust,trustees@hart-trust.example,\n"
    "Bloggs & Co,Partnership,jo@bloggs-co.example,\n"
    "Riverside Food Bank,Charity,hello@riverside-food.example,\n"
    ",Limited company,nameless@practice.example,07654321\n"
)


def test_a_company_only_file_imports_through_the_dialog(browser: Browser, server: Server, errors: list[str], tmp_path: Path) -> None:
    page = open_page(browser, errors, LAPTOP)
    sign_in(page, server)
    page.get_by_role("button", name="Import").click()
    dialog = page.get_by_role("dialog", name="Import clients")
    expect(dialog).to_contain_text("Required columns: a name and an email")

    # A file with no column naming the client: the dialog says what a name column is.
    nameless = tmp_path / "references.csv"
    nameless.write_text("Reference,Email\nR1,someone@practice.example\n")
    dialog.get_by_label("Choose a file").set_input_files(nameless)
    expect(dialog.get_by_text("Pick the column that holds the client's name.")).to_be_visible()
    expect(dialog).to_contain_text("the name of a company, trust, partnership or other organisation (Client name or Company)")
    settled(page)
    shot(page, "import-organisations-1-no-name-laptop.png", full_page=False)

    # The practice's list: names and types, no first names; the dry run would create four.
    dialog.get_by_role("button", name="Choose another file").click()
    practice = tmp_path / "practice-clients.csv"
    practice.write_text(PRACTICE)
    expect(dialog.get_by_text("Before you upload")).to_be_visible()
    settled(page)
    dialog.get_by_label("Choose a file").set_input_files(practice)
    expect(dialog.get_by_text("Columns in your file")).to_be_visible(timeout=30_000)
    expect(dialog.get_by_label("Client field for column Client Name")).to_have_value("name")
    expect(dialog.get_by_label("Client field for column Client Type")).to_have_value("type")
    summary = dialog.locator("#dry-run")
    expect(summary).to_contain_text("Would create", timeout=30_000)
    expect(summary.locator(".tally__item--created dd")).to_have_text("4")
    expect(summary.locator(".tally__item--failed dd")).to_have_text("1")
    expect(summary).to_contain_text("Row 5")
    expect(summary).to_contain_text("Name: is required for an organisation (type: private limited company)")
    expect(dialog).not_to_contain_text("Pick the column")
    settled(page)
    shot(page, "import-organisations-2-dry-run-laptop.png", full_page=False)

    dialog.get_by_role("button", name="Import 4 clients").click()
    expect(dialog.locator(".job-progress__percent")).to_have_text("100 %", timeout=60_000)
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(page.locator(".results__count")).to_have_text("32 clients")
    page.get_by_label("Search clients").fill("example")
    page.get_by_label("Type").select_option("Trust")
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody tr")).to_contain_text("Hart Family Trust")
    expect(page.locator("tbody tr")).to_contain_text("trustees@hart-trust.example")
    page.get_by_label("Type").select_option("Partnership")
    expect(page.locator("tbody")).to_contain_text("Bloggs & Co")
    page.get_by_label("Type").select_option("PrivateLimitedCompany")
    expect(page.locator("tbody")).to_contain_text("Acme Trading Ltd")
    shot(page, "import-organisations-3-clients-laptop.png", full_page=False)
    assert errors == []
