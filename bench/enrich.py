"""Case ``enrich``: enrich 2,000 companies from a fake Companies House under its rate budget.

The register's budget is 600 calls per 300 s per key; the benchmark keeps the ratio and
shrinks the window (``--limit``/``--window``, default 600 per 3 s) so the run takes seconds, with the fake
enforcing the same budget (a 429 for every call over it). The service runs in this process
under uvicorn on a fresh database; the companies are created through the bulk door, then
enriched twice with ``POST /clients/enrich`` (the second time from the cache). Prints one
JSON line per figure: calls, the most calls in any window against the budget, 429s (0 means
the budget was never exceeded), cache hit ratio of the second pass, seconds.

    python -m bench enrich [--companies 2000] [--limit 600] [--window 3] [--postgres URL]
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, datetime
from typing import Any

import httpx
from tests.fakes.companies_house import CompaniesHouseFake

from bench import harness
from clientdock.settings import Settings


class RealClock:
    """The fake register's clock: the wall clock here, so its windows really end."""

    def __call__(self) -> datetime:
        return datetime.now(UTC)

    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def enrich_all(api: httpx.Client, key: str) -> tuple[dict[str, Any], float]:
    started = time.perf_counter()
    body = {"filter": {"type": "PrivateLimitedCompany"}}
    job = api.post("/tenants/bench/clients/enrich", json=body, headers={"X-API-Key": key, "Prefer": "respond-async"}).json()
    return harness.finished(api, key, job), time.perf_counter() - started


def busiest_window(moments: list[float], window: float) -> int:
    """The most calls that fell in any window of ``window`` seconds."""
    most, start = 0, 0
    for end, moment in enumerate(moments):
        while moment - moments[start] >= window:
            start += 1
        most = max(most, end - start + 1)
    return most


def measure(args: argparse.Namespace, place: harness.Place) -> None:
    db, key = harness.tenant_key(place.url)
    fake = CompaniesHouseFake(RealClock(), limit=args.limit, window_seconds=args.window)  # type: ignore[arg-type]
    fake.start()
    companies = fake.generate_companies(args.companies)
    settings = Settings(
        data_dir=place.data_dir, database_url=place.url, companies_house_rate=f"{args.limit}/{args.window}s", **fake.settings()
    )
    try:
        with harness.served(settings, db, harness.free_port()) as base, httpx.Client(base_url=base, timeout=600) as api:
            for start in range(0, len(companies), 1000):
                users = [{"source": "bench", "sourceId": start + i, "fullName": str(c["company_name"]).title(), "type": "ltd",
                          "companyNumber": c["company_number"]} for i, c in enumerate(companies[start : start + 1000])]  # fmt: skip
                assert api.post("/users/bulk/sourceId", json={"users": users}, headers={"X-API-Key": key}).status_code == 200
            first, seconds = enrich_all(api, key)
            calls = fake.total_calls()
            second, again_seconds = enrich_all(api, key)
            second_calls = fake.total_calls() - calls
        moments = sorted(r.at.timestamp() for r in fake.requests)
        throttled = sum(1 for r in fake.requests if r.status == 429)
        for figure, value in (
            ("companies", len(companies)), ("status", first["status"]), ("error", first["error"]),
            ("enriched", first["counts"]["updated"]), ("failed", first["counts"]["failed"]),
            ("calls", calls), ("seconds", round(seconds, 2)), ("budget", f"{args.limit}/{args.window}s"),
            ("busiest_window_calls", busiest_window(moments, args.window)), ("throttled_429", throttled),
            ("second_pass_calls", second_calls), ("second_pass_unchanged", second["counts"]["unchanged"]),
            ("second_pass_seconds", round(again_seconds, 2)),
            ("second_pass_cache_hit_ratio", round(1 - second_calls / calls, 3) if calls else None),
        ):  # fmt: skip
            print(json.dumps({"bench": "enrich", "backend": place.backend, "figure": figure, "value": value, **harness.machine()}))
    finally:
        fake.stop()
        db.dispose()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--companies", type=int, default=2000)
    parser.add_argument("--limit", type=int, default=600, help="calls per window (the register's: 600)")
    parser.add_argument("--window", type=int, default=3, help="seconds of the window (the register's: 300)")
    parser.add_argument("--postgres", default=None, help="admin URL; a throwaway database is created and dropped")


def run(args: argparse.Namespace) -> None:
    with harness.throwaway(args.postgres) as place:
        measure(args, place)
