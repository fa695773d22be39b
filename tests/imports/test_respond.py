"""The shared hybrid answer: 201 when the job ends in time, else 202 + Location."""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from starlette.requests import Request

from clientdock.db import Database, bind_tenant
from clientdock.imports.respond import WaiterCap, answer
from clientdock.jobs.models import ImportJob
from clientdock.settings import Settings
from clientdock.tenants.models import Tenant
from tests.conftest import TenantInfo
from tests.imports.helpers import finished, records, start_job, wait_until


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=db_url, chunk_size=50, sync_wait_seconds=10)


def request_with(prefer: str | None = None) -> Request:
    headers = [(b"prefer", prefer.encode())] if prefer else []
    return Request({"type": "http", "method": "POST", "path": "/", "headers": headers, "query_string": b""})


def answered(
    request: Request, database: Database, settings: Settings, cap: WaiterCap, tenant: TenantInfo, job_id: str, *args: Any
) -> JSONResponse:
    """The hybrid answer for the tenant's job in a transaction of the caller's, as a route's
    request session, bound to the tenant (a real request knows its app, whose database the
    answer polls with read sessions)."""
    request.scope["app"] = SimpleNamespace(state=SimpleNamespace(db=database))
    with database.session() as session:
        bind_tenant(session, tenant.id)
        return answer(request, session, settings, cap, session.get_one(Tenant, tenant.id), job_id, *args)


def render(_session: Session, job: ImportJob) -> dict[str, Any]:
    return {"id": job.id, "status": job.status}


def test_finished_in_time_is_201(client: TestClient, app: FastAPI, database: Database, tenant: TenantInfo, settings: Settings) -> None:
    job_id = start_job(app, tenant.id, records(20))
    response = answered(request_with(), database, settings, WaiterCap(4), tenant, job_id, render)
    assert response.status_code == 201
    assert response.headers["location"] == f"/tenants/{tenant.code}/imports/{job_id}"
    assert b'"succeeded"' in response.body


def test_respond_async_is_202_at_once(client: TestClient, app: FastAPI, database: Database, tenant: TenantInfo, settings: Settings) -> None:
    job_id = start_job(app, tenant.id, records(2000))
    started = time.monotonic()
    response = answered(request_with("respond-async"), database, settings, WaiterCap(4), tenant, job_id, render)
    assert time.monotonic() - started < 2
    assert response.status_code == 202
    assert response.headers["preference-applied"] == "respond-async"
    assert response.headers["retry-after"]
    assert response.headers["location"].endswith(job_id)
    wait_until(database, job_id, finished)


def test_wait_preference_is_honoured_and_echoed(
    client: TestClient, app: FastAPI, database: Database, tenant: TenantInfo, settings: Settings
) -> None:
    job_id = start_job(app, tenant.id, records(10))
    response = answered(request_with("wait=5"), database, settings, WaiterCap(4), tenant, job_id, render)
    assert response.status_code == 201
    assert response.headers["preference-applied"] == "wait=5"


def test_full_waiter_cap_answers_202_at_once(
    client: TestClient, app: FastAPI, database: Database, tenant: TenantInfo, settings: Settings
) -> None:
    cap = WaiterCap(1)
    job_id = start_job(app, tenant.id, records(2000))
    with cap as held:
        assert held
        started = time.monotonic()
        response = answered(request_with(), database, settings, cap, tenant, job_id, render)
    assert time.monotonic() - started < 2
    assert response.status_code == 202
    wait_until(database, job_id, finished)
