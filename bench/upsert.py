"""Case ``upsert``: the single upsert (``POST /tenants/{t}/clients/upsert``, S2) under load.

A real ``clientdock serve`` child on a fresh database per backend; this process is the load: at
each concurrency (default 1, 8, 32) that many senders on loopback (asyncio, one keep-alive
connection each, ``bench.loopback``) send upserts for ``--seconds`` (default 30). Each sender alternates
a create of a new trackingId and an update (a changed note) of the one it created just before,
so senders never touch the same client. Per concurrency: requests/s (2xx answers), p50/p99 of
every request in ms, errors (non-2xx answers and exceptions), and how busy this process was
(``client_cpu_share`` near 1.0 means the load, not the service, was the limit). The issue's
target is printed beside: ≥ 500 requests/s at 32 concurrent clients with p99 ≤ 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bench import harness, loopback

TARGET_RPS, TARGET_P99_MS = 500, 100


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32], help="senders at once, one run each (default 1 8 32)")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each run (default 30)")
    parser.add_argument("--seed", type=int, default=15, help="seed of the generated clients (default 15)")
    harness.add_database_arguments(parser)


def body(tracking_id: str, n: int, note: str) -> dict[str, Any]:
    return {
        "trackingId": tracking_id, "firstName": "Zoë", "lastName": f"Brontë {n}", "email": f"{tracking_id}@bench.example.org",
        "mobile": f"+44 7700 9{n % 100000:05d}", "company": "Harbour Oak Ltd", "tags": ["vip", "payroll"], "note": note,
    }  # fmt: skip


async def sender(connection: loopback.Connection, prefix: str, deadline: float, tally: Tally) -> None:
    n = 0
    path = f"/tenants/{harness.TENANT}/clients/upsert"
    try:
        while time.perf_counter() < deadline:
            created = n % 2 == 0
            tracking_id = f"{prefix}-{n if created else n - 1}"
            payload = body(tracking_id, n, "first contact" if created else f"changed {n}")
            started = time.perf_counter()
            try:
                status, _answer = await connection.post_json(path, payload)
                tally.statuses[status] += 1
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                tally.errors[type(exc).__name__] += 1
            tally.latencies.append(time.perf_counter() - started)
            n += 1
    finally:
        await connection.close()


async def load(port: int, key: str, concurrency: int, seconds: float, prefix: str) -> tuple[Tally, float, float]:
    """The tally of one run, its seconds, and this process's CPU seconds over it."""
    tally = Tally()
    senders = [loopback.Connection("127.0.0.1", port, {"X-API-Key": key}) for _ in range(concurrency)]
    cpu, started = time.process_time(), time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(*(sender(connection, f"{prefix}-{s}", deadline, tally) for s, connection in enumerate(senders)))
    return tally, time.perf_counter() - started, time.process_time() - cpu


def percentile(ordered: list[float], share: float) -> float:
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def run(args: argparse.Namespace) -> None:
    for admin in harness.backends(args):
        with harness.throwaway(admin) as place:
            db, key = harness.tenant_key(place.url)
            db.dispose()
            with harness.service(place) as svc:
                asyncio.run(load(svc.port, key, 1, min(2.0, args.seconds), f"warm-{args.seed}"))
                for concurrency in args.concurrency:
                    tally, elapsed, cpu = asyncio.run(load(svc.port, key, concurrency, args.seconds, f"s{args.seed}-c{concurrency}"))
                    harness.emit(figure(place.backend, concurrency, tally, elapsed, cpu))


def figure(backend: str, concurrency: int, tally: Tally, elapsed: float, cpu: float) -> dict[str, Any]:
    ordered = sorted(tally.latencies)
    ok = sum(n for status, n in tally.statuses.items() if 200 <= status < 300)
    failed = {str(status): n for status, n in tally.statuses.items() if not 200 <= status < 300}
    return {
        "case": "upsert", "backend": backend, "concurrency": concurrency, "seconds": round(elapsed, 2), "requests": len(ordered),
        "requests_per_s": round(ok / elapsed, 1), "p50_ms": round(percentile(ordered, 0.5) * 1000, 1),
        "p99_ms": round(percentile(ordered, 0.99) * 1000, 1), "errors": sum(failed.values()) + sum(tally.errors.values()),
        "error_kinds": {**failed, **tally.errors}, "created": tally.statuses[201], "updated": tally.statuses[200],
        "client_cpu_share": round(cpu / elapsed, 2), "target_requests_per_s": TARGET_RPS, "target_p99_ms": TARGET_P99_MS,
    }  # fmt: skip
