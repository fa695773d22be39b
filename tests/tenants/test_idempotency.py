"""Idempotency-Key on POSTs: replay, 422 on another body, per credential."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import TenantInfo


def test_same_key_same_body_replays(client: TestClient, tenant: TenantInfo) -> None:
    headers = {**tenant.headers, "Idempotency-Key": "abc"}
    first = client.post(tenant.path("/clients"), json={"name": "Once"}, headers=headers)
    second = client.post(tenant.path("/clients"), json={"name": "Once"}, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert client.get(tenant.path("/clients"), headers=tenant.headers).json()["total"] == 1


def test_same_key_other_body_is_422(client: TestClient, tenant: TenantInfo) -> None:
    headers = {**tenant.headers, "Idempotency-Key": "abc"}
    client.post(tenant.path("/clients"), json={"name": "Once"}, headers=headers)
    response = client.post(tenant.path("/clients"), json={"name": "Twice"}, headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"


def test_keys_are_per_credential(client: TestClient, tenant: TenantInfo, other_tenant: TenantInfo) -> None:
    client.post(tenant.path("/clients"), json={"name": "A"}, headers={**tenant.headers, "Idempotency-Key": "k"})
    theirs = client.post(other_tenant.path("/clients"), json={"name": "A"}, headers={**other_tenant.headers, "Idempotency-Key": "k"})
    assert theirs.status_code == 201
    assert client.get(other_tenant.path("/clients"), headers=other_tenant.headers).json()["total"] == 1


def test_overlong_key_is_400(client: TestClient, tenant: TenantInfo) -> None:
    response = client.post(tenant.path("/clients"), json={"name": "A"}, headers={**tenant.headers, "Idempotency-Key": "k" * 300})
    assert response.status_code == 400


def test_a_response_showing_a_secret_is_not_kept_for_replay(client: TestClient, tenant: TenantInfo) -> None:
    headers = {**tenant.headers, "Idempotency-Key": "hook-1"}
    body = {"url": "https://hooks.example.org/clientdock", "events": ["import.completed"]}
    first = client.post(tenant.path("/webhooks"), json=body, headers=headers)
    assert first.status_code == 201
    assert first.headers["cache-control"] == "no-store"
    second = client.post(tenant.path("/webhooks"), json=body, headers=headers)
    assert second.status_code == 201
    assert "Idempotent-Replayed" not in second.headers
    assert second.json()["id"] != first.json()["id"]


def _multipart(boundary: str, csv: str, *, quoted: bool = False) -> tuple[bytes, str]:
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="c.csv"\r\nContent-Type: text/csv\r\n\r\n'
        f"{csv}\r\n--{boundary}--\r\n"
    ).encode()
    shown = f'"{boundary}"' if quoted else boundary
    return body, f"multipart/form-data; boundary={shown}"


def test_a_retried_upload_with_a_new_boundary_replays(client: TestClient, tenant: TenantInfo) -> None:
    path = tenant.path("/clients/import/csv")
    csv = "firstName,email\nAda,ada@firm.co.uk\n"
    answers = []
    for boundary, quoted in (("first-b0undary", False), ("second-b0undary", True)):
        body, content_type = _multipart(boundary, csv, quoted=quoted)
        headers = {**tenant.headers, "Idempotency-Key": "upload", "Content-Type": content_type}
        answers.append(client.post(path, content=body, headers=headers))
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[0].json()["id"] == answers[1].json()["id"]
    assert answers[1].headers["Idempotent-Replayed"] == "true"
    body, content_type = _multipart("third-b0undary", csv.replace("Ada", "Alan"))
    changed = client.post(path, content=body, headers={**tenant.headers, "Idempotency-Key": "upload", "Content-Type": content_type})
    assert changed.status_code == 422
    assert changed.json()["errors"][0]["field"] == "Idempotency-Key"
