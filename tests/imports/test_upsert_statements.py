"""What one single upsert sends PostgreSQL: a few plain statements in one transaction, no
temporary table (counted at the driver, so the statements below SQLAlchemy count too)."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from tests.conftest import TenantInfo

#: What the upsert's own statements touch; the app's background threads (job engine, reaper,
#: webhook dispatcher) run statements of their own at the same time, on other tables.
UPSERT_WORDS = ("clients", "client_changes", "client_external_refs", "set_config", "cd_stage")


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The statements psycopg's cursors run from now on (execute, executemany, COPY) that touch
    what an upsert touches."""
    statements: list[str] = []
    for name in ("execute", "executemany", "copy"):
        original = getattr(psycopg.Cursor, name)

        def counted(self: psycopg.Cursor[Any], query: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            text = " ".join(str(query if isinstance(query, str | bytes) else query.as_string(self)).split())
            if any(word in text for word in UPSERT_WORDS):
                statements.append(text)
            return _original(self, query, *args, **kwargs)

        monkeypatch.setattr(psycopg.Cursor, name, counted)
    return statements


def test_a_single_upsert_on_postgresql_is_a_few_plain_statements(
    client: TestClient, tenant: TenantInfo, backend: str, sent: list[str]
) -> None:
    path = tenant.path("/clients/upsert")
    # the key's first use reads it and the tenant's context (kept for the next requests)
    assert client.post(path, json={"trackingId": "t-0", "name": "Warm"}, headers=tenant.headers).status_code == 201
    sent.clear()
    created = client.post(path, json={"trackingId": "t-1", "name": "Ada", "email": "ada@firm.co.uk"}, headers=tenant.headers)
    assert created.status_code == 201
    if backend != "postgres":  # SQLite: no driver statements to count here, the answers above and below still checked
        assert not sent
    create = list(sent)
    sent.clear()
    updated = client.post(path, json={"trackingId": "t-1", "name": "Ada Lovelace", "tags": ["vip"]}, headers=tenant.headers)
    assert updated.status_code == 200
    assert updated.json()["name"] == "Ada Lovelace"
    assert updated.json()["tags"] == ["vip"]
    assert updated.json()["email"] == "ada@firm.co.uk"
    if backend != "postgres":
        return
    update = list(sent)
    for statements in (create, update):
        assert not [s for s in statements if "TEMP TABLE" in s.upper() or s.upper().startswith("COPY")], statements
    # binding, look-up, (current values,) write, audit row, answer
    assert len(create) <= 5, create
    assert len(update) <= 6, update
