"""Case ``limits``: what the abuse limits cost a request, and how large a bulk batch is.

In process, no service and no database. Figures (one JSON line each):

- ``ratelimit_take``: one :meth:`TokenBuckets.take` of a key in use (the common case) and of a
  key never seen (a new bucket, and the idle ones it sweeps), in µs; the buckets kept after
  ``--keys`` distinct keys (bounded by ``MAX_KEYS``, and by the keys used within ``burst/rate``).
- ``middleware``: the µs the two middlewares (rate limit, body limit) add to a request with an
  API key — a POST with a Content-Length, a GET without one (its body would be counted) —
  against the same request straight to a do-nothing ASGI app.
- ``bulk_batch``: the bytes of a 1,000-item ``POST /users/bulk/sourceId`` body, as the bulk
  benchmark sends it, with every field an item takes filled, and with every text at its longest
  (a 20,000-character note) — beside ``CLIENTDOCK_MAX_JSON_BYTES``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import tracemalloc
from typing import Any

from bench import harness
from bench.bulk_upsert import batch as bench_batch
from clientdock.bodylimit import BodyLimitMiddleware
from clientdock.clients.fields import FIELDS
from clientdock.settings import Settings
from clientdock.tenants.ratelimit import MAX_KEYS, RateLimitMiddleware, TokenBuckets, key_id


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--takes", type=int, default=300_000, help="takes of one key, and requests through the middlewares (default 300,000)"
    )
    parser.add_argument("--keys", type=int, default=300_000, help="distinct keys taken once each (default 300,000)")


def _per_call_us(seconds: float, calls: int) -> float:
    return round(seconds / calls * 1e6, 3)


def take_figures(args: argparse.Namespace) -> dict[str, Any]:
    settings = Settings()
    hot = TokenBuckets(1e12, 10**12)  # never empty: every take succeeds, as under the limit
    key = key_id("cdk_0123456789ab_" + "x" * 43)
    started = time.perf_counter()
    for _ in range(args.takes):
        hot.take(key)
    hot_s = time.perf_counter() - started
    keys = [key_id(f"cdk_{n:012x}_secret") for n in range(args.keys)]
    many = TokenBuckets(settings.rate_limit_per_second, settings.rate_limit_burst)
    started = time.perf_counter()
    for each in keys:
        many.take(each)
    new_s = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(args.takes):
        key_id("cdk_0123456789ab_" + "x" * 43)
    hash_s = time.perf_counter() - started
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    full = TokenBuckets(settings.rate_limit_per_second, settings.rate_limit_burst, clock=lambda: 0.0)
    for n in range(MAX_KEYS):
        full.take(key_id(f"cdk_{n:012x}_traced"))
    bucket_bytes = (tracemalloc.get_traced_memory()[0] - before) / len(full)
    tracemalloc.stop()
    ticks = iter(range(10**9))
    steady = TokenBuckets(settings.rate_limit_per_second, settings.rate_limit_burst, clock=lambda: next(ticks) / 1000)
    for each in keys:  # a new key every millisecond (on a fake clock)
        steady.take(each)
    return {
        "figure": "ratelimit_take", "take_us": _per_call_us(hot_s, args.takes), "new_key_take_us": _per_call_us(new_s, args.keys),
        "key_hash_us": _per_call_us(hash_s, args.takes), "distinct_keys": args.keys, "buckets_kept": len(many), "max_keys": MAX_KEYS,
        "buckets_kept_at_1000_new_keys_a_second": len(steady),
        "bytes_per_bucket": round(bucket_bytes), "mib_at_max_keys": round(bucket_bytes * MAX_KEYS / 1024**2, 1),
        "rate": settings.rate_limit_per_second, "burst": settings.rate_limit_burst,
    }  # fmt: skip


async def _noop(scope: Any, receive: Any, send: Any) -> None:
    return None


async def _receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _send(message: Any) -> None:
    return None


async def _requests(app: Any, scope: dict[str, Any], count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        await app(scope, _receive, _send)
    return time.perf_counter() - started


def middleware_figures(args: argparse.Namespace) -> dict[str, Any]:
    headers = [
        (b"host", b"127.0.0.1:8000"), (b"content-type", b"application/json"), (b"content-length", b"180"),
        (b"x-api-key", b"cdk_0123456789ab_" + b"x" * 43), (b"accept", b"*/*"), (b"user-agent", b"bench"),
    ]  # fmt: skip
    post = {"type": "http", "method": "POST", "path": "/tenants/bench/clients/upsert", "headers": headers}
    get = {**post, "method": "GET", "path": "/tenants/bench/clients", "headers": [h for h in headers if h[0] != b"content-length"]}
    limited = RateLimitMiddleware(BodyLimitMiddleware(_noop, limit=16 * 1024 * 1024), buckets=TokenBuckets(1e12, 10**12))
    figure: dict[str, Any] = {"figure": "middleware", "requests": args.takes}
    for name, scope in (("post_with_length", post), ("get_without_length", get)):
        bare_s = asyncio.run(_requests(_noop, scope, args.takes))
        limited_s = asyncio.run(_requests(limited, scope, args.takes))
        figure[f"{name}_added_us"] = _per_call_us(limited_s - bare_s, args.takes)
    return figure


def _longest(spec_kind: str, length: int, i: int) -> Any:
    if spec_kind == "email":
        return f"user{i}@" + "d" * 60 + ".example.org"
    if spec_kind == "phone":
        return "+44 20 7946 0958"
    if spec_kind == "bool":
        return True
    if spec_kind == "date":
        return "1980-12-31"
    if spec_kind == "type":
        return "PrivateLimitedCompany"
    return ("x" * (length - 6) + f"{i % 1000000:06d}")[:length]


def full_item(i: int, *, longest: bool) -> dict[str, Any]:
    """An S4 item with every key the door takes: realistic values, or every text at its longest."""
    item: dict[str, Any] = {"source": "crm", "sourceId": str(i), "language": "en"}
    for spec in FIELDS:
        name = spec.bulk_name
        if name is None or spec.kind in ("tags", "attributes", "addresses"):
            continue
        if longest:
            item[name] = _longest(spec.kind, spec.max_length, i)
        else:
            item[name] = _longest(spec.kind, min(spec.max_length, 24), i)
    if not longest:
        item["note"] = "Met at the spring fair; prefers email; year end 31 March. " * 4
    text = 255 if longest else 20
    address = {part: "a" * text for part in ("line1", "line2", "city", "region", "postalCode")}
    item["addresses"] = [{"type": "postal", **address, "countryCode": "GB"}, {"type": "billing", **address, "countryCode": "GB"}]
    item["tags"] = ["t" * (64 if longest else 8) + str(n) for n in range(5)]
    item["attributes"] = [
        {"class": "crm", "name": f"field{n}", "type": "string", "value": "v" * (255 if longest else 12)} for n in range(3)
    ]
    return item


def batch_figures() -> list[dict[str, Any]]:
    limit = Settings().max_json_bytes
    batches = {
        "bench": bench_batch(0, 1000, "note"),
        "every_field": {"users": [full_item(i, longest=False) for i in range(1000)]},
        "every_text_longest": {"users": [full_item(i, longest=True) for i in range(1000)]},
    }
    out = []
    for name, body in batches.items():
        size = len(json.dumps(body).encode())
        out.append({"figure": "bulk_batch", "batch": name, "items": 1000, "bytes": size, "mib": round(size / 1024**2, 2),
                    "max_json_bytes": limit, "share_of_limit": round(size / limit, 3)})  # fmt: skip
    return out


def run(args: argparse.Namespace) -> None:
    harness.emit(take_figures(args))
    harness.emit(middleware_figures(args))
    for figure in batch_figures():
        harness.emit(figure)
