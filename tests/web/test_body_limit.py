"""The web dialog's upload keeps the upload limit (and its own page when over it); the other
forms of the web app have the JSON body limit (clientdock.bodylimit)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from clientdock.settings import Settings
from tests.web.helpers import UPLOAD_TOKEN, found, page_token, upload

LIMIT = 4096
UPLOAD_LIMIT = 64 * 1024


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=db_url, max_json_bytes=LIMIT, max_upload_bytes=UPLOAD_LIMIT)


def people(rows: int) -> str:
    return "firstName,email\n" + "".join(f"Person {i},p{i}@firm.example.org\n" for i in range(rows))


def test_a_file_over_the_json_limit_is_taken_by_the_dialog(signed_in: TestClient) -> None:
    content = people(500)
    assert LIMIT < len(content) < UPLOAD_LIMIT
    attached = upload(signed_in, content, token=page_token(signed_in))
    assert attached.status_code == 200
    assert found(UPLOAD_TOKEN, attached.text)


def test_a_file_over_the_upload_limit_gets_the_dialogs_answer(signed_in: TestClient) -> None:
    attached = upload(signed_in, people(3000), token=page_token(signed_in))
    assert attached.status_code == 200
    assert "We couldn't import that file." in attached.text
    assert "larger than 65536 bytes" in attached.text


def test_other_forms_have_the_json_limit(signed_in: TestClient) -> None:
    token = page_token(signed_in)
    response = signed_in.post("/sign-out", data={"csrf_token": token, "pad": "p" * LIMIT})
    assert response.status_code == 413
    assert signed_in.get("/clients").status_code == 200  # still signed in: the form was not read
