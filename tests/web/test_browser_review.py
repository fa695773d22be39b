"""The Import dialog's review in Chromium: a failing cell fixed in place and imported, the
update preview with the "Existing clients" choice, checks that never reach Imports, the
mapping remembered for the same headers, arrow keys that do not check per key press, and
focus on the file picker. Screenshots go to tests/artifacts/ (git-ignored)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, Request, expect

from tests.web import test_browser as harness
from tests.web.test_browser import LAPTOP, PHONE, Server, open_page, settled, shot, sign_in

# This module's own Chromium and server (module-scoped fixtures of the browser tests).
browser = harness.browser
server = harness.server
errors = harness.errors

pytestmark = pytest.mark.browser


def open_dialog(page: Page) -> Locator:
    page.get_by_role("button", name="Import").click()
    dialog = page.get_by_role("dialog", name="Import clients")
    expect(dialog).to_be_visible()
    return dialog


def attach(dialog: Locator, path: Path, content: str) -> None:
    path.write_text(content)
    picker = dialog.get_by_label("Choose a file")
    expect(picker).to_be_attached()
    settled(dialog.page)
    picker.set_input_files(path)
    expect(dialog.get_by_text("Columns in your file")).to_be_visible(timeout=30_000)


def client_by_email(server: Server, email: str) -> dict[str, object]:
    with httpx.Client(base_url=server.url, headers={"X-API-Key": server.api_key}, timeout=30) as api:
        found = api.get("/tenants/demo/clients", params={"search": email}).json()["items"]
    assert len(found) == 1, found
    item: dict[str, object] = found[0]
    return item


def test_a_failing_cell_is_fixed_in_place_then_imported(browser: Browser, server: Server, errors: list[str], tmp_path: Path) -> None:
    page = open_page(browser, errors, LAPTOP)
    sign_in(page, server)
    dialog = open_dialog(page)
    assert page.evaluate("document.activeElement && document.activeElement.id") == "import-file"  # focus starts on the picker
    attach(dialog, tmp_path / "review.csv", "First name,Last name,Email\nZoe,Fixme,zoe-at-example\nYan,Okafor,yan@okafor.example.com\n")
    review = dialog.locator("#review")
    expect(review).to_contain_text("Row 1")
    expect(review).to_contain_text("'zoe-at-example' is not a valid email address")
    expect(dialog.locator(".tally__item--failed dd")).to_have_text("1")
    shot(page, "review-1-failing-row-laptop.png", full_page=False)
    previews = [dialog.locator("input[name=dry_run]").first.get_attribute("value")]

    cell = review.get_by_label("Email")
    expect(cell).to_have_attribute("aria-invalid", "true")
    cell.fill("zoe@fixed.example.com")
    review.get_by_role("button", name="Check row 1 again").click()
    expect(dialog.locator(".tally__item--failed dd")).to_have_text("0", timeout=30_000)
    expect(dialog.locator("#review")).to_have_count(0)
    settled(page)
    shot(page, "review-2-fixed-laptop.png", full_page=False)
    previews.append(dialog.locator("input[name=dry_run]").first.get_attribute("value"))

    dialog.get_by_role("button", name="Import 2 clients").click()
    expect(dialog.locator(".job-progress__percent")).to_have_text("100 %", timeout=60_000)
    fixed = client_by_email(server, "zoe@fixed.example.com")
    assert (fixed["firstName"], fixed["lastName"]) == ("Zoe", "Fixme")

    # The checks made on the way are not imports: the Imports page does not list them.
    page.keyboard.press("Escape")
    page.goto(server.url + "/imports")
    table = page.locator(".imports-table")
    expect(table).to_contain_text("review.csv")
    for dry_run in previews:
        assert dry_run
        assert page.locator(f'a[href="/imports/{dry_run}"]').count() == 0
    expect(table.locator("a", has_text="review.csv")).to_have_count(1)
    assert errors == [], errors


def test_updates_are_previewed_and_fill_empty_is_sent(browser: Browser, server: Server, errors: list[str], tmp_path: Path) -> None:
    page = open_page(browser, errors, LAPTOP)
    sign_in(page, server)
    dialog = open_dialog(page)
    row = "Isla,Robertson-Hay,isla.robertson@mail.example.com,020 7946 0958"
    attach(dialog, tmp_path / "updates.csv", f"First name,Last name,Email,Phone\n{row}\n")
    updates = dialog.locator(".updates")
    expect(updates).to_contain_text("Client that would change", timeout=30_000)
    expect(updates).to_contain_text("isla.robertson@mail.example.com")
    change = updates.locator(".changes li", has_text="Last name")
    expect(change.locator("del")).to_have_text("Robertson")
    expect(change.locator("ins")).to_have_text("Robertson-Hay")
    expect(dialog.get_by_label("Update them")).to_be_checked()
    settled(page)
    dialog.locator(".updates").scroll_into_view_if_needed()
    shot(page, "review-3-update-preview-laptop.png", full_page=False)

    with page.expect_request("**/clients/import/preview") as checked:
        dialog.get_by_label("Fill empty fields only").check()
    assert "onExisting=fillEmpty" in (checked.value.post_data or "")
    expect(dialog.locator('#import-footer input[name="onExisting"]')).to_have_value("fillEmpty", timeout=30_000)
    settled(page)
    shot(page, "review-4-fill-empty-laptop.png", full_page=False)
    with page.expect_request("**/clients/import/start") as started:
        dialog.get_by_role("button", name="Import 1 client").click()
    assert "onExisting=fillEmpty" in (started.value.post_data or "")
    expect(dialog.locator(".job-progress__percent")).to_have_text("100 %", timeout=60_000)
    assert errors == [], errors


def test_the_mapping_is_remembered_and_arrow_keys_check_once(browser: Browser, server: Server, errors: list[str], tmp_path: Path) -> None:
    page = open_page(browser, errors, LAPTOP)
    sign_in(page, server)
    dialog = open_dialog(page)
    content = "Given,Family,Contact\nKai,Lindgren,kai@lindgren.example.com\n"
    attach(dialog, tmp_path / "contacts.csv", content)
    expect(dialog.get_by_text("Pick the columns that hold the client's name and Email")).to_be_visible()
    expect(dialog.locator("#mapping-missing")).to_contain_text("Required: no column is imported as First name")
    expect(dialog.locator("#mapping-missing")).to_contain_text("Required: no column is imported as Email")
    settled(page)
    shot(page, "review-5-missing-marked-laptop.png", full_page=False)
    dialog.get_by_label("Client field for column Given").select_option("firstName")
    expect(dialog.locator("#mapping-missing")).not_to_contain_text("First name", timeout=30_000)
    expect(dialog.locator("#mapping-missing")).to_contain_text("Email")
    settled(page)

    # Arrow keys through a dropdown check the file once, when the dropdown is left.
    sent: list[Request] = []
    page.on("request", lambda request: sent.append(request) if request.url.endswith("/clients/import/preview") else None)
    family = dialog.get_by_label("Client field for column Family")
    family.focus()
    for _ in range(3):
        page.keyboard.press("ArrowDown")
    page.wait_for_timeout(1200)
    assert sent == []
    page.keyboard.press("Tab")
    expect(dialog.locator("#dry-run")).to_be_visible()
    page.wait_for_timeout(1200)
    assert len(sent) == 1

    # Two columns on one field are marked on both rows.
    dialog.get_by_label("Client field for column Family").select_option("firstName")
    expect(dialog.locator("#conflict-1")).to_contain_text("First name is also picked for column “Given”", timeout=30_000)
    expect(dialog.locator("#conflict-0")).to_contain_text("also picked for column “Family”")
    settled(page)
    shot(page, "review-6-conflict-laptop.png", full_page=False)
    dialog.get_by_label("Client field for column Family").select_option("lastName")
    dialog.get_by_label("Client field for column Contact").select_option("email")
    expect(dialog.locator("#dry-run")).to_contain_text("Would create", timeout=30_000)
    expect(dialog.locator("#conflict-0")).to_be_empty()
    dialog.get_by_role("button", name="Import 1 client").click()
    expect(dialog.locator(".job-progress__percent")).to_have_text("100 %", timeout=60_000)

    # The same headers again: the mapping picked last time comes first, and the check runs with it.
    dialog.get_by_role("button", name="Import another file").click()
    attach(dialog, tmp_path / "contacts-2.csv", "Contact,Given,Family\nlea@lindgren.example.com,Lea,Lindgren\n")
    expect(dialog.get_by_text("the last time you imported a file with the same columns")).to_be_visible()
    expect(dialog.get_by_label("Client field for column Contact")).to_have_value("email")
    expect(dialog.locator("#dry-run")).to_contain_text("Would create", timeout=30_000)
    settled(page)
    shot(page, "review-7-remembered-laptop.png", full_page=False)
    assert errors == [], errors


def test_the_review_grid_at_phone_width(browser: Browser, server: Server, errors: list[str], tmp_path: Path) -> None:
    page = open_page(browser, errors, PHONE, scale=2)
    sign_in(page, server)
    dialog = open_dialog(page)
    attach(dialog, tmp_path / "phone.csv", "First name,Email\n,nobody@phone.example\nMo,mo-at-phone\n")
    expect(dialog.locator("#review .review__row")).to_have_count(2, timeout=30_000)
    dialog.locator("#review").scroll_into_view_if_needed()
    settled(page)
    shot(page, "review-8-grid-phone.png", full_page=False)
    assert dialog.evaluate("el => el.scrollWidth <= el.clientWidth")
    assert errors == [], errors
