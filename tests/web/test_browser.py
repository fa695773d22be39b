"""End to end in Chromium: a real ``clientdock serve`` on a loopback port and a fresh database.

The server prints the demo credentials on first start; the test signs in with them, seeds
clients through the API with the demo key, and drives the pages like a person would.
Screenshots go to tests/artifacts/ (git-ignored).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright

from clientdock.db import Database
from tests.secret_watch import watch_output
from tests.web.helpers import COMPANIES_HOUSE, set_enrichment

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 812}


@dataclass(frozen=True)
class Server:
    url: str
    email: str
    password: str
    api_key: str
    hopper_id: str


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def first_json_line(process: subprocess.Popen[str], timeout: float, keep: Path | None = None) -> dict[str, Any]:
    """The credentials line ``serve`` prints on first start (read on a thread: no blocking); the
    rest of its stdout (uvicorn's access log) is appended to ``keep``, for the secret watch."""
    found: list[dict[str, Any]] = []

    def read() -> None:
        assert process.stdout is not None
        with keep.open("a") if keep else open(os.devnull, "w") as out:
            for line in process.stdout:
                if line.startswith("{") and not found:
                    found.append(json.loads(line))
                    continue
                out.write(line)
                out.flush()

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + timeout
    while not found and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.1)
    assert found, "serve printed no credentials"
    return found[0]


def wait_until_healthy(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("the server did not become healthy")


PEOPLE = [
    ("Amelia", "Clarke", ["self-assessment"]), ("Oliver", "Patel", ["self-assessment", "landlord"]),
    ("Isla", "Robertson", []), ("George", "Okafor", ["cis"]), ("Freya", "Nowak", ["self-assessment"]),
    ("Arthur", "Brennan", ["landlord"]), ("Sofia", "Haddad", []), ("Noah", "Fitzgerald", ["self-assessment"]),
    ("Ivy", "Lindqvist", []), ("Leo", "Adeyemi", ["cis", "vat"]), ("Grace", "Whitfield", []),
    ("Harry", "Castellanos", ["self-assessment"]), ("Ava", "MacLeod", []), ("Jack", "Sørensen", ["landlord"]),
    ("Mia", "Oduya", []), ("Theo", "Kowalczyk", ["self-assessment"]), ("Ella", "Fraser", []),
    ("Oscar", "Nakamura", ["vat"]), ("Lily", "Gallagher", []), ("Alfie", "Rahman", ["self-assessment"]),
]  # fmt: skip
COMPANIES = [
    ("Hopper Computing Ltd", "ltd", "09876543", ["vat", "payroll"]), ("Brightwater Dental LLP", "llp", "OC412345", ["vat"]),
    ("Northgate Joinery Ltd", "ltd", "11223344", ["payroll"]), ("Kestrel & Finch Partnership", "partnership", None, []),
    ("Meadow Lane Nursery", "charity", None, ["payroll"]), ("Harbour View Cafés Ltd", "ltd", "12893410", ["vat", "payroll"]),
    ("Ashdown Property Holdings plc", "plc", "04455667", ["vat"]), ("Rivera Studio", "sole trader", None, []),
]  # fmt: skip


def seed(url: str, key: str) -> str:
    """Clients for the demo tenant through the API; returns Hopper Computing's id."""
    with httpx.Client(base_url=url, headers={"X-API-Key": key}, timeout=30) as api:
        payroll = api.post("/tenants/demo/client-groups", json={"name": "Payroll"}).json()["id"]
        year_end = api.post("/tenants/demo/client-groups", json={"name": "Year end"}).json()["id"]
        for n, (first, last, tags) in enumerate(PEOPLE):
            email = f"{first}.{last}@mail.example.com".lower().replace("ø", "o")
            body = {"firstName": first, "lastName": last, "email": email, "tags": tags, "active": n % 7 != 3}
            assert api.post("/tenants/demo/clients", json=body).status_code == 201
        hopper = ""
        for n, (name, kind, number, tags) in enumerate(COMPANIES):
            slug = name.split()[0].lower().replace("é", "e")
            body = {"name": name, "company": name, "type": kind, "email": f"office@{slug}.example", "tags": tags,
                    "companyNumber": number, "clientGroupId": payroll if "payroll" in tags else year_end if n % 2 else None,
                    "phone": f"020 7946 0{n:03d}", "externalRefs": [{"source": "xero", "externalId": f"c-{1000 + n}"}]}  # fmt: skip
            made = api.post("/tenants/demo/clients", json=body)
            assert made.status_code == 201, made.text
            hopper = hopper or made.json()["id"]
        api.patch(f"/tenants/demo/clients/{hopper}", json={"email": "hello@hoppercomputing.example", "note": "Year end 31 March."})
    return hopper


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp("serve")
    port = free_port()
    # Small chunks: a few hundred rows take several steps, so the progress bar has something to show.
    env = {**os.environ, "CLIENTDOCK_DATA_DIR": str(data_dir), "CLIENTDOCK_CHUNK_SIZE": "20"}
    env.pop("CLIENTDOCK_DATABASE_URL", None)
    watch_output(data_dir / "server.log")
    watch_output(data_dir / "server.out")
    with (data_dir / "server.log").open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "clientdock.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            stdout=subprocess.PIPE, stderr=log, text=True, env=env,
        )  # fmt: skip
        try:
            url = f"http://127.0.0.1:{port}"
            credentials = first_json_line(process, timeout=120, keep=data_dir / "server.out")
            wait_until_healthy(url, timeout=120)
            hopper = seed(url, credentials["apiKey"])
            db = Database(f"sqlite:///{data_dir / 'clientdock.db'}")
            set_enrichment(db, hopper, COMPANIES_HOUSE)
            db.dispose()
            yield Server(url, credentials["email"], credentials["password"], credentials["apiKey"], hopper)
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stdout:
                process.stdout.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium (apt-get install chromium)")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def errors() -> list[str]:
    return []


