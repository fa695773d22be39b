"""``queuePosition``: while a job is queued, 1 + the number of its tenant's queued jobs submitted
before it; null otherwise. With no worker running, every job stays queued, so the positions are
fixed for the test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from clientdock.app import create_app
from clientdock.db import Database
from clientdock.settings import Settings
from tests.conftest import TenantInfo
from tests.imports.helpers import records, start_job


@pytest.fixture
def app(settings: Settings, database: Database) -> FastAPI:
    """The app as ``clientdock serve --no-workers`` runs it: jobs are queued, none runs."""
    return create_app(settings.model_copy(update={"start_workers": False}), database)


@pytest.fixture
def api_only(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def positions(client: TestClient, tenant: TenantInfo, job_ids: list[str]) -> list[int | None]:
    return [client.get(tenant.path(f"/imports/{job_id}"), headers=tenant.headers).json()["queuePosition"] for job_id in job_ids]


def test_queued_jobs_are_numbered_per_tenant_in_submission_order(
    app: FastAPI, api_only: TestClient, tenant: TenantInfo, other_tenant: TenantInfo
) -> None:
    ours = [start_job(app, tenant.id, records(2, prefix=f"a{n}")) for n in range(3)]
    theirs = start_job(app, other_tenant.id, records(2, prefix="b"))
    assert positions(api_only, tenant, ours) == [1, 2, 3]
    assert positions(api_only, other_tenant, [theirs]) == [1]
    listed = api_only.get(tenant.path("/imports"), headers=tenant.headers).json()["items"]
    assert [(job["id"], job["queuePosition"]) for job in listed] == [(ours[2], 3), (ours[1], 2), (ours[0], 1)]


def test_a_job_that_leaves_the_queue_has_no_position_and_those_behind_move_up(
    app: FastAPI, api_only: TestClient, tenant: TenantInfo
) -> None:
    first, second, third = (start_job(app, tenant.id, records(2, prefix=f"a{n}")) for n in range(3))
    cancelled = api_only.post(tenant.path(f"/imports/{first}/cancel"), headers=tenant.headers).json()
    assert (cancelled["status"], cancelled["queuePosition"]) == ("cancelled", None)
    assert positions(api_only, tenant, [first, second, third]) == [None, 1, 2]
