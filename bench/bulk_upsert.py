"""Case ``bulk``: ``POST /users/bulk/sourceId`` (S4) in 1,000-item batches, created then updated.

A real ``clientdock serve`` child on a fresh database per backend; ``--batches`` batches of
``--size`` items (name, email, phone, company, note, one typed attribute) are created, then
the same batches are sent again with a changed note (every item ``updated``), by
``--concurrency`` senders at once (each its own batches). Figures: items/s per phase, beside
the issue's target on PostgreSQL (15,000 items/s).

With ``--sweep 1 2 4 … 64`` it is a load test instead: at each level that many senders send
batches for ``--seconds`` (default 60), each sender creating a batch of new items and then sending
it again changed (updated), one after the other. Figures per level: items/s, batch latency
p50/p99, errors (non-2xx answers and failures), how busy this process was.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from bench import harness

TARGET_ITEMS_PER_S = {"postgresql": 15_000}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--batches", type=int, default=10, help="batches per phase (default 10)")
    parser.add_argument("--size", type=int, default=1000, help="items per batch (default 1000, the most the door takes)")
    parser.add_argument("--concurrency", type=int, default=1, help="senders at once (default 1)")
    parser.add_argument("--sweep", type=int, nargs="+", metavar="SENDERS", help="load test: these numbers of senders, one run each")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each --sweep run (default 60)")
    harness.add_database_arguments(parser)


def batch(start: int, size: int, note: str) -> dict[str, object]:
    return {
        "users": [
            {"source": "bench", "sourceId": i, "firstName": f"First{i}", "lastName": f"Last{i}", "email": f"user{i}@bench.example.org",
             "phone": f"+4420794{i % 100000:05d}", "company": f"Company {i % 97}", "note": note,
             "attributes": [{"class": "crm", "name": "score", "type": "number", "value": str(i % 100)}]}
            for i in range(start, start + size)
        ]
    }  # fmt: skip


async def send(base: str, key: str, args: argparse.Namespace, phase: str, note: str) -> float:
    """Seconds to send every batch of a phase; each item must come back with ``phase`` as its action."""
    order = asyncio.Queue[int]()
    for number in range(args.batches):
        order.put_nowait(number)

    async def sender(api: httpx.AsyncClient) -> None:
        while not order.empty():
            number = order.get_nowait()
            answer = await api.post("/users/bulk/sourceId", json=batch(number * args.size, args.size, note))
            answer.raise_for_status()
            actions = {d["action"] for d in answer.json()["data"]}
            if actions != {phase}:
                raise SystemExit(f"bulk {phase}: batch {number} answered {actions}")

    limits = httpx.Limits(max_connections=args.concurrency)
    async with httpx.AsyncClient(base_url=base, headers={"X-API-Key": key}, limits=limits, timeout=600) as api:
        started = time.perf_counter()
        await asyncio.gather(*(sender(api) for _ in range(args.concurrency)))
        return time.perf_counter() - started


async def sweep_level(base: str, key: str, args: argparse.Namespace, senders: int, first_id: itertools.count[int]) -> dict[str, Any]:
    """``senders`` senders for ``args.seconds``: create a batch, send it again changed, repeat."""
    latencies: list[float] = []
    outcomes: Counter[str] = Counter()
    items = 0

    async def post(api: httpx.AsyncClient, body: dict[str, object]) -> None:
        nonlocal items
        started = time.perf_counter()
        try:
            answer = await api.post("/users/bulk/sourceId", json=body)
        except httpx.HTTPError as exc:
            outcomes[type(exc).__name__] += 1
            return
        latencies.append(time.perf_counter() - started)
        outcomes[str(answer.status_code)] += 1
        if answer.status_code == 200:
            items += len(body["users"])  # type: ignore[arg-type]

    async def sender(api: httpx.AsyncClient, deadline: float) -> None:
        while time.perf_counter() < deadline:
            start = next(first_id) * args.size
            await post(api, batch(start, args.size, "v1"))
            if time.perf_counter() < deadline:
                await post(api, batch(start, args.size, "v2"))

    limits = httpx.Limits(max_connections=senders)
    async with httpx.AsyncClient(base_url=base, headers={"X-API-Key": key}, limits=limits, timeout=600) as api:
        cpu, started = time.process_time(), time.perf_counter()
        await asyncio.gather(*(sender(api, started + args.seconds) for _ in range(senders)))
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    ordered = sorted(latencies)

    def ms(share: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000, 1) if ordered else 0.0

    errors = sum(n for outcome, n in outcomes.items() if outcome != "200")
    return {
        "case": "bulk_sweep", "concurrency": senders, "batch_size": args.size, "seconds": round(elapsed, 1),
        "batches": len(latencies), "items": items, "items_per_s": round(items / elapsed, 1), "p50_ms": ms(0.5), "p99_ms": ms(0.99),
        "errors": errors, "outcomes": dict(outcomes), "client_cpu_share": round(cpu / elapsed, 2),
    }  # fmt: skip


@contextmanager
def warm_service(admin: str | None) -> Iterator[tuple[harness.Place, harness.Service, str]]:
    """A fresh database with the bench tenant, its service, and the tenant's key; one small
    untimed batch of other ids sent first (the service's first request pays for its start)."""
    with harness.throwaway(admin) as place:
        db, key = harness.tenant_key(place.url)
        db.dispose()
        with harness.service(place) as svc:
            httpx.post(f"{svc.base}/users/bulk/sourceId", json=batch(10**9, 10, "warm"), headers={"X-API-Key": key}, timeout=60)
            yield place, svc, key


def run(args: argparse.Namespace) -> None:
    if args.sweep:
        run_sweep(args)
        return
    for admin in harness.backends(args):
        with warm_service(admin) as (place, svc, key):
            for phase, note in (("created", "v1"), ("updated", "v2")):
                seconds = asyncio.run(send(svc.base, key, args, phase, note))
                items = args.batches * args.size
                figure: dict[str, Any] = {
                    "case": "bulk", "backend": place.backend, "phase": phase, "batch_size": args.size, "batches": args.batches,
                    "concurrency": args.concurrency, "items": items, "seconds": round(seconds, 3),
                    "items_per_s": round(items / seconds, 1), "target_items_per_s": TARGET_ITEMS_PER_S.get(place.backend),
                }  # fmt: skip
                harness.emit(figure)


def run_sweep(args: argparse.Namespace) -> None:
    for admin in harness.backends(args):
        with warm_service(admin) as (place, svc, key):
            first_id = itertools.count()
            for senders in args.sweep:
                figure = asyncio.run(sweep_level(svc.base, key, args, senders, first_id))
                harness.emit({**figure, "backend": place.backend, "target_items_per_s": TARGET_ITEMS_PER_S.get(place.backend)})
