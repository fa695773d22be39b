"""The Import dialog's review over HTTP: its checks are previews that no list shows, rows are
corrected in place and imported with their corrections, updates are previewed with the
"Existing clients" choice, mapping conflicts are marked, and a file's mapping is remembered."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import update

from clientdock.db import Database
from clientdock.imports import file_mappings
from clientdock.imports.file_records import fixed
from clientdock.jobs.models import FileMapping, ImportRow
from clientdock.pipeline.parse import ParsedRow
from tests.conftest import TenantInfo
from tests.web.helpers import DRY_RUN, HX, PROGRESS, UPLOAD_TOKEN, found, make_client, page_token, preview, upload, wait_for_progress
from tests.web.test_imports import MAPPED, PEOPLE, checked, clients_of, imported, job_of, selected


def fix(client: TestClient, token: str, kept: str, dry_run: str, row: int | str, cells: dict[int, str]) -> str:
    form = {"csrf_token": token, "token": kept, "dry_run": dry_run, "row": str(row), **{f"cell-{i}": v for i, v in cells.items()}}
    response = client.post("/clients/import/fix", data=form, headers=HX)
    assert response.status_code == 200, response.text
    return response.text


def start_with(client: TestClient, token: str, kept: str, dry_run: str, **extra: str) -> str:
    form = {"csrf_token": token, "token": kept, "dry_run": dry_run, **extra}
    response = client.post("/clients/import/start", data=form, headers=HX)
    assert response.status_code == 200, response.text
    return found(PROGRESS, response.text)


def test_checks_are_previews_that_no_list_shows(signed_in: TestClient, tenant: TenantInfo, database: Database) -> None:
    token = page_token(signed_in)
    kept, dry_run = checked(signed_in, token)
    assert job_of(database, dry_run).preview
    api = signed_in.get(tenant.path("/imports"), headers=tenant.headers).json()
    assert api["total"] == 0
    assert signed_in.get(tenant.path(f"/imports/{dry_run}"), headers=tenant.headers).json()["preview"] is True
    everything = signed_in.get(tenant.path("/imports?previews=true"), headers=tenant.headers).json()
    assert [item["id"] for item in everything["items"]] == [dry_run]
    job_id = start_with(signed_in, token, kept, dry_run)
    wait_for_progress(signed_in, job_id)
    job = job_of(database, job_id)
    assert not job.preview
    assert job.options["previewId"] == dry_run  # the import keeps its last check as its preview
    listed = signed_in.get(tenant.path("/imports"), headers=tenant.headers).json()
    assert [item["id"] for item in listed["items"]] == [job_id]
    assert listed["items"][0]["preview"] is False
    page = signed_in.get("/imports").text
    assert "1 import, newest first" in page
    assert dry_run not in page


def test_the_previews_option_must_be_a_boolean(signed_in: TestClient, tenant: TenantInfo) -> None:
    response = signed_in.get(tenant.path("/imports?previews=maybe"), headers=tenant.headers)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["field"] == "previews"


def test_a_failing_row_is_fixed_in_place_checked_again_and_imported(signed_in: TestClient, tenant: TenantInfo, database: Database) -> None:
    token = page_token(signed_in)
    kept, dry_run = checked(signed_in, token)
    html = signed_in.get(f"/clients/import/dry-runs/{dry_run}?token={kept}", headers=HX).text
    grid = html[html.index('id="review"') :]
    assert "Row 2" in grid
    assert 'name="cell-2" value="not-an-email" aria-invalid="true"' in grid
    assert 'name="cell-0" value="Bob"' in grid
    assert "cell-3" not in grid  # "Ref" is not imported: nothing to correct there
    # Corrected to another bad value: the row fails again, saying why with the new value.
    again = fix(signed_in, token, kept, dry_run, 2, {0: "Bob", 1: "Bad", 2: "bob@"})
    assert "&#39;bob@&#39; is not a valid email address" in again
    assert 'name="cell-2" value="bob@"' in again
    second = found(DRY_RUN, again)
    assert job_of(database, second).preview
    # Corrected for good: nothing fails; the import takes the correction, the file is untouched.
    done = fix(signed_in, token, kept, second, 2, {2: "bob@bad.co.uk", 3: "ignored, not imported"})
    assert "Would fail</dt><dd>0<" in done
    assert 'id="review"' not in done
    assert "Import 3 clients" in done
    third = found(DRY_RUN, done)
    assert job_of(database, third).options["fixes"] == {"2": {"0": "Bob", "1": "Bad", "2": "bob@bad.co.uk"}}
    job_id = start_with(signed_in, token, kept, third)
    wait_for_progress(signed_in, job_id)
    job = job_of(database, job_id)
    assert (job.created, job.failed) == (3, 0)
    assert job.options["fixes"] == {"2": {"0": "Bob", "1": "Bad", "2": "bob@bad.co.uk"}}
    clients = clients_of(signed_in, tenant)
    assert set(clients) == {"ada@lovelace.co.uk", "bob@bad.co.uk", "cy@young.co.uk"}
    assert (clients["bob@bad.co.uk"]["firstName"], clients["bob@bad.co.uk"]["lastName"]) == ("Bob", "Bad")
    assert clients["ada@lovelace.co.uk"]["lastName"] == "Lovelace"


def test_a_fix_for_a_check_that_is_not_there_goes_back_to_the_first_step(signed_in: TestClient, tenant: TenantInfo) -> None:
    token = page_token(signed_in)
    kept, _dry_run = checked(signed_in, token)
    form = {"csrf_token": token, "token": kept, "dry_run": "0" * 32, "row": "2", "cell-2": "x@y.co.uk"}
    response = signed_in.post("/clients/import/fix", data=form, headers=HX)
    assert response.status_code == 200
    assert "couldn&#39;t import that file" in response.text or "couldn't import that file" in response.text
    assert response.headers["hx-retarget"] == "#import-step"
    bad_row = signed_in.post("/clients/import/fix", data={**form, "row": "0"}, headers=HX)
    assert bad_row.status_code == 400  # the web pages' answer to a malformed form
    assert "Something in that request was not right" in bad_row.text
    forged = signed_in.post("/clients/import/fix", data={**form, "csrf_token": "forged"}, headers=HX)
    assert forged.status_code == 403


def test_updates_are_previewed_and_the_existing_clients_choice_reaches_the_import(
    signed_in: TestClient, tenant: TenantInfo, database: Database
) -> None:
    make_client(signed_in, tenant, firstName="Ada", lastName="Byron", email="ada@lovelace.co.uk")
    token = page_token(signed_in)
    kept, dry_run = checked(signed_in, token)
    html = signed_in.get(f"/clients/import/dry-runs/{dry_run}?token={kept}", headers=HX).text
    assert "Client that would change" in html
    assert re.search(r"Last name</span>: <del>Byron</del> .*?<ins>Lovelace</ins>", html)
    assert job_of(database, dry_run).options["onExisting"] == "update"
    assert 'name="onExisting" value="update"' in html
    form = {"csrf_token": token, "token": kept, "onExisting": "fillEmpty", **{f"col-{i}": name for i, name in MAPPED.items()}}
    again = signed_in.post("/clients/import/preview", data=form, headers=HX).text
    second = found(DRY_RUN, again)
    assert job_of(database, second).options["onExisting"] == "fillEmpty"
    assert '<input type="hidden" name="onExisting" value="fillEmpty">' in again
    job_id = start_with(signed_in, token, kept, second, onExisting="fillEmpty")
    assert job_of(database, job_id).options["onExisting"] == "fillEmpty"
    wait_for_progress(signed_in, job_id)


def test_an_unknown_existing_clients_choice_is_refused_naming_it(signed_in: TestClient) -> None:
    token = page_token(signed_in)
    kept, dry_run = checked(signed_in, token)
    form = {"csrf_token": token, "token": kept, "onExisting": "merge", **{f"col-{i}": name for i, name in MAPPED.items()}}
    refused = signed_in.post("/clients/import/preview", data=form, headers=HX).text
    assert "onExisting" in refused
    assert "update, fillEmpty, skip" in refused
    started = signed_in.post(
        "/clients/import/start", data={"csrf_token": token, "token": kept, "dry_run": dry_run, "onExisting": "merge"}, headers=HX
    )
    assert "update, fillEmpty, skip" in started.text
    assert PROGRESS.search(started.text) is None


def test_mapping_conflicts_are_marked_on_their_rows(signed_in: TestClient) -> None:
    token = page_token(signed_in)
    kept = found(UPLOAD_TOKEN, upload(signed_in, PEOPLE, token=token).text)
    twice = preview(signed_in, token=token, upload_token=kept, mapping={0: "firstName", 1: "email", 2: "email", 3: ""}).text
    assert re.search(r'id="conflict-1" hx-swap-oob="true">Email is also picked for column “Contact”', twice)
    assert re.search(r'id="conflict-2" hx-swap-oob="true">Email is also picked for column “Last name”', twice)
    assert re.search(r'id="conflict-0" hx-swap-oob="true"></span>', twice)
    missing = preview(signed_in, token=token, upload_token=kept, mapping={0: "firstName", 1: "lastName", 2: "", 3: ""}).text
    assert 'id="mapping-missing"' in missing
    assert "Required: no column is imported as Email" in missing
    fine = preview(signed_in, token=token, upload_token=kept, mapping=MAPPED).text
    assert "Required: no column" not in fine
    assert "is also picked" not in fine


def test_the_mapping_of_an_import_is_suggested_for_the_same_headers(
    signed_in: TestClient, tenant: TenantInfo, database: Database, other_tenant: TenantInfo
) -> None:
    token = page_token(signed_in)
    first = upload(signed_in, PEOPLE, token=token).text
    assert selected(first, "col-2") == ""  # "Contact" is no header the matcher knows
    imported(signed_in, token)
    with database.session() as session:
        kept = session.get_one(FileMapping, (tenant.id, file_mappings.headers_key(["First name", "Last name", "Contact", "Ref"])))
        assert kept.mapping == {"First name": "firstName", "Last name": "lastName", "Contact": "email", "Ref": ""}
    # The same headers in another order and spelling: the remembered mapping, and a check with it.
    again = "ref,CONTACT,first name,Last-Name\nB1,eve@adams.co.uk,Eve,Adams\n"
    html = upload(signed_in, again, token=token).text
    assert "the last time you imported a file with the same columns" in html
    assert [selected(html, f"col-{i}") for i in range(4)] == ["", "email", "firstName", "lastName"]
    dry = job_of(database, found(DRY_RUN, html))
    assert dry.preview
    assert dry.options["mapping"] == {"ref": "", "CONTACT": "email", "first name": "firstName", "Last-Name": "lastName"}
    assert "Would create</dt><dd>1<" in html
    # Another header set is matched automatically as before.
    other = upload(signed_in, "First name,Contact\nEve,eve@adams.co.uk\n", token=token).text
    assert "the same columns" not in other
    with database.session() as session:
        assert file_mappings.recall(session, other_tenant.id, ["First name", "Last name", "Contact", "Ref"]) is None


def test_the_header_key_ignores_order_case_and_punctuation() -> None:
    assert file_mappings.headers_key(["E-mail", "First Name"]) == file_mappings.headers_key(["first name", "email"])
    assert file_mappings.headers_key(["Email"]) != file_mappings.headers_key(["Email", "Phone"])
    assert len(file_mappings.headers_key([])) == 64


def test_fixes_replace_only_the_cells_of_their_row() -> None:
    row = ParsedRow(3, 4, ["Bob", "not-an-email"])
    assert fixed(row, None) is row
    assert fixed(row, {"1": "bob@bad.co.uk", "3": "far"}).cells == ["Bob", "bob@bad.co.uk", "", "far"]
    assert row.cells == ["Bob", "not-an-email"]


def test_a_remembered_mapping_that_no_longer_fits_is_not_used(database: Database, tenant: TenantInfo) -> None:
    with database.session() as session:
        file_mappings.remember(session, tenant.id, ["Name", "Mail"], {"Name": "firstName", "Mail": "email"})
    with database.session() as session:
        file_mappings.remember(session, tenant.id, ["Name", "Mail"], {"Name": "firstName", "Mail": 3})  # type: ignore[dict-item]
    with database.session() as session:
        assert file_mappings.recall(session, tenant.id, ["mail", "name"]) == {"name": "firstName"}
        assert session.query(FileMapping).filter_by(tenant_id=tenant.id).count() == 1


def test_a_remembered_mapping_naming_a_field_that_is_no_more_is_left_aside(
    signed_in: TestClient, tenant: TenantInfo, database: Database
) -> None:
    header = ["First name", "Last name", "Contact", "Ref"]
    with database.session() as session:
        file_mappings.remember(session, tenant.id, header, {"First name": "firstName", "Contact": "faxNumber"})
    html = upload(signed_in, PEOPLE, token=page_token(signed_in)).text
    assert "Columns in your file" in html
    assert "the same columns" not in html
    assert selected(html, "col-0") == "firstName"
    assert selected(html, "col-2") == ""


def test_rows_with_warnings_are_listed_for_review_with_their_field(signed_in: TestClient, tenant: TenantInfo, database: Database) -> None:
    token = page_token(signed_in)
    kept, dry_run = checked(signed_in, token)
    note = {"field": "dateOfBirth", "value": "03/14", "message": "'03/14' has no year; the date of birth was left out"}
    with database.session() as session:
        session.execute(update(ImportRow).where(ImportRow.job_id == dry_run, ImportRow.row_index == 1).values(warnings=[note]))
    html = signed_in.get(f"/clients/import/dry-runs/{dry_run}?token={kept}", headers=HX).text
    grid = html[html.index('id="review"') :]
    assert "Rows to review" in grid
    assert "Row 1" in grid
    assert "Imports with a warning" in grid
    assert "<strong>Date of birth</strong>: &#39;03/14&#39; has no year; the date of birth was left out" in grid
    assert "Row 2" in grid  # the failing row too
    assert "Row 3" not in grid  # a row that imports cleanly is not for review
