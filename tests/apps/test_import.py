"""S1.3-S1.5: POST /business/clients/v1/apps/{app_code_name}/import — who may import, the body,
should_override, bulk, unknown keys, the hybrid answer, status, notifications."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from clientdock.db import Database
from clientdock.notify.models import Notification
from tests.apps.helpers import JOHN, AppInfo, Key, assign, import_body, push, register
from tests.conftest import TenantInfo


@pytest.fixture
def partner(client: TestClient, platform: Key, tenant: TenantInfo) -> AppInfo:
    """An import_clients app assigned to the tenant (business) ``acme``."""
    registered = register(client, platform)
    assign(client, platform.headers, registered, tenant.code)
    return registered


def clients_of(client: TestClient, tenant: TenantInfo) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = client.get(tenant.path("/clients"), headers=tenant.headers).json()["items"]
    return items


# --- the happy paths ------------------------------------------------------------------------------


def test_app_imports_for_the_business_it_acts_for(client: TestClient, partner: AppInfo, tenant: TenantInfo) -> None:
    response = push(client, partner, partner.acting_for(tenant.code), JOHN, notify=True)

    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["location"] == f"/business/clients/v1/apps/{partner.code}/imports/{body['id']}"
    assert body["links"]["app"] == response.headers["location"]
    assert (body["status"], body["door"], body["startedBy"]) == ("succeeded", "app", f"app:{partner.code}")
    assert (body["app_code_name"], body["business_uid"]) == (partner.code, tenant.code)
    assert body["import_params"] == {"upload_type": "single", "should_override": False, "send_notifications_when_done": True}
    assert body["counts"] == {"created": 1, "updated": 0, "unchanged": 0, "skipped": 0, "failed": 0}
    (row,) = body["data"]
    # the seed's example phone, +1234567890, is no possible number: kept as given, with a warning
    kept = "'+1234567890' is not a phone number that can be read; kept as given, without the international (E.164) form"
    assert row == {
        "index": 0, "action": "created", "id": row["id"], "lookup_key": "john.doe@example.com", "messages": [f"phone: {kept}"],
        "errors": [], "warnings": [{"field": "phone", "value": "+1234567890", "message": kept}],
    }  # fmt: skip
    (stored,) = clients_of(client, tenant)
    assert (stored["id"], stored["firstName"], stored["email"], stored["phone"]) == (row["id"], "John", JOHN["email"], JOHN["phone"])
    # the business sees the import among its own
    assert client.get(tenant.path(f"/imports/{body['id']}"), headers=tenant.headers).json()["door"] == "app"


def test_business_key_imports_through_its_assigned_app(client: TestClient, partner: AppInfo, tenant: TenantInfo) -> None:
    response = push(client, partner, tenant.headers, JOHN)
    assert response.status_code == 201
    assert response.json()["data"][0]["action"] == "created"
    assert response.json()["startedBy"].startswith(f"app:{partner.code} (tenant:")
    # naming its own business in the header (by code or id) is fine too
    for business in (tenant.code, tenant.id):
        headers = {**tenant.headers, "X-Business-Uid": business}
        assert push(client, partner, headers, {**JOHN, "email": f"{business}@firm.co"}).status_code == 201


def test_app_may_name_the_business_by_internal_id(client: TestClient, partner: AppInfo, tenant: TenantInfo) -> None:
    assert push(client, partner, partner.acting_for(tenant.id), JOHN).status_code == 201


def test_should_override_false_skips_an_existing_client(client: TestClient, partner: AppInfo, tenant: TenantInfo) -> None:
    headers = partner.acting_for(tenant.code)
    first = push(client, partner, headers, {**JOHN, "last_name": "Doe"}).json()["data"][0]
    changed = {"first_name": "Johnny", "email": "JOHN.DOE@example.com", "phone": "+441234567890"}

    skipped = push(client, partner, headers, changed, should_override=False)

    assert skipped.status_code == 201
    row = skipped.json()["data"][0]
    assert (row["action"], row["id"]) == ("skipped", first["id"])
    assert any("left unchanged" in m for m in row["messages"])
    (stored,) = clients_of(client, tenant)
    assert (stored["firstName"], stored["phone"]) == ("John", "+1234567890")


def test_should_override_true_updates_an_existing_client(client: TestClient, partner: AppInfo, tenant: TenantInfo) -> None:
    headers = partner.acting_for(tenant.code)
    first = push(client, partner, headers, {**JOHN, "last_name": "Doe"}).json()["data"][0]

    updated = push(client, partner, headers, {"first_name": "Johnny", "email": "John.Doe@Example.com"}, should_override=True)

    row = updated.json()["data"][0]
    assert (row["action"], row["id"]) == ("updated", first["id"])
    (stored,) = clients_of(client, tenant)
    # sent fields change; fields not sent stay as they were
    assert (stored["firstName"], stored["lastName"], stored["phone"]) == ("Johnny", "Doe", "+1234567890")
    again = push(client, partner, headers, {"first_name": "Johnny", "email": "John.Doe@Example.com"}, should_override=True)
    assert again.json()["data"][0]["action"] == "unchanged"


def test_bulk_upload_imports_each_item_and_reports_each(client: TestClient, partner: AppInfo, tenant: TenantInfo) -> None:
    items = [
        {"first_name": "Ann", "last_name": "Lee", "email": "ann@firm.co", "tags": ["vip"], "active": "yes"},
        {"first_name": "Bob", "email": "not-an-email"},
        {"company": "Lee Ltd", "type": "ltd", "company_number": "01234567", "email": "office@lee.co"},
        {"first_name": "Ann again", "email": "ANN@firm.co"},
        "not an object",
    ]
    response = push(client, partner, partner.acting_for(tenant.code), items, upload_type="bulk")

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["counts"] == {"created": 2, "updated": 0, "unchanged": 0, "skipped": 0, "failed": 3}
    assert [(r["index"], r["action"]) for r in body["data"]] == [
        (0, "created"),
        (1, "failed"),
        (2, "created"),
        (3, "failed"),
        (4, "failed"),
    ]
    assert body["data"][1]["messages"][0].startswith("email: ")
    assert body["data"][1]["errors"][0]["field"] == "email"
    assert "duplicate" in body["data"][3]["messages"][0]
    assert body["data"][4]["messages"] == ["fields_mapping[4] must be an object of client fields"]
    stored = {c["email"]: c for c in clients_of(client, tenant)}
    assert stored["ann@firm.co"]["tags"] == ["vip"]
    assert (stored["office@lee.co"]["name"], stored["office@lee.co"]["type"]) == ("Lee Ltd", "PrivateLimitedCompany")


def test_unknown_keys_fail_their_item_naming_the_key(client: TestClient, partner: AppInfo, tenant: TenantInfo) -> None:
    items = [
        {"first_name": "Ann", "emial": "ann@firm.co"},
        {"firstName": "Bob", "email": "bob@firm.co"},
        {"first_name": "Cy", "email": "cy@firm.co", "favourite_colour": "blue"},
        {"first_name": "Di", "email": "di@firm.co"},
    ]
    body = push(client, partner, partner.acting_for(tenant.code), items, upload_type="bulk").json()

    assert [r["action"] for r in body["data"]] == ["failed", "failed", "failed", "created"]
    assert body["data"][0]["messages"] == ["emial: is not a known field; did you mean 'email'?"]
    assert body["data"][0]["errors"][0] == {
        "field": "emial",
        "message": "is not a known field; did you mean 'email'?",
        "code": "unknown",
        "row": 0,
    }
    assert body["data"][1]["messages"] == ["firstName: is not a known field; did you mean 'first_name'? (keys are snake_case)"]
    assert body["data"][2]["messages"][0].startswith("favourite_colour: is not a known field; use first_name")
    assert [c["email"] for c in clients_of(client, tenant)] == ["di@firm.co"]


def test_field_errors_name_the_snake_case_key(client: TestClient, partner: AppInfo, tenant: TenantInfo) -> None:
    mapping = {"first_name": "Ann", "email": "ann@firm.co", "date_of_birth": "31st of never", "active": "perhaps"}
    row = push(client, partner, partner.acting_for(tenant.code), mapping).json()["data"][0]
    assert row["action"] == "failed"
    assert sorted(e["field"] for e in row["errors"]) == ["active"]
    assert [(w["field"], w["value"]) for w in row["warnings"]] == [("date_of_birth", "31st of never")]
    assert [m.split(":")[0] for m in row["messages"]] == ["active", "date_of_birth"]


def test_a_secondary_value_that_cannot_be_read_is_a_warning_named_as_sent(client: TestClient, partner: AppInfo, tenant: TenantInfo) -> None:
    mapping = {"first_name": "Ann", "email": "ann@firm.co", "date_of_birth": "03/14", "gender": "sometimes", "mobile": "call me"}
    row = push(client, partner, partner.acting_for(tenant.code), mapping).json()["data"][0]
    assert row["action"] == "created"
    assert [(w["field"], w["value"]) for w in row["warnings"]] == [
        ("date_of_birth", "03/14"), ("gender", "sometimes"), ("mobile", "call me"),
    ]  # fmt: skip
    assert row["messages"][0] == "date_of_birth: '03/14' has no year (use YYYY-MM-DD); the field was left as it was"
    (stored,) = clients_of(client, tenant)
    assert (stored["dateOfBirth"], stored["gender"], stored["mobile"], stored["mobileE164"]) == (None, None, "call me", None)


def test_a_client_without_email_is_created_with_a_warning(client: TestClient, partner: AppInfo, tenant: TenantInfo) -> None:
    row = push(client, partner, partner.acting_for(tenant.code), {"first_name": "Nomail"}).json()["data"][0]
    assert row["action"] == "created"
    assert row["lookup_key"] is None
    assert row["messages"][0].startswith("no email")


def test_an_item_without_any_name_fails(client: TestClient, partner: AppInfo, tenant: TenantInfo) -> None:
    row = push(client, partner, partner.acting_for(tenant.code), {"email": "who@firm.co"}).json()["data"][0]
    assert row["action"] == "failed"
    assert row["errors"][0]["field"] == "name"


# --- the hybrid answer and the status endpoint ---------------------------------------------------


def test_respond_async_is_202_with_the_apps_status_location(client: TestClient, partner: AppInfo, tenant: TenantInfo) -> None:
    headers = {**partner.acting_for(tenant.code), "Prefer": "respond-async"}
    response = push(client, partner, headers, JOHN)

    assert response.status_code == 202
    location = response.headers["location"]
    assert location == f"/business/clients/v1/apps/{partner.code}/imports/{response.json()['id']}"
    assert response.headers["retry-after"]
    deadline = time.monotonic() + 30
    while True:
        status = client.get(location, headers=partner.acting_for(tenant.code))
        assert status.status_code == 200
        if status.json()["status"] == "succeeded" or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert status.json()["data"][0]["action"] == "created"
    assert client.get(location, headers=tenant.headers).status_code == 200


def test_status_shows_only_this_apps_imports(client: TestClient, platform: Key, partner: AppInfo, tenant: TenantInfo) -> None:
    other = register(client, platform)
    assign(client, platform.headers, other, tenant.code)
    job = push(client, other, other.acting_for(tenant.code), JOHN).json()["id"]
    bulk = client.post("/users/bulk/sourceId", json={"users": [{"source": "s", "sourceId": 1, "fullName": "X"}]}, headers=tenant.headers)
    headers = partner.acting_for(tenant.code)
    assert client.get(f"/business/clients/v1/apps/{partner.code}/imports/{job}", headers=headers).status_code == 404
    assert client.get(f"/business/clients/v1/apps/{partner.code}/imports/{bulk.json()['importId']}", headers=headers).status_code == 404
    assert client.get(f"/business/clients/v1/apps/{other.code}/imports/{job}", headers=other.acting_for(tenant.code)).status_code == 200
    # an app's credential opens only its own app's door
    assert client.get(f"/business/clients/v1/apps/{other.code}/imports/{job}", headers=headers).status_code == 403


# --- who may call ------------------------------------------------------------------------------------


def test_deleting_the_assignment_closes_the_door(client: TestClient, platform: Key, tenant: TenantInfo) -> None:
    app = register(client, platform)
    uid = assign(client, platform.headers, app, tenant.code)
    job = push(client, app, app.acting_for(tenant.code), JOHN).json()["id"]
    status_path = f"/business/clients/v1/apps/{app.code}/imports/{job}"
    assert client.get(status_path, headers=app.acting_for(tenant.code)).status_code == 200

    assert client.delete(f"/v3/apps/app_assignments/{uid}", headers=tenant.headers).status_code == 204

    for headers in (app.acting_for(tenant.code), tenant.headers):
        assert push(client, app, headers, {**JOHN, "email": "late@firm.co"}).status_code == 403
        assert client.get(status_path, headers=headers).status_code == 403
    assert [c["email"] for c in clients_of(client, tenant)] == [JOHN["email"]]
    # assigned again, the door opens again
    assign(client, platform.headers, app, tenant.code)
    assert push(client, app, app.acting_for(tenant.code), {**JOHN, "email": "back@firm.co"}).status_code == 201


def test_an_app_never_reaches_a_business_through_other_endpoints(
    client: TestClient, app: Any, partner: AppInfo, tenant: TenantInfo
) -> None:
    """Every other keyed route of the API refuses the app's credential, even for its assigned business."""
    job = push(client, partner, partner.acting_for(tenant.code), JOHN).json()["id"]
    client_id = clients_of(client, tenant)[0]["id"]
    # the OAuth callback takes no key: the state it carries is its credential (tests/connections)
    allowed = ("/business/clients/v1/apps/", "/v3/apps/app_assignments", "/healthz", "/connections/{provider}/callback")
    values = {"tenant": tenant.code, "job_id": job, "client_id": client_id, "id": client_id, "app_code_name": partner.code}
    checked = 0
    for path, operations in app.openapi()["paths"].items():
        if path.startswith(allowed):
            continue
        url = path
        for name, value in values.items():
            url = url.replace("{" + name + "}", value)
        url = url.replace("{", "").replace("}", "")
        for method in operations:
            if client.request(method.upper(), url, json={}).status_code < 400:
                continue  # public (no key needed, no tenant data), e.g. the CSV template
            response = client.request(method.upper(), url, json={}, headers=partner.acting_for(tenant.code))
            assert response.status_code in (401, 403, 404, 405), f"{method.upper()} {url}: {response.status_code}"
            checked += 1
    assert checked > 10
    assert [c["id"] for c in clients_of(client, tenant)] == [client_id]


