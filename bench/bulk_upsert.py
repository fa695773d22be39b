"""Benchmark: POST /users/bulk/sourceId with 1,000-item batches, created then updated.

Starts ``clientdock serve`` as a real process on a fresh database (SQLite file, or the
PostgreSQL database given by --postgres), then times batches over real HTTP on loopback.
Prints one JSON line per figure.

    .venv/bin/python bench/bulk_upsert.py [--batches 10] [--postgres postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import psycopg


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def batch(start: int, size: int, note: str) -> dict[str, object]:
    return {
        "users": [
            {"source": "bench", "sourceId": i, "firstName": f"First{i}", "lastName": f"Last{i}", "email": f"user{i}@bench.example.org",
             "phone": f"+4420794{i % 100000:05d}", "company": f"Company {i % 97}", "note": note,
             "attributes": [{"class": "crm", "name": "score", "type": "number", "value": str(i % 100)}]}
            for i in range(start, start + size)
        ]
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--postgres", default=None, help="admin URL; a throwaway database is created and dropped")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "CLIENTDOCK_DATA_DIR": str(Path(tmp) / "data")}
        pg_name = None
        backend = "sqlite"
        if args.postgres:
            pg_name = f"cdbench_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(args.postgres, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{pg_name}"')
            env["CLIENTDOCK_DATABASE_URL"] = args.postgres.rsplit("/", 1)[0] + f"/{pg_name}"
            backend = "postgresql"
        port = free_port()
        env["CLIENTDOCK_PORT"] = str(port)
        proc = subprocess.Popen(
            [sys.executable, "-m", "clientdock.cli", "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        try:
            assert proc.stdout is not None
            key = ""
            for line in proc.stdout:
                if '"apiKey"' in line:
                    key = json.loads(line)["apiKey"]
                    break
            base = f"http://127.0.0.1:{port}"
            for _ in range(200):
                try:
                    httpx.get(f"{base}/healthz", timeout=1)
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            with httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=120) as client:
                for phase, note in (("created", "v1"), ("updated", "v2")):
                    started = time.perf_counter()
                    for b in range(args.batches):
                        response = client.post("/users/bulk/sourceId", json=batch(b * args.size, args.size, note))
                        response.raise_for_status()
                        actions = {d["action"] for d in response.json()["data"]}
                        assert actions == {phase}, actions
                    elapsed = time.perf_counter() - started
                    items = args.batches * args.size
                    print(json.dumps({
                        "bench": "bulk_upsert", "backend": backend, "phase": phase, "batch_size": args.size, "batches": args.batches,
                        "items": items, "seconds": round(elapsed, 3), "items_per_second": round(items / elapsed, 1),
                        "machine": f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}",
                    }))  # fmt: skip
        finally:
            proc.terminate()
            proc.wait(timeout=20)
            if pg_name and args.postgres:
                with psycopg.connect(args.postgres, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
