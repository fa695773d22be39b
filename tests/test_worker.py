"""Scale-out processes: ``clientdock serve --no-workers`` (the API only: it queues, runs nothing)
and ``clientdock worker`` (runs the jobs, serves no HTTP, stops cleanly on SIGTERM)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from clientdock.app import create_app
from clientdock.db import Database
from clientdock.jobs import prefetch
from clientdock.jobs.engine import JobEngine
from clientdock.jobs.models import JobExecutor
from clientdock.settings import Settings
from clientdock.worker import default_executor_id, run_worker, worker_settings
from tests.apps.helpers import platform_key
from tests.conftest import POSTGRES_URL, TenantInfo, make_tenant, pg_url_for
from tests.imports.helpers import finished, records, start_job, wait_until
from tests.jobs.helpers import enqueue
from tests.processes import CLIENTDOCK, Process, Service

CLI = [sys.executable, "-m", "clientdock.cli"]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "300"}  # one line per message in the error box
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120, check=False, env=env)


def executors(db: Database) -> dict[str, JobExecutor]:
    with db.session() as session:
        return {row.executor_id: row for row in session.scalars(select(JobExecutor))}


# --- the command line ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["worker", "--concurrency", "0"], "0 is not in the range x>=1"),
        (["worker", "--concurrency", "-3"], "-3 is not in the range x>=1"),
        (["worker", "--concurrency", "many"], "'many' is not a valid int range"),
        (["worker", "--executor-id", " "], "--executor-id"),
        (["worker", "--executor-id", "x" * 129], "give 1 to 128 characters"),
        (["worker", "--port", "8000"], "No such option: --port"),
        (["worker", "extra"], "Got unexpected extra argument"),
        (["serve", "--workers"], "No such option: --workers"),
    ],
)
def test_bad_arguments_are_refused_with_exit_code_2(args: list[str], said: str) -> None:
    refused = cli(*args)
    assert refused.returncode == 2, refused.stderr
    assert said in " ".join(refused.stderr.split())


@pytest.mark.parametrize("command", ["worker", "serve"])
def test_a_storage_setting_that_cannot_be_used_stops_the_start_naming_it(command: str, tmp_path: Path) -> None:
    env = {**os.environ, "CLIENTDOCK_DATA_DIR": str(tmp_path), "CLIENTDOCK_UPLOAD_STORAGE": "ftp://files.example.com/uploads"}
    env.pop("CLIENTDOCK_DATABASE_URL", None)
    refused = subprocess.run(
        [*CLI, command, "--port", "8799"] if command == "serve" else [*CLI, command],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
    assert refused.returncode == 2, refused.stderr
    assert (
        "error: CLIENTDOCK_UPLOAD_STORAGE must be local, database or s3://bucket/prefix, not 'ftp://files.example.com/uploads'"
        in refused.stderr
    )
    assert "Traceback" not in refused.stderr


def test_the_help_names_the_options() -> None:
    assert "--no-workers" in cli("serve", "--help").stdout
    helped = cli("worker", "--help").stdout
    assert "--executor-id" in helped
    assert "--concurrency" in helped


def test_the_executor_id_is_the_environments_else_the_host_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLIENTDOCK_EXECUTOR_ID", raising=False)
    assert default_executor_id(Settings()) == socket.gethostname()
    monkeypatch.setenv("CLIENTDOCK_EXECUTOR_ID", "worker-7")
    assert default_executor_id(Settings()) == "worker-7"
    chosen = worker_settings(Settings(start_workers=False, worker_concurrency=4), "given", 2)
    assert (chosen.executor_id, chosen.worker_concurrency, chosen.start_workers) == ("given", 2, True)
    defaults = worker_settings(Settings(worker_concurrency=6))
    assert (defaults.executor_id, defaults.worker_concurrency) == ("worker-7", 6)


# --- serve --no-workers ------------------------------------------------------------------------


def test_an_api_only_app_starts_no_worker_and_its_jobs_wait(
    settings: Settings, database: Database, tenant: TenantInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    warmed: list[int] = []
    monkeypatch.setattr(prefetch.prefetcher, "warm", warmed.append)
    app = create_app(settings.model_copy(update={"start_workers": False}), database)
    with TestClient(app, raise_server_exceptions=False) as client:
        engine: JobEngine = app.state.engine
        assert (engine.launched, engine.reaper, app.state.delivery_worker, warmed) == (False, None, None, [])
        job_id = start_job(app, tenant.id, records(3))  # DBOS's tables were made at start: it can queue
        body = client.get(tenant.path(f"/imports/{job_id}"), headers=tenant.headers).json()
        assert (body["status"], body["queuePosition"]) == ("queued", 1)
        assert executors(database) == {}


def test_the_embedded_service_keeps_its_workers_and_removes_its_row_when_it_stops(app: FastAPI, database: Database) -> None:
    with TestClient(app, raise_server_exceptions=False):
        engine: JobEngine = app.state.engine
        assert engine.launched
        assert engine.reaper is not None
        assert app.state.delivery_worker is not None
        row = executors(database)["local"]
        assert (row.pid, row.hostname, row.concurrency) == (os.getpid(), socket.gethostname(), 4)
    assert executors(database) == {}


# --- the worker, in this process -----------------------------------------------------------------


def test_a_worker_runs_jobs_until_told_to_stop(
    tmp_path: Path, db_url: str, database: Database, tenant: TenantInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(prefetch.prefetcher, "warm", lambda processes: None)  # no helper process to wait for
    settings = worker_settings(Settings(data_dir=tmp_path / "data", database_url=db_url), "w-test", 3)
    seen: dict[str, object] = {}

    def while_running() -> None:
        seen["row"] = executors(database)["w-test"]
        api = JobEngine(settings, database)  # an API process's engine: it only queues
        try:
            job = enqueue(database, api, settings, tenant.id)
        finally:
            api.stop()
        seen["job"] = wait_until(database, job.id, finished)

    assert run_worker(settings, while_running) == 0
    row = seen["row"]
    assert isinstance(row, JobExecutor)
    assert (row.pid, row.hostname, row.concurrency) == (os.getpid(), socket.gethostname(), 3)
    assert getattr(seen["job"], "status", None) == "succeeded"
    assert "w-test" not in executors(database)


# --- both, as real processes on PostgreSQL ---------------------------------------------------------


@pytest.fixture
def empty_pg() -> Iterator[str]:
    """A new, empty PostgreSQL database (the processes under test migrate it)."""
    if POSTGRES_URL is None:
        pytest.skip("needs CLIENTDOCK_TEST_POSTGRES_URL (CI sets it)")
    name = f"cdtest_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield pg_url_for(name)
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def processes() -> Iterator[list[Process]]:
    started: list[Process] = []
    yield started
    for process in started:
        process.stop()


@pytest.mark.slow
def test_an_api_process_queues_and_a_worker_process_runs_the_import(tmp_path: Path, empty_pg: str, processes: list[Process]) -> None:
    env = {"CLIENTDOCK_DATABASE_URL": empty_pg, "CLIENTDOCK_DATA_DIR": str(tmp_path / "data"), "CLIENTDOCK_HEARTBEAT_SECONDS": "1"}
    api = Service(env, tmp_path / "api.log", ("--no-workers",), command=[CLIENTDOCK])
    processes.append(api)
    api.start()
    db = Database(empty_pg)
    try:
        assert executors(db) == {}  # the API runs no worker
        tenant, platform = make_tenant(db), platform_key(db)
        queued = httpx.post(
            f"{api.url}{tenant.path('/clients/import/csv')}",
            files={"file": ("clients.csv", b"First Name,Last Name,Email\nAda,Lovelace,ada@example.com\nAlan,Turing,alan@example.com\n")},
            headers={**tenant.headers, "Prefer": "respond-async"},
            timeout=30,
        )
        assert queued.status_code == 202, queued.text
        assert (queued.json()["status"], queued.json()["queuePosition"]) == ("queued", 1)

        worker = Process(
            ["worker", "--executor-id", "e2e-worker", "--concurrency", "2"], env, tmp_path / "worker.log", command=[CLIENTDOCK]
        )
        processes.append(worker)
        worker.start()
        job = wait_until(db, queued.json()["id"], finished, timeout=120)
        assert (job.status, job.created) == ("succeeded", 2)

        seen = httpx.get(f"{api.url}/admin/workers", headers=platform.headers, timeout=30).json()["items"]
        assert [(w["executorId"], w["pid"], w["concurrency"], w["alive"]) for w in seen] == [("e2e-worker", worker.pid, 2, True)]
        assert worker.terminate() == 0
        assert executors(db) == {}
        assert "worker_started" in worker.output()
        assert "executor_id=e2e-worker" in worker.output()
        assert "worker_stopped" in worker.output()
    finally:
        db.dispose()
