"""Benchmark: import every contact of a Xero organisation through a connection.

A fake Xero (tests/fakes, real HTTP on loopback) answers each call after ``--latency``
seconds, as the real API does from here; the service runs in this process under uvicorn on
a fresh database, is connected through the OAuth round trip, and imports with
``importAll=true``. Prints one JSON line per figure: contacts, calls made to the platform,
seconds, and the floor that the platform's latency and limits allow (pages of 1,000 are
fetched one after another: ``calls × latency``, and no more than 60 calls a minute).

    .venv/bin/python bench/connection_import.py [--contacts 10000] [--latency 0.15] [--postgres URL]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import socket
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psycopg
import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fakes.xero import XeroFake  # noqa: E402 - after the repository root is on the path

from clientdock.app import create_app  # noqa: E402
from clientdock.db import Database  # noqa: E402
from clientdock.migrate import upgrade  # noqa: E402
from clientdock.settings import Settings  # noqa: E402
from clientdock.tenants import service as tenants  # noqa: E402

PER_MINUTE = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(settings: Settings, db: Database, port: int) -> uvicorn.Server:
    server = uvicorn.Server(uvicorn.Config(create_app(settings, db), host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server


def connect(api: httpx.Client, key: str) -> str:
    location = api.get("/tenants/bench/connections/xero/authorize", headers={"X-API-Key": key}).headers["location"]
    back = urlsplit(httpx.get(location).headers["location"])
    answer = api.get(f"{back.path}?{back.query}")
    assert answer.status_code == 201, answer.text
    return str(answer.json()["connections"][0]["code"])


def run(args: argparse.Namespace, data_dir: Path, url: str, backend: str) -> None:
    upgrade(url)
    db = Database(url)
    with db.session() as session:
        tenant = tenants.create_tenant(session, "bench")
        key = tenants.issue_key(session, kind="tenant", tenant_id=tenant.id).key
    fake = XeroFake(per_minute=PER_MINUTE)
    fake.start()
    organisation = fake.add_tenant("Bench Ltd")
    fake.generate_contacts(organisation, args.contacts)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = Settings(data_dir=data_dir, database_url=url, public_url=base, **fake.settings())
    server = serve(settings, db, port)
    try:
        with httpx.Client(base_url=base, timeout=600) as api:
            code = connect(api, key)
            fake.delay_seconds = args.latency
            before = fake.calls["contacts"]
            started = time.perf_counter()
            job = api.post(
                "/tenants/bench/clients/import/from-connection", params={"connectionCode": code, "importAll": "true"},
                headers={"X-API-Key": key, "Prefer": "respond-async"},
            ).json()  # fmt: skip
            while job["status"] not in ("succeeded", "failed", "cancelled"):
                time.sleep(0.2)
                job = api.get(f"/tenants/bench/imports/{job['id']}", headers={"X-API-Key": key}).json()
            seconds = time.perf_counter() - started
        calls = fake.calls["contacts"] - before
        floor = max(calls * args.latency, (math.ceil(calls / PER_MINUTE) - 1) * 60.0)
        machine = {"machine": platform.machine(), "cpus": len(os.sched_getaffinity(0)), "python": platform.python_version()}
        for figure, value in (
            ("contacts", job["progress"]["total"]), *((f"rows_{action}", n) for action, n in job["counts"].items() if n),
            ("calls", calls), ("seconds", round(seconds, 2)),
            ("floor_seconds", round(floor, 2)), ("ours_seconds", round(seconds - floor, 2)),
            ("contacts_per_second", round(job["progress"]["total"] / seconds, 1)),
        ):  # fmt: skip
            print(json.dumps({"bench": "connection_import", "backend": backend, "figure": figure, "value": value,
                              "latency": args.latency, "status": job["status"], **machine}))  # fmt: skip
    finally:
        server.should_exit = True
        fake.stop()
        db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--latency", type=float, default=0.15, help="seconds the fake takes per call")
    parser.add_argument("--postgres", default=None, help="admin URL; a throwaway database is created and dropped")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        if not args.postgres:
            run(args, data_dir, f"sqlite:///{data_dir / 'bench.db'}", "sqlite")
            return
        name = f"cdbench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(args.postgres, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            run(args, data_dir, args.postgres.rsplit("/", 1)[0] + f"/{name}", "postgresql")
        finally:
            with psycopg.connect(args.postgres, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
