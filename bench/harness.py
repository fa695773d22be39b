"""What the benchmarks that run the service in their own process share: a throwaway database
(SQLite file, or a PostgreSQL database created and dropped), the service under uvicorn on a
free loopback port, a tenant with its key, and the machine's description."""

from __future__ import annotations

import os
import platform
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import uvicorn

from clientdock.app import create_app
from clientdock.db import Database
from clientdock.migrate import upgrade
from clientdock.settings import Settings
from clientdock.tenants import service as tenants

TENANT = "bench"


@dataclass(frozen=True)
class Place:
    data_dir: Path
    url: str
    backend: str


@contextmanager
def throwaway(postgres_admin_url: str | None) -> Iterator[Place]:
    """A data folder and an empty database: a SQLite file in it, or a PostgreSQL database."""
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        if not postgres_admin_url:
            yield Place(data_dir, f"sqlite:///{data_dir / 'bench.db'}", "sqlite")
            return
        name = f"cdbench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            yield Place(data_dir, postgres_admin_url.rsplit("/", 1)[0] + f"/{name}", "postgresql")
        finally:
            with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def tenant_key(url: str) -> tuple[Database, str]:
    """Migrate the database and make the tenant ``bench``; its API key."""
    upgrade(url)
    db = Database(url)
    with db.session() as session:
        tenant = tenants.create_tenant(session, TENANT)
        key = tenants.issue_key(session, kind="tenant", tenant_id=tenant.id).key
    return db, key


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def served(settings: Settings, db: Database, port: int) -> Iterator[str]:
    """The service (job workers included) on ``port`` for the length of the block; its base URL."""
    server = uvicorn.Server(uvicorn.Config(create_app(settings, db), host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True


def machine() -> dict[str, object]:
    return {"machine": platform.machine(), "cpus": len(os.sched_getaffinity(0)), "python": platform.python_version()}


def finished(api: httpx.Client, key: str, job: dict[str, Any]) -> dict[str, Any]:
    """Poll an import of the tenant until it ends."""
    while job["status"] not in ("succeeded", "failed", "cancelled"):
        time.sleep(0.2)
        job = api.get(f"/tenants/{TENANT}/imports/{job['id']}", headers={"X-API-Key": key}).json()
    return job
