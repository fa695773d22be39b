"""In Chromium: warnings on secondary values, as an accountant sees them — the dialog's check
counts them, the import's page tells each in words and filters the rows that have one."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.web.test_browser import LAPTOP, Server, browser, errors, open_page, server, settled, shot, sign_in

__all__ = ["browser", "errors", "server"]  # the fixtures this module borrows
pytestmark = pytest.mark.browser

WARNED = (
    "First Name,Last Name,Email,Date of Birth,Phone,Gender\n"
    "Wren,Alder,wren.alder@alder-birch.co.uk,03/14,020 7946 0101,female\n"
    "Yusuf,Birch,yusuf.birch@alder-birch.co.uk,31/02/1980,ring the office,\n"
    "Zara,Cedar,zara.cedar@alder-birch.co.uk,14/03/1981,020 7946 0103,sometimes\n"
    "Abel,Dune,abel.dune@alder-birch.co.uk,15/03/1982,020 7946 0104,male\n"
)


def test_warnings_are_counted_in_the_check_and_told_in_words_on_the_import(
    browser: Browser, server: Server, errors: list[str], tmp_path: Path
) -> None:
    page = open_page(browser, errors, LAPTOP)
    sign_in(page, server)
    page.get_by_role("button", name="Import").click()
    dialog = page.get_by_role("dialog", name="Import clients")
    path = tmp_path / "birthdays.csv"
    path.write_text(WARNED)
    dialog.get_by_label("Choose a file").set_input_files(path)
    dry_run = dialog.locator("#dry-run")
    expect(dry_run).to_contain_text("With warnings", timeout=30_000)
    expect(dry_run.locator(".tally__item--warned dd")).to_have_text("3")
    expect(dry_run).to_contain_text("3 rows would be imported with a warning")
    settled(page)
    shot(page, "import-dry-run-warnings.png", full_page=False)
    page.keyboard.press("Escape")

    with httpx.Client(base_url=server.url, headers={"X-API-Key": server.api_key}, timeout=60) as api:
        done = api.post("/tenants/demo/clients/import/csv", files={"file": ("birthdays.csv", WARNED.encode(), "text/csv")})
    assert done.status_code == 201, done.text
    job_id = done.json()["id"]
    page.goto(f"{server.url}/imports/{job_id}")
    warned = page.locator("a.tally__item--warned")
    expect(warned).to_have_text("With warnings3")
    rows = page.locator("#import-rows")
    expect(rows).to_contain_text("Date of birth: '03/14' has no year (use YYYY-MM-DD); the field was left as it was")
    expect(rows).to_contain_text("Phone: 'ring the office' is not a phone number that can be read")
    expect(rows).to_contain_text("Gender: 'sometimes' is not a gender")
    expect(rows).not_to_contain_text("dateOfBirth")
    shot(page, "import-page-warnings.png")
    warned.click()
    page.wait_for_url("**/imports/*?outcome=warning")
    expect(page.locator("#import-rows tbody tr")).to_have_count(3)
    expect(page.locator("#import-rows")).not_to_contain_text("abel.dune@alder-birch.co.uk")
    assert errors == []
