"""The pages a firm checks its imports on (issue 14): unchanged counts everywhere, toasts only of
this sign-in, field names in words, one date format, Undo's exact counts, Export, editing a client."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import update

from clientdock.db import Database
from clientdock.notify.models import Notification
from clientdock.web.templating import human_text, value_text
from tests.conftest import TenantInfo
from tests.web.helpers import HX, PASSWORD, UserInfo, make_client, page_token, sign_in

PEOPLE = "First name,Last name,Email,Date of birth\nAda,One,ada@firm.co.uk,1980-03-14\nBen,Two,ben@firm.co.uk,\n"
LATER = "First name,Last name,Email,Date of birth\nAda,One,ada@firm.co.uk,1981-04-15\nDee,Four,dee@firm.co.uk,\n"


def file_import(client: TestClient, tenant: TenantInfo, content: str) -> str:
    response = client.post(
        tenant.path("/clients/import/csv"), files={"file": ("people.csv", content.encode(), "text/csv")}, headers=tenant.headers
    )
    assert response.status_code == 201, response.text
    job_id: str = response.json()["id"]
    return job_id


def by_email(client: TestClient, tenant: TenantInfo) -> dict[str, dict[str, Any]]:
    items = client.get(tenant.path("/clients"), params={"pageSize": 200}, headers=tenant.headers).json()["items"]
    return {c["email"]: c for c in items}


def test_unchanged_rows_are_counted_on_the_list_the_page_and_the_toast(signed_in: TestClient, tenant: TenantInfo) -> None:
    signed_in.get("/notifications/bell", headers=HX)  # this browser starts watching
    file_import(signed_in, tenant, PEOPLE)
    signed_in.get("/notifications/bell", headers=HX)
    again = file_import(signed_in, tenant, PEOPLE)
    toast = signed_in.get("/notifications/bell", headers=HX).text
    assert "0 created · 0 updated · 2 unchanged · 0 failed" in toast
    listing = signed_in.get("/imports").text
    assert '<th scope="col" class="num">Unchanged</th>' in listing
    assert '<td data-label="Unchanged" class="num">2</td>' in listing
    page = signed_in.get(f"/imports/{again}").text
    assert re.search(r"<span>Unchanged</span><strong>2</strong>", page)


def test_a_new_sign_in_is_not_toasted_what_came_before(
    signed_in: TestClient, tenant: TenantInfo, database: Database, user: UserInfo
) -> None:
    signed_in.get("/notifications/bell", headers=HX)
    file_import(signed_in, tenant, PEOPLE)
    assert "Import finished" in signed_in.get("/notifications/bell", headers=HX).text
    # The notification is older than the next sign-in; the browser kept an old cd_seen cookie.
    with database.session() as session:
        row = session.query(Notification).filter_by(tenant_id=tenant.id).one()
        session.execute(update(Notification).where(Notification.id == row.id).values(created_at=row.created_at - timedelta(hours=1)))
    seen = (row.created_at - timedelta(hours=2)).isoformat()
    signed_in.cookies.clear()
    signed_in.cookies.set("cd_seen", seen)
    assert sign_in(signed_in, user.email, PASSWORD).status_code == 303
    bell = signed_in.get("/notifications/bell", headers=HX)
    assert bell.status_code == 200
    assert "beforeend:#toasts" not in bell.text  # no toast: it happened before this session
    assert "Import finished" in bell.text  # but the bell still lists it


def test_reasons_and_notes_name_fields_in_words(signed_in: TestClient, tenant: TenantInfo) -> None:
    make_client(signed_in, tenant, firstName="Eve", email="eve@firm.co.uk", trackingId="T-1")
    content = "First name,Email,Tracking ID\nAda,ada@firm.co.uk,T-1\n"
    job_id = file_import(signed_in, tenant, content)
    rows = signed_in.get(tenant.path(f"/imports/{job_id}/rows"), headers=tenant.headers).json()["items"]
    assert rows[0]["errors"][0]["field"] == "trackingId"  # the API keeps field names
    page = signed_in.get(f"/imports/{job_id}").text
    assert "<strong>Tracking ID</strong>" in page
    main = page.split('<main id="main"', 1)[1].split("</main>", 1)[0]
    assert "trackingId" not in re.sub(r"<[^>]+>", " ", main)


def test_dates_read_the_same_on_the_import_page_and_in_history(signed_in: TestClient, tenant: TenantInfo) -> None:
    file_import(signed_in, tenant, PEOPLE)
    later = file_import(signed_in, tenant, LATER)
    page = signed_in.get(f"/imports/{later}").text
    assert "<del>14 Mar 1980</del>" in page
    assert "<ins>15 Apr 1981</ins>" in page
    ada = by_email(signed_in, tenant)["ada@firm.co.uk"]
    detail = signed_in.get(f"/clients/{ada['id']}").text
    assert "<del>14 Mar 1980</del>" in detail
    assert "<ins>15 Apr 1981</ins>" in detail
    assert "1980-03-14" not in detail.split('id="section-history"', 1)[1]


def test_undo_confirmation_counts_what_happens_and_the_rows_refresh(signed_in: TestClient, tenant: TenantInfo) -> None:
    token = page_token(signed_in)
    first = file_import(signed_in, tenant, PEOPLE)
    later = file_import(signed_in, tenant, LATER)
    confirm = signed_in.get(f"/imports/{first}/undo", headers=HX).text
    counts = dict(re.findall(r'data-count="([a-z-]+)">(\d+)<', confirm))
    assert counts == {"deleted": "1", "restored": "0", "left-alone": "1"}
    assert "Changed by a later import; not deleted" in confirm
    assert f'href="/imports/{later}"' in confirm
    expect = dict(re.findall(r'name="(expect_[a-z_]+)" value="(\d+)"', confirm))
    undone = signed_in.post(f"/imports/{first}/undo", data={"csrf_token": token, **expect}, headers=HX)
    assert undone.status_code == 200
    assert "Deleted 1 client" in undone.text
    assert "Left alone (1)" in undone.text
    rows = undone.text.split('id="import-rows"', 1)[1]
    assert 'hx-swap-oob="true"' in undone.text.split('id="import-rows"', 1)[1][:100]
    ada, ben = by_email(signed_in, tenant)["ada@firm.co.uk"]["id"], "ben@firm.co.uk"
    assert f'href="/clients/{ada}"' in rows  # still there: still a link
    assert re.search(r'class="cell-key">\s*ben@firm\.co\.uk', rows)  # deleted: no link
    assert ben not in by_email(signed_in, tenant)


def test_an_undo_whose_counts_moved_shows_the_new_counts_and_does_nothing(signed_in: TestClient, tenant: TenantInfo) -> None:
    token = page_token(signed_in)
    first = file_import(signed_in, tenant, PEOPLE)
    confirm = signed_in.get(f"/imports/{first}/undo", headers=HX).text
    expect = dict(re.findall(r'name="(expect_[a-z_]+)" value="(\d+)"', confirm))
    assert expect == {"expect_deleted": "2", "expect_restored": "0", "expect_left_alone": "0"}
    file_import(signed_in, tenant, LATER)
    moved = signed_in.post(f"/imports/{first}/undo", data={"csrf_token": token, **expect}, headers=HX)
    assert moved.status_code == 200
    assert moved.headers["hx-retarget"] == "#undo-confirm"
    assert "Something changed since you opened this" in moved.text
    assert dict(re.findall(r'data-count="([a-z-]+)">(\d+)<', moved.text)) == {"deleted": "1", "restored": "0", "left-alone": "1"}
    assert len(by_email(signed_in, tenant)) == 3
    without_script = signed_in.post(f"/imports/{first}/undo", data={"csrf_token": token, **expect})
    assert without_script.status_code == 409
    assert "<html" in without_script.text
    assert "would now delete 1, restore 0 and leave alone 1 clients; nothing was undone" in without_script.text
    assert len(by_email(signed_in, tenant)) == 3


def test_the_clients_page_exports_like_the_api(signed_in: TestClient, tenant: TenantInfo) -> None:
    make_client(signed_in, tenant, firstName="Ada", lastName="One", email="ada@firm.co.uk", tags=["vat"])
    make_client(signed_in, tenant, firstName="Ben", lastName="Two", email="ben@firm.co.uk")
    page = signed_in.get("/clients").text
    assert '<a class="button" href="/clients/export.csv" download>' in page
    exported = signed_in.get("/clients/export.csv")
    assert exported.status_code == 200
    assert exported.headers["content-disposition"].startswith(f'attachment; filename="clients-{tenant.code}-')
    api = signed_in.get(tenant.path("/clients/export.csv"), headers=tenant.headers)
    assert exported.text == api.text
    assert signed_in.get("/clients/export.csv?tag=vat").text.count("firm.co.uk") == 1


def test_the_export_needs_a_signed_in_user(client: TestClient) -> None:
    response = client.get("/clients/export.csv", follow_redirects=False)
    assert response.status_code == 303
    assert "firm.co.uk" not in response.text


def test_a_client_is_edited_through_the_patch_with_errors_by_their_fields(signed_in: TestClient, tenant: TenantInfo) -> None:
    ada = make_client(signed_in, tenant, firstName="Ada", lastName="One", email="ada@firm.co.uk", note="first")
    make_client(signed_in, tenant, firstName="Ben", email="ben@firm.co.uk")
    form = signed_in.get(f"/clients/{ada['id']}/edit").text
    assert '<label for="field-firstName">First name</label>' in form
    assert 'value="ada@firm.co.uk"' in form
    token = page_token(signed_in)
    fields = {"firstName": "Ada", "lastName": "One", "email": "ada@firm.co.uk", "note": "first"}

    bad = signed_in.post(f"/clients/{ada['id']}/edit", data={"csrf_token": token, **fields, "email": "not-an-email"})
    assert bad.status_code == 400
    assert re.search(r'id="field-email"[^>]*aria-invalid="true" aria-describedby="error-email"', bad.text)
    assert re.search(r'<p class="field-error" id="error-email">[^<]*not a valid email', bad.text)
    assert 'value="not-an-email"' in bad.text  # what was typed is kept
    taken = signed_in.post(f"/clients/{ada['id']}/edit", data={"csrf_token": token, **fields, "email": "ben@firm.co.uk"})
    assert taken.status_code == 400
    assert "already belongs to another client" in taken.text
    assert by_email(signed_in, tenant)["ada@firm.co.uk"]["note"] == "first"

    forged = signed_in.post(f"/clients/{ada['id']}/edit", data={"csrf_token": "forged", **fields, "lastName": "X"})
    assert forged.status_code == 403
    saved = signed_in.post(
        f"/clients/{ada['id']}/edit", data={"csrf_token": token, **fields, "lastName": "Lovelace", "note": ""}, follow_redirects=False
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == f"/clients/{ada['id']}"
    stored = signed_in.get(tenant.path(f"/clients/{ada['id']}"), headers=tenant.headers).json()
    assert (stored["lastName"], stored["note"], stored["email"]) == ("Lovelace", None, "ada@firm.co.uk")
    detail = signed_in.get(f"/clients/{ada['id']}").text
    assert '<span class="changes__field">Last name</span> <del>One</del>' in detail
    assert "· anna@acme.test" in detail
    assert signed_in.get("/clients/nosuchclient/edit").status_code == 404
    assert signed_in.post("/clients/nosuchclient/edit", data={"csrf_token": token, **fields}).status_code == 404


def test_field_names_in_messages_become_labels() -> None:
    assert human_text("email: email domain 'x.example' is reserved") == "Email: email domain 'x.example' is reserved"
    assert human_text("duplicate: trackingId already used by row 3") == "duplicate: tracking ID already used by row 3"
    assert human_text("column 'Geb' was taken as dateOfBirth") == "column 'Geb' was taken as date of birth"
    assert human_text("no client group 'emailing'") == "no client group 'emailing'"


def test_one_way_to_write_a_value() -> None:
    assert value_text("1980-03-14") == "14 Mar 1980"
    assert value_text("2026-03-03T14:05:00+00:00") == "3 Mar 2026, 14:05"
    assert value_text("03/14") == "03/14"
    assert value_text(["vat", "payroll"]) == "vat, payroll"
    assert value_text(None) == ""
