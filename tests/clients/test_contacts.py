"""The ``contacts`` field (the people of a client) through the JSON API, on every database:
create, read back, PATCH replaces, bad items name the field and the position, an unchanged
re-upsert changes nothing; and the migration gives existing clients an empty list."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from clientdock.db import normalise_url
from clientdock.migrate import alembic_config
from clientdock.pipeline.normalise import normalise
from clientdock.pipeline.records import RawRecord
from clientdock.tenants.context import DEFAULT_SETTINGS, TenantContext
from tests.conftest import POSTGRES_URL, TenantInfo, pg_drop, pg_url_for

CTX = TenantContext("tenant-1", "acme", dict(DEFAULT_SETTINGS), "unassigned-group")
EMPTY = {"firstName": None, "lastName": None, "email": None, "role": None, "source": None, "appointedOn": None,
         "nationality": None, "occupation": None}  # fmt: skip
SUE = {"firstName": " Sue ", "lastName": "Johnson", "email": "sue.johnson@krave.com", "role": "contact person", "source": "xero"}
OFFICER = {
    "firstName": "Ada", "lastName": "LOVELACE", "role": "director", "source": "companies-house",
    "appointedOn": "2020-01-31", "nationality": "British", "occupation": "Analyst",
}  # fmt: skip


def answered(*people: dict[str, Any]) -> list[dict[str, Any]]:
    """People as the API answers them: every key, trimmed, null where not known."""
    return [{**EMPTY, **{k: v.strip() for k, v in person.items()}} for person in people]


def post(client: TestClient, tenant: TenantInfo, path: str, body: Any) -> Any:
    return client.post(tenant.path(path), json=body, headers=tenant.headers)


def history(client: TestClient, tenant: TenantInfo, client_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = client.get(tenant.path(f"/clients/{client_id}/history"), headers=tenant.headers).json()["items"]
    return items


def test_create_read_back_and_patch_replaces(client: TestClient, tenant: TenantInfo) -> None:
    made = post(client, tenant, "/clients", {"name": "Acme Parts Co.", "contacts": [SUE]})
    assert made.status_code == 201, made.text
    assert made.json()["contacts"] == answered(SUE)
    got = client.get(tenant.path(f"/clients/{made.json()['id']}"), headers=tenant.headers)
    assert got.json()["contacts"] == answered(SUE)
    assert got.json() == made.json()

    path = tenant.path(f"/clients/{made.json()['id']}")
    patched = client.patch(path, json={"contacts": [OFFICER]}, headers=tenant.headers)
    assert patched.status_code == 200, patched.text
    assert patched.json()["contacts"] == answered(OFFICER)
    # Another field changed leaves the people alone; an empty list clears them.
    assert client.patch(path, json={"note": "hello"}, headers=tenant.headers).json()["contacts"] == answered(OFFICER)
    assert client.patch(path, json={"contacts": []}, headers=tenant.headers).json()["contacts"] == []
    changes = [(i["action"], i["field"]) for i in history(client, tenant, made.json()["id"]) if i["field"] == "contacts"]
    assert changes.count(("updated", "contacts")) == 2


def test_a_client_without_contacts_has_an_empty_list(client: TestClient, tenant: TenantInfo) -> None:
    made = post(client, tenant, "/clients", {"name": "Nobody Ltd"}).json()
    assert made["contacts"] == []
    upserted = post(client, tenant, "/clients/upsert", {"trackingId": "t-1", "name": "Ada"}).json()
    assert upserted["contacts"] == []
    listed = client.get(tenant.path("/clients"), headers=tenant.headers).json()["items"]
    assert [c["contacts"] for c in listed] == [[], []]


@pytest.mark.parametrize(
    ("contacts", "field", "says"),
    [
        ([SUE, {"email": "x@y.co"}], "contacts", "item 1 needs a firstName or lastName"),
        ([SUE, {"firstName": "   ", "lastName": ""}], "contacts", "item 1 needs a firstName or lastName"),
        ([{"firstName": "A", "phone": "1"}], "contacts[0].phone", "Extra inputs are not permitted"),
        ([SUE, "Sue"], "contacts[1]", "Input should be a valid dictionary"),
        ([{"firstName": "A" * 256}], "contacts[0].firstName", "at most 255 characters"),
        ([{"firstName": "A", "email": "a\x00"}], "contacts", "item 0 email contains a NUL character"),
        (None, "contacts", "must be a list, not null"),
        ({"firstName": "A"}, "contacts", "Input should be a valid list"),
    ],
)
def test_a_bad_contact_is_refused_naming_the_field_and_position(
    client: TestClient, tenant: TenantInfo, contacts: Any, field: str, says: str
) -> None:
    response = post(client, tenant, "/clients", {"name": "Acme", "contacts": contacts})
    assert response.status_code == 400, response.text
    errors = response.json()["errors"]
    assert [e["field"] for e in errors] == [field]
    assert says in errors[0]["message"]
    assert client.get(tenant.path("/clients"), headers=tenant.headers).json()["total"] == 0


def test_patch_with_a_bad_contact_changes_nothing(client: TestClient, tenant: TenantInfo) -> None:
    made = post(client, tenant, "/clients", {"name": "Acme", "contacts": [SUE]}).json()
    path = tenant.path(f"/clients/{made['id']}")
    response = client.patch(path, json={"contacts": [OFFICER, {"role": "director"}]}, headers=tenant.headers)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "contacts"
    assert "item 1" in response.json()["errors"][0]["message"]
    assert client.get(path, headers=tenant.headers).json()["contacts"] == answered(SUE)


def test_an_unchanged_re_upsert_changes_nothing(client: TestClient, tenant: TenantInfo) -> None:
    body = {"trackingId": "xero-1", "name": "Acme Parts Co.", "contacts": [SUE, OFFICER]}
    first = post(client, tenant, "/clients/upsert", body)
    assert first.status_code == 201, first.text
    before = history(client, tenant, first.json()["id"])
    # The same people, spelt differently (spaces, keys in another order, nulls): unchanged.
    again = post(
        client,
        tenant,
        "/clients/upsert",
        {**body, "contacts": [{**SUE, "email": " sue.johnson@krave.com "}, dict(reversed(OFFICER.items())) | {"email": None}]},
    )
    assert again.status_code == 200, again.text
    assert again.json()["updatedAt"] == first.json()["updatedAt"]
    assert again.json()["contacts"] == answered(SUE, OFFICER)
    assert history(client, tenant, first.json()["id"]) == before
    # A changed list is an update, recorded with before and after.
    changed = post(client, tenant, "/clients/upsert", {**body, "contacts": [SUE]})
    assert changed.json()["contacts"] == answered(SUE)
    latest = history(client, tenant, first.json()["id"])
    entry = next(i for i in latest if i["field"] == "contacts")
    assert (entry["action"], len(entry["before"]), len(entry["after"])) == ("updated", 2, 1)


def test_normalise_keeps_only_given_values() -> None:
    candidate = normalise(RawRecord(0, {"contacts": [{**SUE, "occupation": "", "nationality": None}]}), CTX)
    assert not candidate.failed, candidate.errors
    assert candidate.values["contacts"] == [{k: v.strip() for k, v in SUE.items()}]
    bad = normalise(RawRecord(3, {"contacts": [SUE, {"firstName": "A", "age": 3}]}), CTX)
    assert [(e.field, e.row) for e in bad.errors] == [("contacts", 3)]
    assert bad.errors[0].message.startswith("item 1 has unknown keys ['age']")


@pytest.fixture(params=["sqlite", *(["postgres"] if POSTGRES_URL else [])])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrate.db'}"
        return
    import psycopg

    assert POSTGRES_URL
    name = f"cdtest_mig_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield pg_url_for(name)
    pg_drop(name)


def test_the_migration_gives_existing_clients_an_empty_list(empty_url: str) -> None:
    config = alembic_config(empty_url)
    command.upgrade(config, "0009_change_actor")
    engine = create_engine(normalise_url(empty_url))
    try:
        with engine.begin() as conn:
            conn.execute(
                text("INSERT INTO tenants (id, code, name, settings, created_at) VALUES ('t1', 't1', 'T', '{}', CURRENT_TIMESTAMP)")
            )
            conn.execute(
                text(
                    "INSERT INTO clients (id, tenant_id, type, name, active, tags, attributes, addresses, enrichment,"
                    " created_at, updated_at)"
                    " VALUES ('c1', 't1', 'Individual', 'Old', true, '[]', '[]', '[]', '{}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
        command.upgrade(config, "0010_client_contacts")
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT contacts FROM clients WHERE id = 'c1'")).scalar_one()
        assert stored in ([], "[]")
        command.downgrade(config, "0009_change_actor")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT name FROM clients")).scalar_one() == "Old"
    finally:
        engine.dispose()
