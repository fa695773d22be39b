"""Seed 001, word for word: create an app with a timestamped code, assign it to the business,
import John through it, delete the assignment, import again (403).

The request bodies are the seed's templates verbatim; only the ``{{…}}`` placeholders are filled.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from clientdock.db import Database
from tests.apps.helpers import platform_key
from tests.conftest import TenantInfo

CREATE_APP = (
    '{"name":"Test Import Clients App","app_code_name":"testimportapp{{timestamp}}","app_type":"import_clients",'
    '"redirect_uri":"https://example.com/callback"}'
)
CREATE_ASSIGNMENT = (
    '{"app_code_name":"testimportapp{{timestamp}}","assignee_uid":"{{business_uid}}","assignee_type":"business",'
    '"settings":{"assignment_mode":"internal"}}'
)
REQUEST_TEMPLATE = """
{
  "method": "POST",
  "path": "/business/clients/v1/apps/{{resolved.uid}}/import",
  "body": {
    "import_params": {
      "should_override": false,
      "upload_type": "single",
      "send_notifications_when_done": true
    },
    "fields_mapping": {
      "first_name": "John",
      "email": "john.doe@example.com",
      "phone": "+1234567890"
    }
  }
}
"""


def fill(template: str, values: dict[str, str]) -> Any:
    for name, value in values.items():
        template = template.replace("{{" + name + "}}", value)
    assert "{{" not in template
    return json.loads(template)


@pytest.mark.parametrize("caller", ["business key", "app credential"])
def test_seed_001_whole_scenario(client: TestClient, database: Database, tenant: TenantInfo, caller: str) -> None:
    """The import is sent by the business's own key (the seed's request carries no business header)
    or by the app itself with its client_secret and X-Business-Uid."""
    platform = platform_key(database).headers
    business = tenant.headers
    values = {"timestamp": str(int(time.time() * 1000)), "business_uid": tenant.code}

    # app_code_name: create fresh, extract data.app_code_name
    created = client.post("/platform/v1/apps", json=fill(CREATE_APP, values), headers=platform)
    assert created.status_code == 201, created.text
    values["resolved.uid"] = created.json()["data"]["app_code_name"]
    assert values["resolved.uid"] == f"testimportapp{values['timestamp']}"
    secret = created.json()["data"]["client_secret"]
    sender = business if caller == "business key" else {"X-API-Key": secret, "X-Business-Uid": tenant.code}
    # creating it again is the "already exists" the seed warns about
    assert client.post("/platform/v1/apps", json=fill(CREATE_APP, values), headers=platform).status_code == 409

    # app_assignment: create, extract data.uid
    assigned = client.post("/v3/apps/app_assignments", json=fill(CREATE_ASSIGNMENT, values), headers=platform)
    assert assigned.status_code == 201, assigned.text
    assignment_uid = assigned.json()["data"]["uid"]

    # the request template
    request = fill(REQUEST_TEMPLATE, values)
    response = client.request(request["method"], request["path"], json=request["body"], headers=sender)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "succeeded"
    assert body["counts"]["created"] == 1
    (row,) = body["data"]
    assert (row["index"], row["action"]) == (0, "created")
    john = client.get(tenant.path(f"/clients/{row['id']}"), headers=business).json()
    assert (john["firstName"], john["name"], john["email"], john["phone"]) == ("John", "John", "john.doe@example.com", "+1234567890")

    # cleanup: DELETE /v3/apps/app_assignments/{uid}
    assert client.delete(f"/v3/apps/app_assignments/{assignment_uid}", headers=platform).status_code == 204

    # the same request again: the app is no longer assigned to the business
    again = client.request(request["method"], request["path"], json=request["body"], headers=sender)
    assert again.status_code == 403, again.text
    assert "not assigned" in again.json()["detail"]
    assert client.get(tenant.path("/clients"), headers=business).json()["total"] == 1
