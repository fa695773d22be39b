"""S4 (seed 004): address items written with the Propeller API's own keys are accepted next
to ours; nothing sent is lost; an unknown key still fails its item naming the key."""

from __future__ import annotations

from typing import Any

import httpx2
from fastapi.testclient import TestClient

from tests.conftest import TenantInfo

PROPELLER_ADDRESS = {
    "type": "delivery", "street": "Damrak", "number": 12, "numberExtension": "A", "postalCode": "1012 LG", "city": "Amsterdam",
    "region": "Noord-Holland", "country": "NL", "company": "Jansen BV", "firstName": "Maria", "middleName": "van",
    "lastName": "Jansen", "email": "maria@example.nl", "phone": "+31 20 123 4567", "mobile": "+31 6 12345678",
    "notes": "Deliveries at the back", "isDefault": True,
}  # fmt: skip
STORED = {
    "type": "shipping", "street": "Damrak", "houseNumber": "12A", "postalCode": "1012 LG", "city": "Amsterdam",
    "region": "Noord-Holland", "country": "NL", "company": "Jansen BV", "firstName": "Maria", "middleName": "van",
    "lastName": "Jansen", "email": "maria@example.nl", "phone": "+31 20 123 4567", "mobile": "+31 6 12345678",
    "notes": "Deliveries at the back", "isDefault": True,
}  # fmt: skip


def bulk(client: TestClient, tenant: TenantInfo, users: Any) -> httpx2.Response:
    return client.post("/users/bulk/sourceId", json={"users": users}, headers=tenant.headers)


def addresses_of(client: TestClient, tenant: TenantInfo, client_id: str) -> Any:
    return client.get(tenant.path(f"/clients/{client_id}"), headers=tenant.headers).json()["addresses"]


def test_propeller_address_keys_are_stored_and_a_replay_is_unchanged(client: TestClient, tenant: TenantInfo) -> None:
    users = [{
        "source": "propeller", "sourceId": 7, "firstName": "Maria", "email": "maria@example.nl",
        "addresses": [PROPELLER_ADDRESS, {"type": "invoice", "street": "Dam", "number": "1", "city": "Amsterdam", "isDefault": "N"},
                      {"type": "home", "line1": "Prinsengracht 263", "postalCode": "1016 GV"}],
    }]  # fmt: skip
    body = bulk(client, tenant, users).json()
    assert body["messages"] == []
    (entry,) = body["data"]
    assert entry["action"] == "created"
    assert addresses_of(client, tenant, entry["id"]) == [
        STORED,
        {"type": "billing", "street": "Dam", "houseNumber": "1", "city": "Amsterdam", "isDefault": False},
        {"type": "home", "line1": "Prinsengracht 263", "postalCode": "1016 GV"},
    ]
    again = bulk(client, tenant, users).json()
    assert (again["data"][0]["action"], again["data"][0]["changed"]) == ("updated", False)


def test_a_child_item_with_propeller_addresses_resolves_its_parent(client: TestClient, tenant: TenantInfo) -> None:
    users = [
        {"source": "propeller", "sourceId": 1, "fullName": "Jansen BV", "email": "info@jansen.example.nl"},
        {
            "source": "propeller",
            "sourceId": 2,
            "firstName": "Maria",
            "parent": {"source": "propeller", "sourceId": 1},
            "addresses": [PROPELLER_ADDRESS],
        },
    ]
    body = bulk(client, tenant, users).json()
    assert body["messages"] == []
    assert [d["success"] for d in body["data"]] == [True, True]
    assert addresses_of(client, tenant, body["data"][1]["id"]) == [STORED]


def test_bad_address_items_fail_alone_naming_the_key(client: TestClient, tenant: TenantInfo) -> None:
    users = [
        {"source": "erp", "sourceId": 1, "firstName": "Ok", "addresses": [{"street": "Damrak", "number": 1}]},
        {"source": "erp", "sourceId": 2, "firstName": "Floor", "addresses": [{"street": "Damrak", "floor": 3}]},
        {"source": "erp", "sourceId": 3, "firstName": "Twice", "addresses": [{"houseNumber": "1", "number": 1}]},
        {"source": "erp", "sourceId": 4, "firstName": "Default", "addresses": [{"city": "x"}, {"isDefault": "sometimes"}]},
        {"source": "erp", "sourceId": 5, "firstName": "Object", "addresses": [{"number": {"n": 1}}]},
    ]
    body = bulk(client, tenant, users).json()
    assert [d["success"] for d in body["data"]] == [True, False, False, False, False]
    messages = body["messages"]
    assert messages[0].startswith("users[1].addresses: item 0 has unknown keys ['floor']; use type, line1")
    assert "numberExtension" in messages[0]
    assert messages[1] == "users[2].addresses: item 0 gives both houseNumber and number; send one of them"
    assert messages[2].startswith("users[3].addresses: item 1 isDefault 'sometimes' is not a boolean")
    assert messages[3] == "users[4].addresses: item 0 number must be text, not dict"
    assert client.get(tenant.path("/clients"), headers=tenant.headers).json()["total"] == 1


def test_the_json_api_takes_the_same_address_items(client: TestClient, tenant: TenantInfo) -> None:
    response = client.post(
        tenant.path("/clients"),
        json={"firstName": "Maria", "email": "maria@example.nl", "addresses": [PROPELLER_ADDRESS]},
        headers=tenant.headers,
    )
    assert response.status_code == 201, response.text
    assert response.json()["addresses"] == [STORED]