def open_page(browser: Browser, errors: list[str], viewport: dict[str, int], scale: float = 1) -> Page:
    context = browser.new_context(viewport=viewport, device_scale_factor=scale)  # type: ignore[arg-type]
    page = context.new_page()
    # CSP violations and script errors show up here: the page must run clean.
    page.on("console", lambda message: _console(message, errors))
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return page


def _console(message: ConsoleMessage, errors: list[str]) -> None:
    if message.type == "error":
        errors.append(message.text)


def sign_in(page: Page, server: Server) -> None:
    page.goto(server.url + "/")
    page.get_by_label("Email").fill(server.email)
    page.get_by_label("Password").fill(server.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/clients")


def shot(page: Page, name: str, full_page: bool = True) -> None:
    page.screenshot(path=str(ARTIFACTS / name), full_page=full_page)


def test_sign_in_search_and_open_a_client(browser: Browser, server: Server, errors: list[str]) -> None:
    page = open_page(browser, errors, LAPTOP)
    page.goto(server.url + "/clients")
    page.wait_for_url("**/?next=*")
    page.get_by_label("Email").fill(server.email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("don't match an account")
    shot(page, "signin-error-laptop.png")
    errors.clear()  # Chromium logs the refused sign-in's 400 answer as a console error: expected.
    sign_in(page, server)
    expect(page.get_by_role("heading", name="Clients", level=1)).to_be_visible()
    expect(page.locator(".results__count")).to_have_text("28 clients")
    expect(page.locator("tbody tr")).to_have_count(25)
    shot(page, "clients-laptop.png")

    page.get_by_label("Search clients").fill("hopper")
    expect(page.locator(".results__count")).to_have_text("1 client matches")
    expect(page).to_have_url(f"{server.url}/clients?search=hopper")
    page.get_by_role("link", name="Hopper Computing Ltd").click()
    page.wait_for_url(f"**/clients/{server.hopper_id}")
    expect(page.get_by_role("heading", name="Hopper Computing Ltd", level=1)).to_be_visible()
    for text in ("Key dates", "LOVELACE, Ada", "c-1000", "hello@hoppercomputing.example"):
        expect(page.get_by_text(text).first).to_be_visible()
    shot(page, "client-laptop.png")

    page.goto(server.url + "/clients")
    page.get_by_label("Type").select_option("LimitedLiabilityPartnership")
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page).to_have_url(f"{server.url}/clients?type=LimitedLiabilityPartnership")
    page.get_by_role("link", name="Clear filters").first.click()
    page.get_by_role("link", name="payroll").first.click()
    expect(page.locator(".results__count")).to_have_text("4 clients match")
    expect(page.get_by_label("Tag")).to_have_value("payroll")
    page.get_by_role("link", name="Clear filters").first.click()
    page.get_by_role("link", name="Next").click()
    expect(page.locator("tbody tr")).to_have_count(3)
    assert page.url.endswith("/clients?page=2")

    page.get_by_role("link", name="Imports").click()
    expect(page.get_by_text("No imports yet")).to_be_visible()
    page.get_by_label("Notifications").first.click()
    expect(page.get_by_text("You're all caught up")).to_be_visible()
    shot(page, "imports-laptop.png", full_page=False)
    page.keyboard.press("Escape")
    expect(page.get_by_text("You're all caught up")).to_be_hidden()
    assert errors == []
    response = page.goto(server.url + "/clients/not-a-client")
    assert response is not None
    assert response.status == 404
    expect(page.get_by_role("link", name="Back to clients")).to_be_visible()
    shot(page, "not-found-laptop.png", full_page=False)


def test_import_dialog_opens_and_closes_with_the_keyboard(browser: Browser, server: Server, errors: list[str]) -> None:
    page = open_page(browser, errors, LAPTOP)
    sign_in(page, server)
    button = page.get_by_role("button", name="Import")
    for _ in range(30):
        page.keyboard.press("Tab")
        if button.evaluate("el => el === document.activeElement"):
            break
    else:
        pytest.fail("Tab never reached the Import button")
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Import clients")
    expect(dialog).to_be_visible()
    assert dialog.evaluate("el => el.contains(document.activeElement)")
    expect(dialog).to_contain_text("At most 5,000 records per file")
    expect(dialog.get_by_role("link", name="Download the CSV template")).to_have_attribute("href", "/clients/import/template.csv")
    shot(page, "import-dialog-laptop.png", full_page=False)
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert button.evaluate("el => el === document.activeElement")
    # The Close button works from the keyboard too.
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Close").last.focus()
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    assert errors == []


def import_file(rows: int = 240) -> str:
    """A CSV as people send them: "Contact" holds the emails (no header we know), one address
    is broken, one belongs to a client we have (an update), "Reference" is not ours."""
    lines = ["First name,Last name,Contact,Reference"]
    for n in range(rows):
        email = "not-an-email" if n == 6 else "amelia.clarke@mail.example.com" if n == 2 else f"client{n:03d}@harbour-dental.co.uk"
        last = "Clarke-Jones" if n == 2 else f"Import{n:03d}"
        lines.append(f"{'Amelia' if n == 2 else 'Person'},{last},{email},R-{n}")
    return "\n".join(lines) + "\n"


def settled(page: Page) -> None:
    """htmx has swapped and wired up the last answer (a person is never faster than this)."""
    # A locator, not wait_for_function: the page's CSP (no 'unsafe-eval') refuses a string predicate.
    expect(page.locator(".htmx-request, .htmx-settling, .htmx-swapping, .htmx-added")).to_have_count(0)


def drop_file(page: Page, name: str, content: list[int]) -> None:
    """Drag a file onto the drop zone as a person would (a DataTransfer carrying a File)."""
    page.evaluate(
        """([name, bytes]) => {
            const data = new DataTransfer();
            data.items.add(new File([new Uint8Array(bytes)], name, { type: "text/csv" }));
            const zone = document.querySelector(".dropzone");
            for (const type of ["dragenter", "dragover", "drop"]) {
                zone.dispatchEvent(new DragEvent(type, { dataTransfer: data, bubbles: true, cancelable: true }));
            }
        }""",
        [name, content],
    )


def test_import_a_file_end_to_end(browser: Browser, server: Server, errors: list[str], tmp_path: Path) -> None:
    page = open_page(browser, errors, LAPTOP)
    sign_in(page, server)
    page.get_by_role("button", name="Import").click()
    dialog = page.get_by_role("dialog", name="Import clients")
    expect(dialog).to_be_visible()

    # A file dragged in that is no table at all is refused, saying why.
    drop_file(page, "clients.csv", [0x4D, 0x5A, 0x90, 0x00, *([0] * 200)])
    expect(dialog.get_by_role("alert")).to_contain_text("couldn't import that file")
    shot(page, "import-1-refused-laptop.png", full_page=False)

    # The picker: columns with their examples, and the email column still to pick.
    path = tmp_path / "harbour-clients.csv"
    path.write_text(import_file())
    dialog.get_by_label("Choose a file").set_input_files(path)
    expect(dialog.get_by_text("Columns in your file")).to_be_visible()
    expect(dialog.get_by_text("harbour-clients.csv")).to_be_visible()
    expect(dialog.get_by_text("Pick the column that holds Email")).to_be_visible()
    expect(dialog.get_by_role("button", name="Start import")).to_be_disabled()
    settled(page)
    shot(page, "import-2-columns-laptop.png", full_page=False)

    # Change the mapping in a dropdown: the dry run says what would happen.
    dialog.get_by_label("Client field for column Contact").select_option("email")
    summary = dialog.locator("#dry-run")
    expect(summary).to_contain_text("Would create", timeout=30_000)
    expect(summary.locator(".tally__item--created dd")).to_have_text("238")
    expect(summary.locator(".tally__item--updated dd")).to_have_text("1")
    expect(summary.locator(".tally__item--failed dd")).to_have_text("1")
    expect(summary).to_contain_text("'not-an-email' is not a valid email address")
    expect(summary).to_contain_text("Row 7")
    shot(page, "import-3-dry-run-laptop.png", full_page=False)

    # Confirm: the progress bar fills while the rows go in; then the toast and the bell.
    dialog.get_by_role("button", name="Import 239 clients").click()
    expect(dialog.get_by_label("Import progress")).to_be_visible()
    shot(page, "import-4-progress-laptop.png", full_page=False)
    expect(dialog.locator(".job-progress__percent")).to_have_text("100 %", timeout=60_000)
    expect(dialog.locator(".job-progress__rows")).to_have_text("240 of 240 rows")
    toast = page.locator(".toast").first
    expect(toast).to_contain_text("Import finished", timeout=15_000)
    expect(toast).to_contain_text("238 created · 1 updated · 1 failed")
    expect(page.locator("#notification-count")).to_contain_text("1")
    shot(page, "import-5-finished-laptop.png", full_page=False)

    # Close the dialog and keep working: the list already shows the new clients.
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(page.locator(".results__count")).to_have_text("266 clients")
    page.get_by_label("Notifications").first.click()
    panel = page.locator("#notification-list")
    expect(panel).to_contain_text("238 created · 1 updated · 1 failed")
    shot(page, "import-6-notification-laptop.png", full_page=False)
    panel.get_by_role("link", name="Import finished").click()

    # The import's page: counts, the rows, the failed one and why; the bell is read.
    page.wait_for_url("**/imports/*")
    expect(page.get_by_role("heading", name="harbour-clients.csv", level=1)).to_be_visible()
    expect(page.locator("#notification-count")).to_be_hidden()
    shot(page, "import-7-import-page-laptop.png")
    page.get_by_role("link", name="Failed 1").click()
    expect(page.locator("#import-rows tbody tr")).to_have_count(1)
    expect(page.locator("#import-rows")).to_contain_text("is not a valid email address")

    # The error report: the failed row as it came in, with the reason (and a warning column, empty here).
    with page.expect_download() as download:
        page.get_by_role("link", name="Download error report").click()
    report = Path(download.value.path()).read_text(encoding="utf-8-sig").splitlines()
    assert report[0] == "First name,Last name,Contact,Reference,reason,warning"
    assert report[1].startswith("Person,Import006,not-an-email,R-6,")
    assert "is not a valid email address" in report[1]
    assert len(report) == 2

    # Undo: it asks first, then says what it deleted and restored.
    page.get_by_text("Undo import").click()
    expect(page.get_by_text("Undo this import?")).to_be_visible()
    shot(page, "import-8-undo-confirm-laptop.png", full_page=False)
    page.get_by_role("button", name="Yes, undo this import").click()
    result = page.locator(".undo-result")
    expect(result).to_contain_text("Deleted 238 clients")
    expect(result).to_contain_text("Restored 1 client")
    expect(result).to_contain_text("amelia.clarke@mail.example.com")
    expect(page.get_by_text("Undo import")).to_have_count(0)
    expect(page.locator("#import-status")).to_contain_text("Undone")
    shot(page, "import-9-undone-laptop.png", full_page=False)
    page.get_by_role("link", name="Clients", exact=True).click()
    expect(page.locator(".results__count")).to_have_text("28 clients")
    page.get_by_role("link", name="Imports", exact=True).click()
    expect(page.locator(".imports-table")).to_contain_text("harbour-clients.csv")
    shot(page, "imports-list-laptop.png", full_page=False)
    assert errors == []


def test_phone_width(browser: Browser, server: Server, errors: list[str]) -> None:
    page = open_page(browser, errors, PHONE, scale=2)
    page.goto(server.url + "/")
    shot(page, "signin-phone.png")
    sign_in(page, server)
    expect(page.locator("tbody tr").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "clients-phone.png", full_page=False)
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("dialog", name="Import clients")).to_be_visible()
    shot(page, "import-dialog-phone.png", full_page=False)
    page.keyboard.press("Escape")
    page.goto(f"{server.url}/clients/{server.hopper_id}")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "client-phone.png")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(server.url + "/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.goto(server.url + "/clients")
    page.wait_for_url("**/?next=*")
    assert errors == []


def test_import_pages_at_phone_width(browser: Browser, server: Server, errors: list[str], tmp_path: Path) -> None:
    page = open_page(browser, errors, PHONE, scale=2)
    sign_in(page, server)
    page.get_by_role("button", name="Import").click()
    dialog = page.get_by_role("dialog", name="Import clients")
    path = tmp_path / "phone.csv"
    path.write_text(import_file(12))
    dialog.get_by_label("Choose a file").set_input_files(path)
    # The Email column is picked by hand, or remembered from an earlier import of these headers.
    expect(dialog.get_by_text("Columns in your file")).to_be_visible()
    settled(page)
    shot(page, "import-columns-phone.png", full_page=False)
    dialog.get_by_label("Client field for column Contact").select_option("email")
    expect(dialog.locator("#dry-run")).to_contain_text("Would create", timeout=30_000)
    shot(page, "import-dry-run-phone.png", full_page=False)
    page.keyboard.press("Escape")
    # The check is a preview, not an import: an import through the API gives Imports a row of its own.
    with httpx.Client(base_url=server.url, headers={"X-API-Key": server.api_key}, timeout=60) as api:
        mapping = {"mapping": json.dumps({"Contact": "email"})}
        answer = api.post("/tenants/demo/clients/import/csv", files={"file": ("phone.csv", path.read_bytes())}, data=mapping)
        assert answer.status_code in (201, 202), answer.text
    page.goto(server.url + "/imports")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "imports-phone.png", full_page=False)
    page.locator(".imports-table a").first.click()
    page.wait_for_url("**/imports/*")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "import-page-phone.png")
    page.goto(server.url + "/connections")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "connections-phone.png")
    assert errors == []