# --- bad bodies ------------------------------------------------------------------------------------


def test_defaults_of_import_params(client: TestClient, partner: AppInfo, tenant: TenantInfo) -> None:
    response = client.post(partner.import_path, json={"import_params": {}, "fields_mapping": JOHN}, headers=tenant.headers)
    assert response.status_code == 201
    assert response.json()["import_params"] == {"upload_type": "single", "should_override": False, "send_notifications_when_done": False}


def test_a_full_batch_of_1000_is_accepted(client: TestClient, partner: AppInfo, tenant: TenantInfo) -> None:
    items = [{"first_name": f"P{i}", "email": f"p{i}@firm.co"} for i in range(1000)]
    response = push(client, partner, partner.acting_for(tenant.code), items, upload_type="bulk")
    assert response.status_code == 201
    assert response.json()["counts"]["created"] == 1000
    assert len(response.json()["data"]) == 1000


# --- notifications ---------------------------------------------------------------------------------


def notifications(database: Database, tenant_id: str) -> list[Notification]:
    with database.session() as session:
        return list(session.scalars(select(Notification).where(Notification.tenant_id == tenant_id)))


def test_send_notifications_when_done_notifies_the_business(
    client: TestClient, database: Database, partner: AppInfo, tenant: TenantInfo
) -> None:
    body = push(client, partner, partner.acting_for(tenant.code), JOHN, notify=True).json()
    (note,) = notifications(database, tenant.id)
    assert note.kind == "import.completed"
    assert note.data["jobId"] == body["id"]
    assert note.data["counts"]["created"] == 1


