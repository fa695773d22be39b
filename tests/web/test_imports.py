"""The Import dialog, the Imports pages and the bell over HTTP: the dry run and its mapping,
the import it confirms, progress, notifications, undo, CSRF, escaping, tenant isolation."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from clientdock.blobs import LocalStore
from clientdock.db import Database
from clientdock.jobs.models import ImportJob
from clientdock.notify.models import Notification
from clientdock.settings import Settings
from clientdock.web import uploads
from tests.conftest import TenantInfo
from tests.web.helpers import (
    DRY_RUN,
    HX,
    PROGRESS,
    UPLOAD_TOKEN,
    found,
    make_client,
    page_token,
    preview,
    start,
    upload,
    wait_for_progress,
)

SCRIPT = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
IMG = "<img src=x onerror=alert(1)>.csv"
# "Contact" holds the emails but is no header the matcher knows: the user maps it by hand.
PEOPLE = "First name,Last name,Contact,Ref\nAda,Lovelace,ada@lovelace.co.uk,A1\nBob,Bad,not-an-email,A2\nCy,Young,cy@young.co.uk,A3\n"
MAPPED = {0: "firstName", 1: "lastName", 2: "email", 3: ""}


def clients_of(client: TestClient, tenant: TenantInfo) -> dict[str, dict[str, Any]]:
    body = client.get(tenant.path("/clients?pageSize=200"), headers=tenant.headers).json()
    return {item["email"]: item for item in body["items"]}


def checked(client: TestClient, token: str, content: str = PEOPLE, mapping: dict[int, str] | None = None) -> tuple[str, str]:
    """Upload and map a file; returns (upload token, dry run id)."""
    attached = upload(client, content, token=token)
    kept = found(UPLOAD_TOKEN, attached.text)
    shown = preview(client, token=token, upload_token=kept, mapping=mapping or MAPPED)
    return kept, found(DRY_RUN, shown.text)


def imported(client: TestClient, token: str, content: str = PEOPLE, mapping: dict[int, str] | None = None) -> str:
    """Run a file through the dialog to the end; returns the import's id."""
    kept, dry_run = checked(client, token, content, mapping)
    job_id = found(PROGRESS, start(client, token=token, upload_token=kept, dry_run=dry_run).text)
    wait_for_progress(client, job_id)
    return job_id


def job_of(database: Database, job_id: str) -> ImportJob:
    with database.session() as session:
        return session.get_one(ImportJob, job_id)


def selected(html: str, control: str) -> str:
    select = re.search(rf'<select id="{control}" name="{control}"[^>]*>(.*?)</select>', html, re.S)
    assert select, control
    chosen = re.search(r'<option value="([^"]*)" selected>', select.group(1))
    return chosen.group(1) if chosen else ""


def test_the_template_link_serves_the_apis_template(signed_in: TestClient, tenant: TenantInfo, client: TestClient) -> None:
    assert 'href="/clients/import/template.csv"' in signed_in.get("/clients").text
    ours = signed_in.get("/clients/import/template.csv")
    theirs = signed_in.get(tenant.path("/clients/import/template.csv"))
    assert ours.status_code == 200
    assert ours.content == theirs.content
    assert ours.content.decode("utf-8-sig").startswith("ID,firstName,lastName,email")
    assert ours.headers["content-type"].startswith("text/csv")
    assert "attachment" in ours.headers["content-disposition"]


