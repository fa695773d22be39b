"""The Import dialog and the text rules of issue 14: a mixed-encoding file or a blank-only file
goes back to the first step saying why in the dialog's words, and nothing is kept or written."""

from __future__ import annotations

from fastapi.testclient import TestClient

from clientdock.db import Database
from clientdock.settings import Settings
from clientdock.web import uploads
from tests.conftest import CORPUS, TenantInfo
from tests.web.helpers import page_token, upload
from tests.web.test_imports import clients_of


def test_a_mixed_encoding_file_goes_back_to_the_first_step_saying_save_it_as_utf8(
    signed_in: TestClient, tenant: TenantInfo, settings: Settings, database: Database
) -> None:
    token = page_token(signed_in)
    step = upload(signed_in, (CORPUS / "clients/mixed_utf8_cp1252.csv").read_bytes(), token=token)
    assert step.status_code == 200
    assert "We couldn't import that file." in step.text
    assert "The file is not wholly UTF-8: lines 5 and 6 are written in another encoding" in step.text
    assert "Save the whole file as UTF-8 (in Excel: Save as &gt; CSV UTF-8) and choose it again." in step.text
    assert "encoding field" not in step.text  # the dialog has no such field
    assert not any(uploads.folder(settings, tenant.id).iterdir())
    assert clients_of(signed_in, tenant) == {}


def test_a_blank_only_file_is_refused_as_empty_in_the_dialog(signed_in: TestClient, tenant: TenantInfo, settings: Settings) -> None:
    token = page_token(signed_in)
    step = upload(signed_in, (CORPUS / "clients/blank_only.csv").read_bytes(), token=token)
    assert "We couldn't import that file." in step.text
    assert "The file is empty" in step.text
    assert "firstName" not in step.text.split("We couldn't import that file.")[1].split("</div>")[0]
    assert not any(uploads.folder(settings, tenant.id).iterdir())
