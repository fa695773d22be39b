"""Case ``bulk``: ``POST /users/bulk/sourceId`` (S4) in 1,000-item batches, created then updated.

A real ``clientdock serve`` child on a fresh database per backend; ``--batches`` batches of
``--size`` items (name, email, phone, company, note, one typed attribute) are created, then
the same batches are sent again with a changed note (every item ``updated``), by
``--concurrency`` senders at once (each its own batches). Figures: items/s per phase, beside
the issue's target on PostgreSQL (15,000 items/s).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

import httpx

from bench import harness

TARGET_ITEMS_PER_S = {"postgresql": 15_000}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--batches", type=int, default=10, help="batches per phase (default 10)")
    parser.add_argument("--size", type=int, default=1000, help="items per batch (default 1000, the most the door takes)")
    parser.add_argument("--concurrency", type=int, default=1, help="senders at once (default 1)")
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


def run(args: argparse.Namespace) -> None:
    for admin in harness.backends(args):
        with harness.throwaway(admin) as place:
            db, key = harness.tenant_key(place.url)
            db.dispose()
            with harness.service(place) as svc:
                # One small untimed batch first, of other ids: the service's first request pays for its start.
                httpx.post(f"{svc.base}/users/bulk/sourceId", json=batch(10**9, 10, "warm"), headers={"X-API-Key": key}, timeout=60)
                for phase, note in (("created", "v1"), ("updated", "v2")):
                    seconds = asyncio.run(send(svc.base, key, args, phase, note))
                    items = args.batches * args.size
                    figure: dict[str, Any] = {
                        "case": "bulk", "backend": place.backend, "phase": phase, "batch_size": args.size, "batches": args.batches,
                        "concurrency": args.concurrency, "items": items, "seconds": round(seconds, 3),
                        "items_per_s": round(items / seconds, 1), "target_items_per_s": TARGET_ITEMS_PER_S.get(place.backend),
                    }  # fmt: skip
                    harness.emit(figure)
