"""S4: POST /users/bulk/sourceId — every field, each failure kind, parents, replay, limits."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient

from clientdock.pipeline import apply
from tests.conftest import TenantInfo
from tests.contract import assert_documented

FULL = {
    "source": "erp",
    "sourceId": 1001,
    "language": "en",
    "debtorId": 5501,
    "firstName": "Maria",
    "middleName": "Anna",
    "lastName": "Jansen",
    "fullName": "Maria A. Jansen",
    "title": "Dr",
    "dateOfBirth": "1980-02-29",
    "gender": "female",
    "login": "mjansen",
    "phone": "+31 20 123 4567",
    "mobile": "+31 6 12345678",
    "email": "Maria.Jansen@Example.NL",
    "company": "Jansen BV",
    "taxNumber": "NL123456789B01",
    "cocNumber": "12345678",
    "primaryLanguage": "nl",
    "abbreviation": "MJ",
    "attributes": [
        {"class": "crm", "name": "score", "type": "number", "value": "42"},
        {"class": "crm", "name": "vip", "type": "boolean", "value": "yes"},
        {"class": "crm", "name": "since", "type": "date", "value": "2020-01-31"},
        {"class": "crm", "name": "segment", "type": "string", "value": "SMB"},
    ],
    "addresses": [{"type": "billing", "line1": "Damrak 1", "city": "Amsterdam", "postalCode": "1012 LG", "country": "NL"}],
}


def bulk(client: TestClient, tenant: TenantInfo, users: Any) -> httpx2.Response:
    return client.post("/users/bulk/sourceId", json={"users": users}, headers=tenant.headers)


def fetch(client: TestClient, tenant: TenantInfo, client_id: str) -> dict[str, Any]:
    body: dict[str, Any] = client.get(tenant.path(f"/clients/{client_id}"), headers=tenant.headers).json()
    return body


def test_every_field_is_stored(client: TestClient, tenant: TenantInfo) -> None:
    response = bulk(client, tenant, [FULL])
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 1
    assert body["messages"] == []
    (entry,) = body["data"]
    assert entry == {
        "action": "created", "id": entry["id"], "key": "1001", "lookupKey": "erp/1001/en", "success": True, "changed": True, "warnings": [],
    }  # fmt: skip
    stored = fetch(client, tenant, entry["id"])
    expected = {
        "debtorId": "5501", "firstName": "Maria", "middleName": "Anna", "lastName": "Jansen", "name": "Maria A. Jansen",
        "title": "Dr", "dateOfBirth": "1980-02-29", "gender": "female", "login": "mjansen", "phone": "+31 20 123 4567",
        "phoneE164": "+31201234567", "mobile": "+31 6 12345678", "mobileE164": "+31612345678", "email": "Maria.Jansen@example.nl",
        "company": "Jansen BV", "taxNumber": "NL123456789B01", "cocNumber": "12345678", "primaryLanguage": "nl", "abbreviation": "MJ",
    }  # fmt: skip
    assert {k: stored[k] for k in expected} == expected
    assert stored["attributes"] == [
        {"class": "crm", "name": "score", "type": "number", "value": 42},
        {"class": "crm", "name": "vip", "type": "boolean", "value": True},
        {"class": "crm", "name": "since", "type": "date", "value": "2020-01-31"},
        {"class": "crm", "name": "segment", "type": "string", "value": "SMB"},
    ]
    assert stored["addresses"] == FULL["addresses"]
    assert stored["externalRefs"] == [{"source": "erp", "externalId": "1001", "language": "en"}]


def test_match_updates_and_replay_is_unchanged(client: TestClient, tenant: TenantInfo) -> None:
    first = bulk(client, tenant, [FULL]).json()["data"][0]
    again = bulk(client, tenant, [FULL]).json()["data"][0]
    assert again == {**first, "action": "updated", "changed": False}
    edited = bulk(client, tenant, [{"source": "erp", "sourceId": 1001, "language": "en", "title": "Prof"}]).json()["data"][0]
    assert (edited["action"], edited["changed"], edited["id"]) == ("updated", True, first["id"])
    stored = fetch(client, tenant, first["id"])
    assert (stored["title"], stored["firstName"]) == ("Prof", "Maria")


def test_language_is_part_of_the_key(client: TestClient, tenant: TenantInfo) -> None:
    users = [
        {"source": "erp", "sourceId": "7", "language": "en", "fullName": "E"},
        {"source": "erp", "sourceId": "7", "language": "nl", "fullName": "N"},
    ]
    data = bulk(client, tenant, users).json()["data"]
    assert [(d["lookupKey"], d["action"]) for d in data] == [("erp/7/en", "created"), ("erp/7/nl", "created")]
    assert data[0]["id"] != data[1]["id"]


def test_bad_items_fail_alone_naming_index_and_field(client: TestClient, tenant: TenantInfo) -> None:
    users = [
        {"source": "erp", "sourceId": 1, "firstName": "Ok"},
        {"source": "erp", "firstName": "No id"},
        {"sourceId": 3, "firstName": "No source"},
        {"source": "erp", "sourceId": 4, "firstName": "Bad mail", "email": "nope"},
        {"source": "erp", "sourceId": 5, "firstName": "Bad date", "email": "also bad"},
        {"source": "erp", "sourceId": 6, "firstName": "Bad attr", "attributes": [{"name": "n", "type": "number", "value": "x"}]},
        "not an object",
        {"source": "erp", "sourceId": 8, "firstName": "Unknown", "shoeSize": 44},
        {"source": "erp", "sourceId": 9, "firstName": "Orphan", "parent": {"source": "erp", "sourceId": 999}},
        {"source": "erp", "sourceId": 1, "firstName": "Duplicate key"},
        {"source": "erp", "sourceId": 11, "firstName": "Bad phone", "phone": "4.47911E+11"},
        {"source": "erp", "sourceId": 12},
    ]
    body = bulk(client, tenant, users).json()
    assert [d["success"] for d in body["data"]] == [True] + [False] * 11
    assert [d["action"] for d in body["data"]][:2] == ["created", "failed"]
    joined = "\n".join(body["messages"])
    for needle in (
        "users[1].sourceId", "users[2].source", "users[3].email", "users[4].email", "users[5].attributes", "users[6]:",
        "users[7].shoeSize", "users[8].parent", "users[9].sourceId", "users[10].phone", "users[11].fullName",
    ):  # fmt: skip
        assert needle in joined, needle
    assert client.get(tenant.path("/clients"), headers=tenant.headers).json()["total"] == 1


def test_warnings_name_index_and_field_and_do_not_fail(client: TestClient, tenant: TenantInfo) -> None:
    users = [
        {"source": "erp", "sourceId": 1, "firstName": "Fine", "email": "fine@acme.co.uk"},
        {"source": "erp", "sourceId": 2, "firstName": "Reserved", "email": "someone@acme.test"},
    ]
    body = bulk(client, tenant, users).json()
    assert [(d["action"], d["success"]) for d in body["data"]] == [("created", True), ("created", True)]
    (message,) = body["messages"]
    assert message.startswith("users[1].email: ")
    assert "reserved" in message
    assert bulk(client, tenant, users).json()["messages"] == [message]  # the same warning every time


@pytest.mark.parametrize("reverse", [False, True])
def test_parent_in_same_batch_resolves_whatever_the_order(client: TestClient, tenant: TenantInfo, reverse: bool) -> None:
    parent = {"source": "erp", "sourceId": "P", "fullName": "Holding Ltd", "company": "Holding Ltd"}
    child = {"source": "erp", "sourceId": "C", "fullName": "Sub Ltd", "parent": {"source": "erp", "sourceId": "P"}}
    users = [child, parent] if reverse else [parent, child]
    data = bulk(client, tenant, users).json()["data"]
    assert all(d["success"] for d in data)
    by_key = {d["key"]: d["id"] for d in data}
    assert fetch(client, tenant, by_key["C"])["parentId"] == by_key["P"]
    # A later batch may name the existing parent too.
    later = bulk(client, tenant, [{"source": "erp", "sourceId": "D", "fullName": "D", "parent": {"source": "erp", "sourceId": "P"}}]).json()
    assert fetch(client, tenant, later["data"][0]["id"])["parentId"] == by_key["P"]


def test_child_of_failed_parent_fails(client: TestClient, tenant: TenantInfo) -> None:
    users = [
        {"source": "erp", "sourceId": "P", "fullName": "P", "email": "broken"},
        {"source": "erp", "sourceId": "C", "fullName": "C", "parent": {"source": "erp", "sourceId": "P"}},
    ]
    body = bulk(client, tenant, users).json()
    assert [d["success"] for d in body["data"]] == [False, False]
    assert "users[1].parent: parent item 'erp/P/' failed" in body["messages"]


def test_a_duplicate_of_a_parent_item_fails_alone(client: TestClient, tenant: TenantInfo) -> None:
    users = [
        {"source": "erp", "sourceId": "P", "fullName": "Parent"},
        {"source": "erp", "sourceId": "P", "fullName": "Parent again"},
        {"source": "erp", "sourceId": "C", "fullName": "Child", "parent": {"source": "erp", "sourceId": "P"}},
    ]
    data = bulk(client, tenant, users).json()["data"]
    assert [d["action"] for d in data] == ["created", "failed", "created"]
    assert fetch(client, tenant, data[2]["id"])["parentId"] == data[0]["id"]


def test_an_item_cannot_be_its_own_parent_or_ancestor(client: TestClient, tenant: TenantInfo) -> None:
    def user(key: str, parent: str) -> dict[str, Any]:
        return {"source": "erp", "sourceId": key, "fullName": key, "parent": {"source": "erp", "sourceId": parent}}

    body = bulk(client, tenant, [user("S", "S"), user("A", "B"), user("B", "A"), user("X", "Y"), user("Y", "Z"), user("Z", "X")]).json()
    assert [d["success"] for d in body["data"]] == [False] * 6
    assert "users[0].parent: cannot be the item itself" in body["messages"]
    assert "users[1].parent: 'erp/B/' descends from this item: parents would form a cycle" in body["messages"]
    assert sum("form a cycle" in m for m in body["messages"]) == 5
    assert client.get(tenant.path("/clients"), headers=tenant.headers).json()["total"] == 0
    # A chain that ends somewhere is fine.
    chain = bulk(client, tenant, [user("K1", "K2"), user("K2", "K3"), {"source": "erp", "sourceId": "K3", "fullName": "K3"}]).json()
    assert all(d["success"] for d in chain["data"])


def test_batch_limit_is_413(client: TestClient, tenant: TenantInfo) -> None:
    users = [{"source": "erp", "sourceId": i, "fullName": f"U{i}"} for i in range(1001)]
    response = bulk(client, tenant, users)
    assert response.status_code == 413
    assert_documented(client, response, "POST", "/users/bulk/sourceId")  # the 413 was not in the description
    assert client.get(tenant.path("/clients"), headers=tenant.headers).json()["total"] == 0


def test_a_thousand_items_and_replay(client: TestClient, tenant: TenantInfo) -> None:
    users = [{"source": "erp", "sourceId": i, "fullName": f"User {i}", "email": f"user{i}@firm.co", "tags": ["t"]} for i in range(1000)]
    first = bulk(client, tenant, users).json()
    assert [d["action"] for d in first["data"]] == ["created"] * 1000
    second = bulk(client, tenant, users).json()
    assert [(d["action"], d["changed"]) for d in second["data"]] == [("updated", False)] * 1000
    assert [d["id"] for d in second["data"]] == [d["id"] for d in first["data"]]
    assert client.get(tenant.path("/clients"), headers=tenant.headers).json()["total"] == 1000


@pytest.mark.parametrize(("body", "field"), [({}, "users"), ({"users": "x"}, "users"), ({"users": [], "extra": 1}, "extra"), ([], "users")])
def test_bad_bodies_are_400(client: TestClient, tenant: TenantInfo, body: Any, field: str) -> None:
    response = client.post("/users/bulk/sourceId", json=body, headers=tenant.headers)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == field


def test_auth(client: TestClient, tenant: TenantInfo) -> None:
    assert client.post("/users/bulk/sourceId", json={"users": []}).status_code == 401


def test_recorded_as_an_import_with_rows_errors_and_undo(client: TestClient, tenant: TenantInfo) -> None:
    bulk(client, tenant, [{"source": "erp", "sourceId": 1, "fullName": "Keep", "note": "v1"}])
    body = bulk(
        client,
        tenant,
        [
            {"source": "erp", "sourceId": 1, "note": "v2"},
            {"source": "erp", "sourceId": 2, "fullName": "New"},
            {"source": "erp", "sourceId": 3, "email": "=cmd|calc"},
        ],
    ).json()
    job_id = body["importId"]
    job = client.get(tenant.path(f"/imports/{job_id}"), headers=tenant.headers).json()
    assert (job["door"], job["status"], job["counts"]["created"], job["counts"]["updated"], job["counts"]["failed"]) == (
        "bulk",
        "succeeded",
        1,
        1,
        1,
    )
    failed = client.get(tenant.path(f"/imports/{job_id}/rows"), params={"outcome": "failed"}, headers=tenant.headers).json()
    assert failed["total"] == 1
    assert failed["items"][0]["index"] == 2
    report = client.get(tenant.path(f"/imports/{job_id}/errors.csv"), headers=tenant.headers).text
    assert "'=cmd|calc" in report
    assert report.splitlines()[0].endswith("reason,warning")
    undone = client.post(tenant.path(f"/imports/{job_id}/undo"), headers=tenant.headers).json()
    assert len(undone["deleted"]) == 1
    kept = client.get(tenant.path("/clients"), headers=tenant.headers).json()["items"]
    assert [(c["name"], c["note"]) for c in kept] == [("Keep", "v1")]
    assert client.post(tenant.path(f"/imports/{job_id}/undo"), headers=tenant.headers).status_code == 409


def test_undo_leaves_later_changes_alone(client: TestClient, tenant: TenantInfo) -> None:
    first = bulk(client, tenant, [{"source": "erp", "sourceId": 1, "fullName": "A", "note": "n1", "title": "t1"}]).json()
    client_id = first["data"][0]["id"]
    second = bulk(client, tenant, [{"source": "erp", "sourceId": 1, "note": "n2", "title": "t2"}]).json()
    client.patch(tenant.path(f"/clients/{client_id}"), json={"note": "edited by hand"}, headers=tenant.headers)
    result = client.post(tenant.path(f"/imports/{second['importId']}/undo"), headers=tenant.headers).json()
    assert result["conflicts"] == [
        {"clientId": client_id, "field": "note", "reason": "edited after this import; left as it is", "laterJobIds": []}
    ]
    assert result["counts"] == {"deleted": 0, "restored": 1, "leftAlone": 0}  # the title is set back, the note kept
    stored = fetch(client, tenant, client_id)
    assert (stored["note"], stored["title"]) == ("edited by hand", "t1")
    history = client.get(tenant.path(f"/clients/{client_id}/history"), headers=tenant.headers).json()["items"]
    assert {h["jobId"] for h in history if h["jobId"]} == {first["importId"], second["importId"]}


def test_an_update_may_not_close_a_ring_through_stored_clients(client: TestClient, tenant: TenantInfo) -> None:
    def user(key: str, parent: str | None = None) -> dict[str, Any]:
        item: dict[str, Any] = {"source": "erp", "sourceId": key, "fullName": key}
        if parent:
            item["parent"] = {"source": "erp", "sourceId": parent}
        return item

    stored = bulk(client, tenant, [user("A"), user("B", "A"), user("C", "B")]).json()
    assert all(d["success"] for d in stored["data"])
    body = bulk(client, tenant, [user("A", "C"), user("D", "A")]).json()
    assert [d["action"] for d in body["data"]] == ["failed", "created"]
    assert body["messages"] == ["users[0].parent: is a descendant of this client: parents would form a cycle"]
    assert fetch(client, tenant, stored["data"][0]["id"])["parentId"] is None
    # Two stored clients swapping places in one batch is a ring too.
    swap = bulk(client, tenant, [user("A", "B"), user("B", "D")]).json()
    assert [d["action"] for d in swap["data"]] == ["failed", "failed"]


# --- values the database could not hold, or that would be stored wrong -------------------------


def test_values_the_database_cannot_hold_fail_their_item_alone(client: TestClient, tenant: TenantInfo) -> None:
    users = [
        {"source": "erp", "sourceId": "y" * 256, "fullName": "Long id"},
        {"source": "s" * 101, "sourceId": 2, "fullName": "Long source"},
        {"source": "erp", "sourceId": 3, "language": "l" * 36, "fullName": "Long language"},
        {"source": "erp", "sourceId": "nul\u0000id", "fullName": "NUL id"},
        {"source": "erp", "sourceId": 5, "fullName": "NUL note", "note": "a\u0000b"},
        {"source": "erp", "sourceId": 6, "fullName": "NUL tag", "tags": ["a\u0000"]},
        {"source": "erp", "sourceId": 7, "fullName": "Good"},
        {"source": "erp", "sourceId": "y" * 255, "fullName": "Longest id that fits"},
    ]
    response = bulk(client, tenant, users)
    assert response.status_code == 200, response.text
    body = response.json()
    assert [d["action"] for d in body["data"]] == ["failed"] * 6 + ["created", "created"]
    joined = "\n".join(body["messages"])
    for needle in (
        "users[0].sourceId: is 256 characters long; at most 255", "users[1].source: is 101 characters long; at most 100",
        "users[2].language: is 36 characters long; at most 35", "users[3].sourceId: contains a NUL character",
        "users[4].note: contains a NUL character", "users[5].tags: contains a NUL character",
    ):  # fmt: skip
        assert needle in joined, needle
    assert client.get(tenant.path("/clients"), headers=tenant.headers).json()["total"] == 2


@pytest.mark.parametrize(
    ("source_id", "why"),
    [(True, "must be a string or number, not a boolean"), ({"a": 1}, "must be a string or number, not an object"), ([1], "not a list")],
)
def test_a_source_id_of_the_wrong_type_says_so(client: TestClient, tenant: TenantInfo, source_id: Any, why: str) -> None:
    body = bulk(client, tenant, [{"source": "erp", "sourceId": source_id, "fullName": "X"}]).json()
    (message,) = body["messages"]
    assert message.startswith("users[0].sourceId: ")
    assert why in message


def test_non_finite_numbers_are_refused(client: TestClient, tenant: TenantInfo) -> None:
    raw = (
        '{"users": [{"source": "erp", "sourceId": NaN, "fullName": "A"},'
        ' {"source": "erp", "sourceId": 2, "fullName": "B", "attributes": [{"name": "n", "type": "integer", "value": "inf"}]},'
        ' {"source": "erp", "sourceId": 3, "fullName": "C", "attributes": [{"name": "n", "type": "number", "value": "NaN"}]},'
        ' {"source": "erp", "sourceId": 4, "fullName": "D", "attributes": [{"name": "n", "type": "number", "value": Infinity}]},'
        ' {"source": "erp", "sourceId": 5, "fullName": "E", "debtorId": -Infinity}]}'
    )
    headers = {**tenant.headers, "content-type": "application/json"}
    response = client.post("/users/bulk/sourceId", content=raw, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert [d["action"] for d in body["data"]] == ["failed"] * 5
    joined = "\n".join(body["messages"])
    for needle in ("users[0].sourceId: must be a finite number", "users[1].attributes: item 0 value 'inf' is not a valid integer",
                   "users[2].attributes: item 0 value 'NaN' is not a valid number", "users[3].attributes: item 0 value 'inf'",
                   "users[4].debtorId: -inf is not a finite number"):  # fmt: skip
        assert needle in joined, needle


def test_integer_attributes_are_kept_exact_or_refused(client: TestClient, tenant: TenantInfo) -> None:
    attributes = [{"name": "account", "type": "integer", "value": "12345678901234567891"}, {"name": "n", "type": "integer", "value": 7.0}]
    body = bulk(client, tenant, [{"source": "erp", "sourceId": 1, "fullName": "A", "attributes": attributes}]).json()
    stored = fetch(client, tenant, body["data"][0]["id"])["attributes"]
    assert [a["value"] for a in stored] == [12345678901234567891, 7]

    refused = bulk(
        client,
        tenant,
        [{"source": "erp", "sourceId": 2, "fullName": "B", "attributes": [{"name": "n", "type": "integer", "value": "1.7"}]}],
    )
    (message,) = refused.json()["messages"]
    assert message == "users[0].attributes: item 0 value '1.7' is not a valid integer (it is not a whole number)"


@pytest.mark.parametrize("value", ["2020-01-01garbage", "2020-01-01T25:99:99"])
def test_a_date_with_trailing_garbage_is_left_out_with_a_warning(client: TestClient, tenant: TenantInfo, value: str) -> None:
    body = bulk(client, tenant, [{"source": "erp", "sourceId": 1, "fullName": "A", "dateOfBirth": value}]).json()
    assert (body["data"][0]["action"], body["data"][0]["success"]) == ("created", True)
    assert body["messages"][0].startswith("users[0].dateOfBirth: ")
    assert body["data"][0]["warnings"][0]["field"] == "dateOfBirth"
    assert fetch(client, tenant, body["data"][0]["id"])["dateOfBirth"] is None


def test_unknown_keys_of_the_parent_are_refused(client: TestClient, tenant: TenantInfo) -> None:
    users = [
        {"source": "erp", "sourceId": 1, "fullName": "P"},
        {"source": "erp", "sourceId": 2, "fullName": "C", "parent": {"source": "erp", "sourceId": 1, "sourceID": 9}},
    ]
    body = bulk(client, tenant, users).json()
    assert [d["action"] for d in body["data"]] == ["created", "failed"]
    assert body["messages"] == ["users[1].parent.sourceID: is not a known field (use source, sourceId, language)"]


def test_messages_name_fields_as_the_item_sent_them(client: TestClient, tenant: TenantInfo) -> None:
    body = bulk(client, tenant, [{"source": "erp", "sourceId": 1, "fullName": "x" * 501}]).json()
    assert body["messages"] == ["users[0].fullName: is 501 characters long; at most 500 allowed"]


def test_a_ring_through_a_thousand_stored_clients_is_refused(client: TestClient, tenant: TenantInfo) -> None:
    chain = [{"source": "chain", "sourceId": i, "fullName": f"C{i}", "parent": {"source": "chain", "sourceId": i + 1}} for i in range(999)]
    chain.append({"source": "chain", "sourceId": 999, "fullName": "C999"})
    assert all(d["action"] == "created" for d in bulk(client, tenant, chain).json()["data"])

    body = bulk(client, tenant, [{"source": "chain", "sourceId": 999, "parent": {"source": "chain", "sourceId": 0}}]).json()

    assert body["data"][0]["action"] == "failed"
    assert body["messages"] == ["users[0].parent: is a descendant of this client: parents would form a cycle"]


def test_a_parent_chain_deeper_than_the_walk_is_refused(client: TestClient, tenant: TenantInfo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(apply, "MAX_PARENT_DEPTH", 5)
    chain = [{"source": "deep", "sourceId": i, "fullName": f"D{i}", "parent": {"source": "deep", "sourceId": i + 1}} for i in range(9)]
    chain.append({"source": "deep", "sourceId": 9, "fullName": "D9"})
    bulk(client, tenant, [*chain, {"source": "deep", "sourceId": "x", "fullName": "X"}])

    body = bulk(client, tenant, [{"source": "deep", "sourceId": "x", "parent": {"source": "deep", "sourceId": 0}}]).json()

    assert body["data"][0]["action"] == "failed"
    assert body["messages"] == ["users[0].parent: the new parent's chain of parents is more than 5 levels deep"]
