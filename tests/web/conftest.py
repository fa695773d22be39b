from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from clientdock.db import Database
from tests.conftest import TenantInfo
from tests.web.helpers import UserInfo, make_user, sign_in


@pytest.fixture
def user(database: Database, tenant: TenantInfo) -> UserInfo:
    return make_user(database, tenant)


@pytest.fixture
def signed_in(client: TestClient, user: UserInfo) -> TestClient:
    response = sign_in(client, user.email, user.password)
    assert response.status_code == 303, response.text
    return client