def test_no_notification_unless_asked(client: TestClient, database: Database, partner: AppInfo, tenant: TenantInfo) -> None:
    assert push(client, partner, partner.acting_for(tenant.code), JOHN, notify=False).status_code == 201
    assert notifications(database, tenant.id) == []


# --- businesses stay apart ---------------------------------------------------------------------------


def test_one_app_two_businesses_stay_apart(
    client: TestClient, platform: Key, partner: AppInfo, tenant: TenantInfo, other_tenant: TenantInfo
) -> None:
    assign(client, platform.headers, partner, other_tenant.code)
    a = push(client, partner, partner.acting_for(tenant.code), JOHN).json()["data"][0]
    b = push(client, partner, partner.acting_for(other_tenant.code), JOHN).json()["data"][0]
    assert a["action"] == b["action"] == "created"
    assert a["id"] != b["id"]
    job_a = push(client, partner, partner.acting_for(tenant.code), {**JOHN, "email": "a@firm.co"}).json()["id"]
    cross = client.get(f"/business/clients/v1/apps/{partner.code}/imports/{job_a}", headers=partner.acting_for(other_tenant.code))
    assert cross.status_code == 404


def test_an_idempotency_key_is_not_replayed_across_businesses(
    client: TestClient, platform: Key, partner: AppInfo, tenant: TenantInfo, other_tenant: TenantInfo
) -> None:
    assign(client, platform.headers, partner, other_tenant.code)
    first = client.post(partner.import_path, json=import_body(JOHN), headers={**partner.acting_for(tenant.code), "Idempotency-Key": "k1"})
    assert first.status_code == 201
    second = client.post(
        partner.import_path, json=import_body(JOHN), headers={**partner.acting_for(other_tenant.code), "Idempotency-Key": "k1"}
    )
    # either refused as a reuse with another request (422) or run for the other business: never the first one's answer
    assert second.status_code in (201, 422)
    if second.status_code == 201:
        assert second.json()["business_uid"] == other_tenant.code
