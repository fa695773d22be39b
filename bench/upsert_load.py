"""Benchmark: the single upsert (S2), POST /tenants/{t}/clients/upsert, under concurrent load.

Starts ``clientdock serve`` as a real process on a fresh database (a SQLite file, or a
throwaway PostgreSQL database created and dropped when --postgres is given), or uses a
running service (--base and --key), then keeps N keep-alive connections busy for a while at
each concurrency and prints one JSON line per concurrency: requests/s, p50/p99 latency, errors.

The load generator speaks HTTP/1.1 on raw asyncio streams rather than httpx: on a 2-core
machine the client shares the CPU with the service, and httpx costs several times more per
request than the service's own HTTP parsing, which would measure the client, not us.

    .venv/bin/python bench/upsert_load.py [--seconds 30] [--concurrency 1,8,32] [--postgres postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

TRACKING_IDS = 10_000


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    key: str
    tenant: str
    backend: str
    #: The service's process, when this script started it: its CPU time per request is reported
    #: too, a steadier figure than requests/s on a machine shared with other work.
    pid: int | None = None


def cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU time of a process (Linux /proc), or None."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def body_for(rng: random.Random) -> bytes:
    """A create the first time a trackingId is seen, then updates that change the tags about half the time."""
    n = rng.randrange(TRACKING_IDS)
    tags = ["vip"] if rng.random() < 0.5 else ["lead", "2026"]
    return json.dumps({"trackingId": f"crm-{n}", "name": f"Client {n}", "email": f"client{n}@bench.example.org", "tags": tags}).encode()


def request_bytes(target: Target, body: bytes) -> bytes:
    head = (
        f"POST /tenants/{target.tenant}/clients/upsert HTTP/1.1\r\nHost: {target.host}:{target.port}\r\n"
        f"X-API-Key: {target.key}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def read_response(reader: asyncio.StreamReader) -> int:
    """Read one response (Content-Length or chunked body); its status code."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:] if line)}
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    return status


async def worker(target: Target, until: float, tally: Tally, seed: int) -> None:
    rng = random.Random(seed)
    reader, writer = await asyncio.open_connection(target.host, target.port)
    try:
        while time.perf_counter() < until:
            started = time.perf_counter()
            writer.write(request_bytes(target, body_for(rng)))
            try:
                status = await read_response(reader)
            except (asyncio.IncompleteReadError, ConnectionError):
                tally.errors += 1
                writer.close()
                reader, writer = await asyncio.open_connection(target.host, target.port)
                continue
            tally.latencies.append(time.perf_counter() - started)
            tally.statuses[status] = tally.statuses.get(status, 0) + 1
            if status not in (200, 201):
                tally.errors += 1
    finally:
        writer.close()


async def run_level(target: Target, concurrency: int, seconds: float, warmup: float) -> dict[str, object]:
    if warmup > 0:
        await asyncio.gather(*(worker(target, time.perf_counter() + warmup, Tally(), -i - 1) for i in range(concurrency)))
    tally = Tally()
    cpu_before = cpu_seconds(target.pid)
    started = time.perf_counter()
    await asyncio.gather(*(worker(target, started + seconds, tally, i) for i in range(concurrency)))
    elapsed = time.perf_counter() - started
    cpu_after = cpu_seconds(target.pid)
    load = os.getloadavg()[0]
    cpu = cpu_after - cpu_before if cpu_after is not None and cpu_before is not None else None
    latencies = sorted(tally.latencies)

    def pct(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000, 1) if latencies else 0.0

    return {
        "bench": "upsert_load", "backend": target.backend, "concurrency": concurrency, "seconds": round(elapsed, 1),
        "requests": len(latencies), "requests_per_second": round(len(latencies) / elapsed, 1),
        "p50_ms": pct(0.50), "p99_ms": pct(0.99), "max_ms": round(latencies[-1] * 1000, 1) if latencies else 0.0,
        "errors": tally.errors, "statuses": {str(k): v for k, v in sorted(tally.statuses.items())},
        "server_cpu_ms_per_request": round(cpu * 1000 / len(latencies), 2) if cpu is not None and latencies else None,
        "load_average": round(load, 2),
        "machine": f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}",
    }  # fmt: skip


@contextmanager
def served(postgres: str | None) -> Iterator[Target]:
    """``clientdock serve`` on a fresh database; the demo tenant and the key it prints once."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "CLIENTDOCK_DATA_DIR": str(Path(tmp) / "data")}
        env.pop("CLIENTDOCK_DATABASE_URL", None)
        pg_name = None
        if postgres:
            pg_name = f"cdbench_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(postgres, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{pg_name}"')
            env["CLIENTDOCK_DATABASE_URL"] = postgres.rsplit("/", 1)[0] + f"/{pg_name}"
        port = free_port()
        env["CLIENTDOCK_PORT"] = str(port)
        env["CLIENTDOCK_RATE_LIMIT_PER_SECOND"] = "0"  # one key sends the whole load: measure the service, not the limit
        out_path = Path(tmp) / "serve.out"
        with open(out_path, "w") as out, open(Path(tmp) / "serve.log", "w") as log:
            # Files, not pipes: a pipe nobody reads fills up and stalls the service's logging.
            proc = subprocess.Popen([sys.executable, "-m", "clientdock.cli", "serve"], env=env, stdout=out, stderr=log)
        try:
            key = ""
            for _ in range(600):
                for line in out_path.read_text().splitlines():
                    if '"apiKey"' in line:
                        key = json.loads(line)["apiKey"]
                if key:
                    try:
                        with socket.create_connection(("127.0.0.1", port), timeout=1):
                            break
                    except OSError:
                        pass
                if proc.poll() is not None:
                    raise RuntimeError(f"clientdock serve exited: {(Path(tmp) / 'serve.log').read_text()[-2000:]}")
                time.sleep(0.1)
            yield Target("127.0.0.1", port, key, "demo", "postgresql" if postgres else "sqlite", proc.pid)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            if pg_name and postgres:
                with psycopg.connect(postgres, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')


def measure(target: Target, levels: Sequence[int], seconds: float, warmup: float) -> list[dict[str, object]]:
    figures = []
    for concurrency in levels:
        figure = asyncio.run(run_level(target, concurrency, seconds, warmup))
        print(json.dumps(figure), flush=True)
        figures.append(figure)
    return figures


def main(argv: Sequence[str] | None = None) -> list[dict[str, object]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=30.0, help="measured seconds per concurrency")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds before each concurrency")
    parser.add_argument("--concurrency", default="1,8,32", help="comma-separated concurrent clients")
    parser.add_argument("--postgres", default=None, help="admin URL; a throwaway database is created and dropped")
    parser.add_argument("--base", default=None, help="a running service, http://host:port (with --key; no server is started)")
    parser.add_argument("--key", default=None)
    parser.add_argument("--tenant", default="demo")
    parser.add_argument("--backend", default="unknown", help="label for --base")
    args = parser.parse_args(argv)
    levels = [int(c) for c in args.concurrency.split(",") if c.strip()]
    if args.base:
        host, _, port = args.base.split("://", 1)[-1].rstrip("/").partition(":")
        return measure(Target(host, int(port or 80), args.key or "", args.tenant, args.backend), levels, args.seconds, args.warmup)
    with served(args.postgres) as target:
        return measure(target, levels, args.seconds, args.warmup)


if __name__ == "__main__":
    main()
