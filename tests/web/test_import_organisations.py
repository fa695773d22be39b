"""The Import dialog over HTTP with organisations: a file of company names and no first-name
column is checked and imported; a file without any name column is told what to pick, in words."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import TenantInfo
from tests.web.helpers import DRY_RUN, PROGRESS, UPLOAD_TOKEN, found, page_token, preview, start, upload, wait_for_progress
from tests.web.test_imports import clients_of, selected

COMPANIES = (
    "Client Name,Client Type,Email,Company Number\n"
    "Acme Trading Ltd,Private limited company,accounts@acme.example.org,01234567\n"
    "Hart Family Trust,Trust,trustees@hart.example.org,\n"
    ",Partnership,nameless@firm.example.org,\n"
)


def test_a_company_only_file_is_checked_and_imported(signed_in: TestClient, tenant: TenantInfo) -> None:
    token = page_token(signed_in)
    html = upload(signed_in, COMPANIES, token=token, filename="practice.csv").text
    assert [selected(html, f"col-{n}") for n in range(4)] == ["name", "type", "email", "companyNumber"]
    assert "Pick the column" not in html
    kept = found(UPLOAD_TOKEN, html)
    shown = preview(signed_in, token=token, upload_token=kept, mapping={0: "name", 1: "type", 2: "email", 3: "companyNumber"}).text
    for text in ("Would create</dt><dd>2<", "Would fail</dt><dd>1<", "Row 3", "is required for an organisation"):
        assert text in shown, text
    job_id = found(PROGRESS, start(signed_in, token=token, upload_token=kept, dry_run=found(DRY_RUN, shown)).text)
    wait_for_progress(signed_in, job_id)
    stored = clients_of(signed_in, tenant)
    assert {email: (c["name"], c["type"]) for email, c in stored.items()} == {
        "accounts@acme.example.org": ("Acme Trading Ltd", "PrivateLimitedCompany"),
        "trustees@hart.example.org": ("Hart Family Trust", "Trust"),
    }


def test_a_file_without_a_name_column_is_asked_for_the_client_s_name(signed_in: TestClient) -> None:
    token = page_token(signed_in)
    html = upload(signed_in, "Reference,Email\nR1,a@firm.example.org\n", token=token).text
    assert "Pick the column that holds the client&#39;s name." in html
    assert "a person's first name (First name), or the name of a company, trust, partnership or other organisation" in html
    both = upload(signed_in, "Reference,Phone\nR1,020 7946 0000\n", token=token).text
    assert "Pick the columns that hold the client&#39;s name and Email." in both


def test_the_requirements_say_a_name_and_an_email(signed_in: TestClient) -> None:
    html = signed_in.get("/clients/import/upload-form").text
    assert "Required columns: a name and an email" in html
    assert "Client name or Company for a company, trust or partnership" in html
