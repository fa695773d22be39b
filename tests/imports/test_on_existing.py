"""``onExisting`` at our own doors: the S2 upsert, the S4 bulk door and the file door (form
field and query), each value, the refusal of another value, the rows' before → after in dry
runs and real runs, the job's record of the option, and undo after fillEmpty and skip."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from clientdock.clients.models import ClientChange
from clientdock.db import Database
from clientdock.pipeline.existing import SKIPPED, kept_message
from tests.conftest import TenantInfo
from tests.imports.csv_support import csv_bytes

ALLOWED = "must be one of update, fillEmpty, skip"
HEADER = ["First Name", "Last Name", "Email", "Phone", "Company", "Note"]
SEED = [
    ["Ada", "Byron", "ada@firm.example.org", "+44 20 7946 0001", "", "first note"],
    ["Ben", "Mwangi", "ben@firm.example.org", "", "Mwangi & Sons", ""],
]
#: The re-import: Ada gets a new phone (she has one) and a company (she has none); Ben a phone
#: and a company (he has one); Cy is new.
AGAIN = [
    ["Ada", "Byron", "ada@firm.example.org", "+44 20 7946 0999", "Analytical Engines Ltd", "first note"],
    ["Ben", "Mwangi", "ben@firm.example.org", "+44 20 7946 0002", "Other Ltd", ""],
    ["Cy", "Young", "cy@firm.example.org", "", "", ""],
]


def problem_of(response: httpx2.Response) -> dict[str | None, str]:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return {e["field"]: e["message"] for e in response.json()["errors"]}


def clients_by_email(client: TestClient, tenant: TenantInfo) -> dict[str, dict[str, Any]]:
    items = client.get(tenant.path("/clients"), params={"pageSize": 200}, headers=tenant.headers).json()["items"]
    return {c["email"]: c for c in items if c["email"]}


# --- the S2 upsert -----------------------------------------------------------------------------------


def upsert(client: TestClient, tenant: TenantInfo, body: dict[str, Any], on_existing: str | None = None) -> httpx2.Response:
    params = {"onExisting": on_existing} if on_existing is not None else {}
    return client.post(tenant.path("/clients/upsert"), json=body, params=params, headers=tenant.headers)


def test_upsert_updates_by_default_and_with_update(client: TestClient, tenant: TenantInfo) -> None:
    upsert(client, tenant, {"trackingId": "crm-1", "name": "Ada", "phone": "+44 20 7946 0001"})
    for value in (None, "update"):
        response = upsert(client, tenant, {"trackingId": "crm-1", "name": "Ada", "phone": f"+44 20 7946 000{2 if value else 3}"}, value)
        assert (response.status_code, response.json()["result"]) == (200, "updated")
    assert upsert(client, tenant, {"trackingId": "crm-1", "name": "Ada"}).json()["phone"] == "+44 20 7946 0002"


def test_upsert_fill_empty_writes_only_empty_fields(client: TestClient, tenant: TenantInfo) -> None:
    upsert(client, tenant, {"trackingId": "crm-1", "name": "Ada", "phone": "+44 20 7946 0001"})
    body = {"trackingId": "crm-1", "name": "Ada King", "phone": "+44 20 7946 0999", "note": "new", "tags": ["vip"]}
    response = upsert(client, tenant, body, "fillEmpty")
    assert (response.status_code, response.json()["result"]) == (200, "updated")
    stored = response.json()
    assert (stored["name"], stored["phone"], stored["note"], stored["tags"]) == ("Ada", "+44 20 7946 0001", "new", ["vip"])


def test_upsert_skip_answers_200_skipped_with_the_client_as_it_is(client: TestClient, tenant: TenantInfo) -> None:
    first = upsert(client, tenant, {"trackingId": "crm-1", "name": "Ada"}).json()
    response = upsert(client, tenant, {"trackingId": "crm-1", "name": "Ada King", "note": "x"}, "skip")
    assert response.status_code == 200
    assert (response.json()["result"], response.json()["id"], response.json()["name"], response.json()["note"]) == (
        "skipped", first["id"], "Ada", None,
    )  # fmt: skip
    created = upsert(client, tenant, {"trackingId": "crm-2", "name": "Bea"}, "skip")
    assert (created.status_code, created.json()["result"]) == (201, "created"), "skip still creates new clients"


@pytest.mark.parametrize("value", ["overwrite", "Skip", "fill_empty"])
def test_upsert_refuses_another_value_naming_the_option(client: TestClient, tenant: TenantInfo, value: str) -> None:
    response = upsert(client, tenant, {"trackingId": "crm-1", "name": "Ada"}, value)
    assert problem_of(response) == {"onExisting": f"{ALLOWED}, not {value!r}"}
    assert clients_by_email(client, tenant) == {}
    assert client.get(tenant.path("/clients"), headers=tenant.headers).json()["total"] == 0


# --- the S4 bulk door ----------------------------------------------------------------------------------


def bulk(client: TestClient, tenant: TenantInfo, body: Any) -> httpx2.Response:
    return client.post("/users/bulk/sourceId", json=body, headers=tenant.headers)


def test_bulk_takes_on_existing_beside_users(client: TestClient, tenant: TenantInfo, database: Database) -> None:
    seeded = bulk(client, tenant, {"users": [{"source": "erp", "sourceId": 1, "fullName": "Ada", "email": "ada@firm.co"}]}).json()
    client_id = seeded["data"][0]["id"]
    change = [{"source": "erp", "sourceId": 1, "fullName": "Ada King", "email": "king@firm.co", "phone": "+44 20 7946 0001"}]

    skipped = bulk(client, tenant, {"users": change, "onExisting": "skip"})
    assert skipped.status_code == 200, skipped.text
    (item,) = skipped.json()["data"]
    assert (item["action"], item["id"], item["success"], item["changed"]) == ("skipped", client_id, True, False)
    assert skipped.json()["messages"] == [f"users[0]: {SKIPPED}"]

    filled = bulk(client, tenant, {"users": change, "onExisting": "fillEmpty"}).json()
    assert (filled["data"][0]["action"], filled["data"][0]["changed"]) == ("updated", True)
    assert filled["messages"] == [f"users[0]: {kept_message(['name', 'email'])}"]
    rows = client.get(tenant.path(f"/imports/{filled['importId']}/rows"), params={"outcome": "updated"}, headers=tenant.headers).json()
    assert rows["items"][0]["changes"] == {"phone": {"before": None, "after": "+44 20 7946 0001"}}
    stored = client.get(tenant.path(f"/clients/{client_id}"), headers=tenant.headers).json()
    assert (stored["name"], stored["email"], stored["phone"]) == ("Ada", "ada@firm.co", "+44 20 7946 0001")

    updated = bulk(client, tenant, {"users": change, "onExisting": "update"}).json()
    assert updated["data"][0]["action"] == "updated"
    assert client.get(tenant.path(f"/clients/{client_id}"), headers=tenant.headers).json()["name"] == "Ada King"
    job = client.get(tenant.path(f"/imports/{updated['importId']}"), headers=tenant.headers).json()
    assert job["onExisting"] == "update"
    with database.session() as session:
        fields = set(session.scalars(select(ClientChange.field).where(ClientChange.job_id == filled["importId"])))
    assert fields == {"phone"}, "the audit trail holds only what fillEmpty wrote"


@pytest.mark.parametrize(("value", "shown"), [("never", "'never'"), (True, "a boolean"), (["skip"], "a list")])
def test_bulk_refuses_another_on_existing_naming_it(client: TestClient, tenant: TenantInfo, value: Any, shown: str) -> None:
    users = [{"source": "erp", "sourceId": 1, "fullName": "Ada"}]
    assert problem_of(bulk(client, tenant, {"users": users, "onExisting": value})) == {"onExisting": f"{ALLOWED}, not {shown}"}
    assert client.get(tenant.path("/imports"), headers=tenant.headers).json()["total"] == 0


# --- the file door ---------------------------------------------------------------------------------------


def upload(
    client: TestClient, tenant: TenantInfo, rows: list[list[str]], *, data: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
) -> httpx2.Response:  # fmt: skip
    return client.post(
        tenant.path("/clients/import/csv"),
        files={"file": ("clients.csv", csv_bytes([HEADER, *rows]), "text/csv")},
        data=data or {},
        params=params or {},
        headers=tenant.headers,
    )


def job_of(response: httpx2.Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    assert body["status"] == "succeeded", body
    return body


def rows_of(client: TestClient, tenant: TenantInfo, job_id: str, outcome: str | None = None) -> list[dict[str, Any]]:
    params = {"outcome": outcome} if outcome else {}
    items: list[dict[str, Any]] = client.get(tenant.path(f"/imports/{job_id}/rows"), params=params, headers=tenant.headers).json()["items"]
    return items


EXPECTED_UPDATES: dict[str, dict[str, dict[str, Any]]] = {
    "update": {
        "ada@firm.example.org": {"phone": {"before": "+44 20 7946 0001", "after": "+44 20 7946 0999"},
                                 "company": {"before": None, "after": "Analytical Engines Ltd"}},
        "ben@firm.example.org": {"phone": {"before": None, "after": "+44 20 7946 0002"},
                                 "company": {"before": "Mwangi & Sons", "after": "Other Ltd"}},
    },
    "fillEmpty": {
        "ada@firm.example.org": {"company": {"before": None, "after": "Analytical Engines Ltd"}},
        "ben@firm.example.org": {"phone": {"before": None, "after": "+44 20 7946 0002"}},
    },
    "skip": {},
}  # fmt: skip
EXPECTED_COUNTS = {
    "update": {"created": 1, "updated": 2, "unchanged": 0, "skipped": 0, "failed": 0},
    "fillEmpty": {"created": 1, "updated": 2, "unchanged": 0, "skipped": 0, "failed": 0},
    "skip": {"created": 1, "updated": 0, "unchanged": 0, "skipped": 2, "failed": 0},
}


@pytest.mark.parametrize("value", ["update", "fillEmpty", "skip"])
def test_file_dry_run_and_real_run_show_each_update_before_and_after(client: TestClient, tenant: TenantInfo, value: str) -> None:
    job_of(upload(client, tenant, SEED))
    dry = job_of(upload(client, tenant, AGAIN, data={"onExisting": value, "dryRun": "true"}))
    assert (dry["dryRun"], dry["onExisting"], dry["counts"]) == (True, value, EXPECTED_COUNTS[value])
    before = clients_by_email(client, tenant)
    assert before["ada@firm.example.org"]["phone"] == "+44 20 7946 0001", "a dry run writes nothing"

    real = job_of(upload(client, tenant, AGAIN, data={"onExisting": value}))
    assert (real["dryRun"], real["onExisting"], real["counts"]) == (False, value, EXPECTED_COUNTS[value])
    for job in (dry, real):
        updated = rows_of(client, tenant, job["id"], "updated")
        by_email = {before_client_email(before, r["id"]): r["changes"] for r in updated}
        assert by_email == EXPECTED_UPDATES[value], job["dryRun"]
        others = [r for r in rows_of(client, tenant, job["id"]) if r["action"] != "updated"]
        assert all(r["changes"] is None for r in others)
    skipped = rows_of(client, tenant, real["id"], "skipped")
    assert [r["messages"] for r in skipped] == ([[SKIPPED]] * 2 if value == "skip" else [])

    after = clients_by_email(client, tenant)
    ada, ben = after["ada@firm.example.org"], after["ben@firm.example.org"]
    expected = {
        "update": (("+44 20 7946 0999", "Analytical Engines Ltd"), ("+44 20 7946 0002", "Other Ltd")),
        "fillEmpty": (("+44 20 7946 0001", "Analytical Engines Ltd"), ("+44 20 7946 0002", "Mwangi & Sons")),
        "skip": (("+44 20 7946 0001", None), (None, "Mwangi & Sons")),
    }[value]
    assert ((ada["phone"], ada["company"]), (ben["phone"], ben["company"])) == expected
    assert "cy@firm.example.org" in after


def before_client_email(clients: dict[str, dict[str, Any]], client_id: str) -> str:
    return next(email for email, c in clients.items() if c["id"] == client_id)


def test_file_fill_empty_names_the_values_it_kept(client: TestClient, tenant: TenantInfo) -> None:
    job_of(upload(client, tenant, SEED))
    real = job_of(upload(client, tenant, AGAIN, params={"onExisting": "fillEmpty"}))
    messages = {r["index"]: r["messages"] for r in rows_of(client, tenant, real["id"], "updated")}
    assert messages == {1: [kept_message(["phone"])], 2: [kept_message(["company"])]}


def test_the_form_field_wins_over_the_query(client: TestClient, tenant: TenantInfo) -> None:
    job_of(upload(client, tenant, SEED))
    real = job_of(upload(client, tenant, AGAIN, data={"onExisting": "skip"}, params={"onExisting": "update"}))
    assert (real["onExisting"], real["counts"]["skipped"]) == ("skip", 2)


@pytest.mark.parametrize("where", ["data", "params"])
def test_file_door_refuses_another_value_before_anything_is_written(client: TestClient, tenant: TenantInfo, where: str) -> None:
    response = upload(client, tenant, SEED, **{where: {"onExisting": "replace"}})
    assert problem_of(response) == {"onExisting": f"{ALLOWED}, not 'replace'"}
    assert client.get(tenant.path("/imports"), headers=tenant.headers).json()["total"] == 0
    assert clients_by_email(client, tenant) == {}


def test_a_door_without_the_option_records_update(client: TestClient, tenant: TenantInfo) -> None:
    job = job_of(upload(client, tenant, SEED))
    assert job["onExisting"] == "update"
    listed = client.get(tenant.path("/imports"), headers=tenant.headers).json()["items"]
    assert [j["onExisting"] for j in listed] == ["update"]


# --- undo ---------------------------------------------------------------------------------------------


def test_undo_after_fill_empty_restores_only_what_it_filled(client: TestClient, tenant: TenantInfo) -> None:
    job_of(upload(client, tenant, SEED))
    real = job_of(upload(client, tenant, AGAIN, data={"onExisting": "fillEmpty"}))
    undone = client.post(tenant.path(f"/imports/{real['id']}/undo"), headers=tenant.headers)
    assert undone.status_code == 200, undone.text
    result = undone.json()
    assert len(result["deleted"]) == 1, "Cy, whom it created"
    assert sorted(sorted(r["fields"]) for r in result["restored"]) == [["company"], ["phone"]]
    assert result["conflicts"] == []
    after = clients_by_email(client, tenant)
    assert set(after) == {"ada@firm.example.org", "ben@firm.example.org"}
    ada, ben = after["ada@firm.example.org"], after["ben@firm.example.org"]
    assert ((ada["phone"], ada["company"]), (ben["phone"], ben["company"])) == (
        ("+44 20 7946 0001", None), (None, "Mwangi & Sons"),
    )  # fmt: skip


def test_undo_after_skip_deletes_only_what_it_created(client: TestClient, tenant: TenantInfo) -> None:
    job_of(upload(client, tenant, SEED))
    before = clients_by_email(client, tenant)
    real = job_of(upload(client, tenant, AGAIN, data={"onExisting": "skip"}))
    result = client.post(tenant.path(f"/imports/{real['id']}/undo"), headers=tenant.headers).json()
    assert (len(result["deleted"]), result["restored"], result["conflicts"]) == (1, [], [])
    after = clients_by_email(client, tenant)
    assert {e: (c["phone"], c["company"], c["updatedAt"]) for e, c in after.items()} == {
        e: (c["phone"], c["company"], c["updatedAt"]) for e, c in before.items()
    }


# --- the OpenAPI document ------------------------------------------------------------------------


def test_openapi_documents_the_option_at_every_door_and_the_changes(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    for path in ("/tenants/{tenant}/clients/upsert", "/tenants/{tenant}/clients/import/csv",
                 "/tenants/{tenant}/clients/import/from-connection", "/business/clients/v1/apps/{app_code_name}/import"):  # fmt: skip
        (param,) = [p for p in paths[path]["post"]["parameters"] if p["name"] == "onExisting"]
        assert (param["in"], param["schema"]["type"], param["schema"]["enum"]) == ("query", "string", ["update", "fillEmpty", "skip"])
        assert "fillEmpty" in param["schema"]["description"]
    form = paths["/tenants/{tenant}/clients/import/csv"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert form["properties"]["onExisting"]["enum"] == ["update", "fillEmpty", "skip"]
    assert "onExisting" in paths["/users/bulk/sourceId"]["post"]["description"]
    schemas = spec["components"]["schemas"]
    changes = schemas["ImportRow"]["properties"]["changes"]
    assert {"additionalProperties": {"$ref": "#/components/schemas/FieldChange"}, "type": "object"} in changes["anyOf"]
    assert set(schemas["FieldChange"]["required"]) == {"before", "after"}
    assert "onExisting" in schemas["ImportJob"]["required"]
