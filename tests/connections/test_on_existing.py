"""``onExisting`` at the connection door (S0): a Xero contact matching a client by email is
updated, filled where empty, or skipped (reference included); another value is refused before
the platform is called."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from clientdock.pipeline.existing import SKIPPED
from tests.conftest import TenantInfo
from tests.connections.test_connections import connect, import_from
from tests.fakes.xero import XeroFake

CONTACT = {"Name": "Zebedee Quill Ltd", "EmailAddress": "zq@quillco.co.uk", "Phones": [
    {"PhoneType": "DEFAULT", "PhoneNumber": "7946 0001", "PhoneAreaCode": "020", "PhoneCountryCode": "44"}]}  # fmt: skip


@pytest.fixture
def contact_id(client: TestClient, tenant: TenantInfo, xero: XeroFake) -> tuple[str, str]:
    """A connected Xero organisation with one contact, and a client of ours with its email but another name and no phone."""
    organisation = xero.add_tenant("Hopper Computing")
    (connection,) = connect(client, tenant, "xero")
    (contact,) = xero.add_contacts(organisation, [CONTACT])
    made = client.post(tenant.path("/clients"), json={"name": "Quill (old name)", "email": "zq@quillco.co.uk"}, headers=tenant.headers)
    assert made.status_code == 201, made.text
    return str(connection["code"]), str(contact["ContactID"])


def the_client(client: TestClient, tenant: TenantInfo) -> dict[str, Any]:
    (only,) = client.get(tenant.path("/clients"), headers=tenant.headers).json()["items"]
    found: dict[str, Any] = only
    return found


def imported(client: TestClient, tenant: TenantInfo, code: str, contact: str, **params: str) -> dict[str, Any]:
    response = import_from(client, tenant, code, body={"externalIds": [contact]}, **params)
    assert response.status_code == 201, response.text
    job: dict[str, Any] = response.json()
    assert job["status"] == "succeeded"
    return job


def test_skip_leaves_the_matching_client_and_its_references_alone(
    client: TestClient, tenant: TenantInfo, contact_id: tuple[str, str]
) -> None:
    code, contact = contact_id
    job = imported(client, tenant, code, contact, onExisting="skip")
    assert (job["onExisting"], job["counts"]["skipped"]) == ("skip", 1)
    assert job["rows"]["items"][0]["messages"] == [SKIPPED]
    stored = the_client(client, tenant)
    assert (stored["name"], stored["phone"], stored["externalRefs"]) == ("Quill (old name)", None, [])


def test_fill_empty_fills_the_phone_and_keeps_the_name(client: TestClient, tenant: TenantInfo, contact_id: tuple[str, str]) -> None:
    code, contact = contact_id
    job = imported(client, tenant, code, contact, onExisting="fillEmpty")
    (row,) = job["rows"]["items"]
    assert row["action"] == "updated"
    assert "name" not in row["changes"]
    assert row["changes"]["phone"]["before"] is None
    (kept,) = [m for m in row["messages"] if m.startswith("kept the client's own")]
    assert "name" in kept.split(" (")[0].removeprefix("kept the client's own ").split(", ")
    stored = the_client(client, tenant)
    assert stored["name"] == "Quill (old name)"
    assert stored["phone"] == row["changes"]["phone"]["after"]
    assert [r["externalId"] for r in stored["externalRefs"]] == [contact], "a filled client is linked to the contact"


def test_update_is_the_default(client: TestClient, tenant: TenantInfo, contact_id: tuple[str, str]) -> None:
    code, contact = contact_id
    job = imported(client, tenant, code, contact)
    assert job["onExisting"] == "update"
    assert job["rows"]["items"][0]["changes"]["name"] == {"before": "Quill (old name)", "after": "Zebedee Quill Ltd"}
    assert the_client(client, tenant)["name"] == "Zebedee Quill Ltd"


def test_another_value_is_refused_before_the_platform_is_called(
    client: TestClient, tenant: TenantInfo, xero: XeroFake, contact_id: tuple[str, str]
) -> None:
    code, contact = contact_id
    calls = len(xero.recorded("contacts"))
    response = import_from(client, tenant, code, body={"externalIds": [contact]}, onExisting="merge")
    assert response.status_code == 400, response.text
    assert [(e["field"], e["message"]) for e in response.json()["errors"]] == [
        ("onExisting", "must be one of update, fillEmpty, skip, not 'merge'")
    ]
    assert len(xero.recorded("contacts")) == calls
    assert client.get(tenant.path("/imports"), headers=tenant.headers).json()["total"] == 0