def test_the_template_is_for_signed_in_users(client: TestClient) -> None:
    response = client.get("/clients/import/template.csv", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/?next=")


def test_a_file_shows_its_columns_and_asks_for_a_missing_email_column(signed_in: TestClient) -> None:
    html = upload(signed_in, PEOPLE, token=page_token(signed_in), filename="people.csv").text
    assert "people.csv" in html
    assert "Columns in your file" in html
    assert selected(html, "col-0") == "firstName"
    assert selected(html, "col-1") == "lastName"
    assert selected(html, "col-2") == ""  # Contact: not a header the matcher knows
    assert "ada@lovelace.co.uk, not-an-email" in html  # example values
    assert '<label class="sr-only" for="col-2">Client field for column Contact</label>' in html
    assert "Pick the column that holds Email" in html
    assert re.search(r'id="import-start" class="button button--primary" disabled', html)


def test_changing_a_mapping_runs_the_dry_run_again_and_writes_nothing(
    signed_in: TestClient, tenant: TenantInfo, database: Database
) -> None:
    make_client(signed_in, tenant, firstName="Cy", lastName="Old", email="cy@young.co.uk")
    token = page_token(signed_in)
    kept = found(UPLOAD_TOKEN, upload(signed_in, PEOPLE, token=token).text)
    response = preview(signed_in, token=token, upload_token=kept, mapping=MAPPED)
    html = response.text
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="dry-run"')
    assert 'id="import-footer" hx-swap-oob="true"' in html  # Start follows the dry run
    for text in ("Would create</dt><dd>1<", "Would update</dt><dd>1<", "Would fail</dt><dd>1<", "Import 2 clients"):
        assert text in html, text
    assert "Row 2" in html
    assert "<strong>Email</strong>: &#39;not-an-email&#39; is not a valid email address" in html
    assert set(clients_of(signed_in, tenant)) == {"cy@young.co.uk"}
    dry = job_of(database, found(DRY_RUN, html))
    assert dry.dry_run
    assert dry.options["mapping"] == {"First name": "firstName", "Last name": "lastName", "Contact": "email", "Ref": ""}


def test_a_field_picked_twice_is_said_beside_the_dropdowns(signed_in: TestClient) -> None:
    token = page_token(signed_in)
    kept = found(UPLOAD_TOKEN, upload(signed_in, PEOPLE, token=token).text)
    html = preview(signed_in, token=token, upload_token=kept, mapping={0: "firstName", 1: "email", 2: "email", 3: ""}).text
    assert "Email is picked for more than one column" in html
    assert 'name="dry_run"' not in html
    assert "disabled" in html


def test_confirm_imports_the_file_as_its_dry_run_showed(signed_in: TestClient, tenant: TenantInfo, database: Database) -> None:
    make_client(signed_in, tenant, firstName="Cy", lastName="Old", email="cy@young.co.uk")
    token = page_token(signed_in)
    kept, dry_run = checked(signed_in, token)
    started = start(signed_in, token=token, upload_token=kept, dry_run=dry_run)
    assert started.status_code == 200
    assert "You can close this window" in started.text
    job_id = found(PROGRESS, started.text)
    assert 'hx-trigger="every 1s"' in started.text
    done = wait_for_progress(signed_in, job_id)
    assert done.headers["hx-trigger"] == "import-finished"
    for text in ("100 %", "3</strong> of 3 rows", "1</strong> created", "1</strong> updated", "1</strong> failed", "Download error report"):
        assert text in done.text, text
    clients = clients_of(signed_in, tenant)
    assert set(clients) == {"ada@lovelace.co.uk", "cy@young.co.uk"}
    assert clients["cy@young.co.uk"]["lastName"] == "Young"
    job = job_of(database, job_id)
    assert (job.door, job.dry_run, job.started_by) == ("csv", False, "user:anna@acme.test")
    assert job.options["mapping"]["Contact"] == "email"
    # The file went with the import: the same dialog cannot start it twice.
    again = start(signed_in, token=token, upload_token=kept, dry_run=dry_run)
    assert "no longer here" in again.text
    assert again.headers["hx-retarget"] == "#import-step"


def test_the_end_of_an_import_rings_the_bell_once(signed_in: TestClient, tenant: TenantInfo, database: Database) -> None:
    first = signed_in.get("/notifications/bell", headers=HX)
    assert "You're all caught up" in first.text
    assert "cd_seen" in first.headers["set-cookie"]
    job_id = imported(signed_in, page_token(signed_in))
    bell = signed_in.get("/notifications/bell?unread=0", headers=HX)
    assert '<span class="badge" id="notification-count" hx-swap-oob="true">1<' in bell.text
    assert 'hx-swap-oob="beforeend:#toasts"' in bell.text
    assert "Import finished" in bell.text
    assert "2 created · 0 updated · 1 failed" in bell.text
    assert f'href="/imports/{job_id}?notification=' in bell.text
    assert 'hx-get="/notifications/bell?unread=1"' in bell.text
    assert signed_in.get("/notifications/bell?unread=1", headers=HX).status_code == 204  # nothing new: no toast again
    with database.session() as session:
        notes = session.query(Notification).filter_by(tenant_id=tenant.id).all()
        assert [(n.kind, n.data["jobId"]) for n in notes] == [("import.completed", job_id)]


def test_opening_a_notification_reads_it_and_read_all_reads_the_rest(signed_in: TestClient, tenant: TenantInfo) -> None:
    token = page_token(signed_in)
    first, second = imported(signed_in, token), imported(signed_in, token)
    bell = signed_in.get("/notifications/bell", headers=HX).text
    assert ">2<span" in bell
    link = found(re.compile(rf'href="(/imports/{second}\?notification=\w+)"'), bell)
    assert signed_in.get(link).status_code == 200
    assert ">1<span" in signed_in.get("/notifications/bell", headers=HX).text
    refused = signed_in.post("/notifications/read-all", data={}, headers=HX)
    assert refused.status_code == 403
    after = signed_in.post("/notifications/read-all", data={"csrf_token": token}, headers=HX)
    assert '<span class="badge" id="notification-count" hx-swap-oob="true" hidden>0<' in after.text
    assert "Mark all as read" not in after.text
    plain = signed_in.post("/notifications/read-all", data={"csrf_token": token, "next": f"/imports/{first}"}, follow_redirects=False)
    assert plain.headers["location"] == f"/imports/{first}"


def test_refused_files_go_back_to_the_first_step_saying_why(signed_in: TestClient, tenant: TenantInfo, settings: Settings) -> None:
    token = page_token(signed_in)
    exe = upload(signed_in, b"MZ\x90\x00\x03\x00\x00\x00" + bytes(300), token=token, filename="clients.csv")
    assert exe.status_code == 200
    assert "We couldn't import that file." in exe.text
    assert 'id="import-file"' in exe.text
    assert upload(signed_in, b"MZ\x90\x00" + bytes(300), token=token, htmx=False).status_code == 415
    signed_in.patch(tenant.path("/settings"), json={"importRowLimit": 2}, headers=tenant.headers)
    too_many = upload(signed_in, "firstName,email\nA,a@firm.co.uk\nB,b@firm.co.uk\nC,c@firm.co.uk\n", token=token, htmx=False)
    assert too_many.status_code == 413
    assert "at most 2 records" in too_many.text
    assert not list(uploads.folder(settings, tenant.id).iterdir())  # refused files are not kept


def test_a_step_without_script_is_a_page_of_its_own(signed_in: TestClient) -> None:
    token = page_token(signed_in)
    page = signed_in.get("/clients/import")
    assert page.status_code == 200
    assert 'action="/clients/import/upload"' in page.text
    assert 'enctype="multipart/form-data"' in page.text
    step = upload(signed_in, PEOPLE, token=token, htmx=False)
    assert step.status_code == 200
    assert "<html" in step.text
    assert "Columns in your file" in step.text
    assert '<noscript><button type="submit" class="button button--small">Check again</button></noscript>' in step.text
    form = {"csrf_token": token, "token": found(UPLOAD_TOKEN, step.text), **{f"col-{i}": name for i, name in MAPPED.items()}}
    again = signed_in.post("/clients/import/preview", data=form)
    assert "<html" in again.text
    assert "selected>Email</option>" in again.text
    assert "Would create" in again.text


def test_every_import_form_needs_the_session_token(signed_in: TestClient, tenant: TenantInfo, settings: Settings) -> None:
    token = page_token(signed_in)
    files = {"file": ("clients.csv", PEOPLE.encode(), "text/csv")}
    assert signed_in.post("/clients/import/upload", files=files).status_code == 403
    assert signed_in.post("/clients/import/upload", files=files, data={"csrf_token": "forged"}).status_code == 403
    assert (
        signed_in.post("/clients/import/upload", files=files, data={"csrf_token": token}, headers={"X-CSRF-Token": "x"}).status_code == 403
    )
    folder = uploads.folder(settings, tenant.id)
    assert not folder.exists() or not any(folder.iterdir())
    kept, dry_run = checked(signed_in, token)
    assert signed_in.post("/clients/import/preview", data={"token": kept, "col-0": "firstName"}).status_code == 403
    assert signed_in.post("/clients/import/start", data={"token": kept, "dry_run": dry_run}).status_code == 403
    job_id = imported(signed_in, token)
    assert signed_in.post(f"/imports/{job_id}/undo", data={"csrf_token": "forged"}).status_code == 403
    assert signed_in.post(f"/imports/{job_id}/undo").status_code == 403


def test_another_tenants_imports_are_not_found(signed_in: TestClient, tenant: TenantInfo, other_tenant: TenantInfo) -> None:
    body = {"users": [{"source": "crm", "sourceId": "1", "firstName": "Secret", "email": "secret@beta.co.uk"}]}
    theirs = signed_in.post("/users/bulk/sourceId", json=body, headers=other_tenant.headers).json()["importId"]
    token = page_token(signed_in)
    for path in (f"/imports/{theirs}", f"/imports/{theirs}/progress", f"/imports/{theirs}/errors.csv", f"/imports/{theirs}?outcome=failed"):
        response = signed_in.get(path)
        assert response.status_code == 404, path
        assert "secret@beta.co.uk" not in response.text
    assert signed_in.post(f"/imports/{theirs}/undo", data={"csrf_token": token}).status_code == 404
    kept, _dry_run = checked(signed_in, token)
    assert signed_in.get(f"/clients/import/dry-runs/{theirs}?token={kept}", headers=HX).status_code == 404
    assert start(signed_in, token=token, upload_token=kept, dry_run=theirs).status_code == 404
    assert "secret@beta.co.uk" not in signed_in.get("/imports").text


def test_an_upload_token_is_good_for_its_own_tenant_only(settings: Settings, tmp_path: Any) -> None:
    settings.data_dir = tmp_path
    folder = uploads.folder(settings, "tenant-a")
    folder.mkdir(parents=True)
    (folder / f"{'a' * 32}.upload").write_text("x")
    (folder / f"{'a' * 32}.json").write_text('{"filename": "a.csv", "size": 1}')
    store = LocalStore(tmp_path)
    assert uploads.find(store, "tenant-a", "a" * 32).filename == "a.csv"
    for tenant_id, token in (("tenant-b", "a" * 32), ("tenant-a", "../" + "a" * 29), ("tenant-a", "b" * 32)):
        try:
            uploads.find(store, tenant_id, token)
        except uploads.UploadGone:
            continue
        raise AssertionError(f"{tenant_id} {token} was found")
    assert uploads.sweep(store, settings, "tenant-a", now=10**12) == 2


def test_user_data_is_escaped_in_the_dialog_and_the_import_pages(signed_in: TestClient) -> None:
    token = page_token(signed_in)
    content = f"firstName,email,{SCRIPT}\n{SCRIPT},bad {SCRIPT},{SCRIPT}\nAda,ada@lovelace.co.uk,x\n"
    attached = upload(signed_in, content, token=token, filename=IMG)
    kept = found(UPLOAD_TOKEN, attached.text)
    shown = preview(signed_in, token=token, upload_token=kept, mapping={0: "firstName", 1: "email", 2: "note"})
    job_id = found(PROGRESS, start(signed_in, token=token, upload_token=kept, dry_run=found(DRY_RUN, shown.text)).text)
    wait_for_progress(signed_in, job_id)
    listing = signed_in.get("/imports").text
    pages = [attached.text, shown.text, signed_in.get(f"/imports/{job_id}").text, signed_in.get(f"/imports/{job_id}?outcome=failed").text]
    for html in [*pages, listing]:
        assert SCRIPT not in html
        assert "<img src=x" not in html
    for html in pages:
        assert ESCAPED in html
    assert "&lt;img src=x onerror=alert(1)&gt;.csv" in listing


def test_imports_of_every_door_are_listed_newest_first_and_paged(signed_in: TestClient, tenant: TenantInfo) -> None:
    for n in range(25):
        item = {"source": "crm", "sourceId": str(n), "firstName": f"P{n}", "email": f"p{n}@firm.co.uk"}
        assert signed_in.post("/users/bulk/sourceId", json={"users": [item]}, headers=tenant.headers).status_code == 200
    job_id = imported(signed_in, page_token(signed_in))
    first = signed_in.get("/imports").text
    assert "26 imports, newest first" in first  # 25 batches and the file's import: its check is a preview, never listed
    rows = re.findall(r'<a href="/imports/(\w+)">([^<]*)</a>\s*<span class="cell-import__door">([^<]*)</span>', first)
    assert len(rows) == 25
    assert rows[0] == (job_id, "clients.csv", "File upload")
    assert ("1 record", "Bulk API") == rows[-1][1:]
    assert "anna@acme.test" in first
    assert "API key" in first
    assert 'href="/imports?page=2"' in first
    second = signed_in.get("/imports?page=2", headers={**HX, "HX-Target": "import-list"}).text
    assert second.lstrip().startswith('<section id="import-list"')
    bulk_only = signed_in.get("/imports?door=bulk").text
    assert "clients.csv" not in bulk_only
    assert "File upload</span>" not in bulk_only


def test_an_imports_rows_are_paged_and_filtered_by_outcome(signed_in: TestClient, tenant: TenantInfo, database: Database) -> None:
    lines = ["firstName,email"] + [f"P{n},{'broken' if n % 20 == 0 else f'p{n}@firm.co.uk'}" for n in range(60)]
    job_id = imported(signed_in, page_token(signed_in), "\n".join(lines) + "\n", {0: "firstName", 1: "email"})
    page = signed_in.get(f"/imports/{job_id}").text
    for text in ("Created</span><strong>57<", "Failed</span><strong>3<", "How the file was read", "firstName", "1–50 of 60"):
        assert text in page, text
    failed = signed_in.get(f"/imports/{job_id}?outcome=failed").text
    assert len(re.findall(r'<span class="outcome outcome--failed">', failed)) == 3
    assert "is not a valid email address" in failed
    rest = signed_in.get(f"/imports/{job_id}?page=2", headers={**HX, "HX-Target": "import-rows"}).text
    assert rest.lstrip().startswith('<section id="import-rows"')
    assert len(re.findall(r'class="row--', rest)) == 10
    report = signed_in.get(f"/imports/{job_id}/errors.csv")
    assert report.status_code == 200
    assert report.headers["content-disposition"] == 'attachment; filename="clients-errors.csv"'
    assert report.text.splitlines()[0] == "firstName,email,reason,warning"
    assert len(report.text.splitlines()) == 4


WARNED = "First name,Email,Birthday,Phone\nAda,ada@lovelace.co.uk,03/14,020 7946 0018\nBob,bob@firm.co.uk,,ring me\nCy,cy@young.co.uk,,\n"
WARNED_MAP = {0: "firstName", 1: "email", 2: "dateOfBirth", 3: "phone"}


def test_warnings_are_counted_in_the_dry_run_and_told_in_words_on_the_imports_page(signed_in: TestClient, tenant: TenantInfo) -> None:
    token = page_token(signed_in)
    kept = found(UPLOAD_TOKEN, upload(signed_in, WARNED, token=token).text)
    dry = preview(signed_in, token=token, upload_token=kept, mapping=WARNED_MAP).text
    for text in ("Would create</dt><dd>3<", "With warnings</dt><dd>2<", "2 rows would be imported with a warning"):
        assert text in dry, text
    job_id = found(PROGRESS, start(signed_in, token=token, upload_token=kept, dry_run=found(DRY_RUN, dry)).text)
    progress = wait_for_progress(signed_in, job_id).text
    assert "<strong>2</strong> with warnings" in progress
    assert "Download error report" in progress
    page = signed_in.get(f"/imports/{job_id}").text
    assert "With warnings</span><strong>2<" in page
    assert f'href="/imports/{job_id}?outcome=warning"' in page
    assert "<strong>Date of birth</strong>: &#39;03/14&#39; has no year (use YYYY-MM-DD); the field was left as it was" in page
    assert "<strong>Phone</strong>: &#39;ring me&#39; is not a phone number that can be read" in page
    assert "dateOfBirth" not in page
    warned = signed_in.get(f"/imports/{job_id}?outcome=warning").text
    assert len(re.findall(r'class="row--', warned)) == 2
    assert "cy@young.co.uk" not in warned
    assert {c["email"]: c["dateOfBirth"] for c in clients_of(signed_in, tenant).values()} == {
        "ada@lovelace.co.uk": None, "bob@firm.co.uk": None, "cy@young.co.uk": None,
    }  # fmt: skip


def test_an_import_without_warnings_says_so_when_filtered(signed_in: TestClient) -> None:
    job_id = imported(signed_in, page_token(signed_in))
    page = signed_in.get(f"/imports/{job_id}").text
    assert "With warnings" not in page
    assert "No rows with warnings" in signed_in.get(f"/imports/{job_id}?outcome=warning").text
    assert len(re.findall(r'class="row--', signed_in.get(f"/imports/{job_id}?outcome=bogus").text)) == 3  # every row


def test_undo_says_what_it_deleted_restored_and_left_alone(signed_in: TestClient, tenant: TenantInfo) -> None:
    cy = make_client(signed_in, tenant, firstName="Cy", lastName="Old", email="cy@young.co.uk")
    token = page_token(signed_in)
    job_id = imported(signed_in, token)
    page = signed_in.get(f"/imports/{job_id}").text
    assert "Undo import" in page
    assert f'hx-get="/imports/{job_id}/undo"' in page
    confirm = signed_in.get(f"/imports/{job_id}/undo", headers=HX).text
    assert f'action="/imports/{job_id}/undo"' in confirm
    counts = dict(re.findall(r'data-count="([a-z-]+)">(\d+)<', confirm))
    assert counts == {"deleted": "1", "restored": "1", "left-alone": "0"}
    expect = dict(re.findall(r'name="(expect_[a-z_]+)" value="(\d+)"', confirm))
    assert expect == {"expect_deleted": "1", "expect_restored": "1", "expect_left_alone": "0"}
    undone = signed_in.post(f"/imports/{job_id}/undo", data={"csrf_token": token, **expect}, headers=HX)
    assert undone.status_code == 200
    for text in (
        "Import undone",
        "Deleted 1 client",
        "ada@lovelace.co.uk",
        "Restored 1 client",
        f'href="/clients/{cy["id"]}"',
        "Last name",
    ):
        assert text in undone.text, text
    assert 'id="import-actions" hx-swap-oob="true"' in undone.text
    assert "Undo import" not in undone.text
    assert set(clients_of(signed_in, tenant)) == {"cy@young.co.uk"}
    assert clients_of(signed_in, tenant)["cy@young.co.uk"]["lastName"] == "Old"
    again = signed_in.post(f"/imports/{job_id}/undo", data={"csrf_token": token})
    assert again.status_code == 409
    assert "already undone" in again.text
    after = signed_in.get(f"/imports/{job_id}").text
    assert "This import was undone on" in after
    assert "Undo import" not in after
    detail = signed_in.get(f"/clients/{cy['id']}").text
    assert "by undoing an import" in detail
    assert "· anna@acme.test" in detail  # who undid it


def test_undo_without_script_shows_the_result_on_the_page(signed_in: TestClient, tenant: TenantInfo) -> None:
    token = page_token(signed_in)
    job_id = imported(signed_in, token)
    changed = clients_of(signed_in, tenant)["ada@lovelace.co.uk"]
    signed_in.patch(tenant.path(f"/clients/{changed['id']}"), json={"lastName": "Byron"}, headers=tenant.headers)
    undone = signed_in.post(f"/imports/{job_id}/undo", data={"csrf_token": token})
    assert undone.status_code == 200
    assert "<html" in undone.text
    assert "Left alone (1)" in undone.text
    assert "Edited after this import; not deleted" in undone.text


def test_the_import_page_reloads_itself_when_its_import_ends(signed_in: TestClient) -> None:
    job_id = imported(signed_in, page_token(signed_in))
    ended = signed_in.get(f"/imports/{job_id}/progress?view=page", headers=HX)
    assert ended.headers["hx-refresh"] == "true"
    assert ended.headers["hx-trigger"] == "import-finished"


def test_the_clients_list_reloads_when_an_import_ends(signed_in: TestClient) -> None:
    html = signed_in.get("/clients?search=ada").text
    assert 'hx-get="/clients?search=ada" hx-trigger="import-finished from:body"' in html


def test_connections_say_what_is_coming(signed_in: TestClient) -> None:
    html = signed_in.get("/connections").text
    for text in ("No partner apps yet", "Xero or QuickBooks Online", "Start an import from a connection", "Partner apps"):
        assert text in html, text
