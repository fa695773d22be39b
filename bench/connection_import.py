"""Case ``connection``: import every contact of a Xero organisation through a connection.

A fake Xero (tests/fakes, real HTTP on loopback) answers each call after ``--latency``
seconds, as the real API does from here; the service runs in this process under uvicorn on
a fresh database, is connected through the OAuth round trip, and imports with
``importAll=true``. Prints one JSON line per figure: contacts, calls made to the platform,
seconds, and the floor that the platform's latency and limits allow (pages of 1,000 are
fetched one after another: ``calls × latency``, and no more than 60 calls a minute).

    python -m bench connection [--contacts 10000] [--latency 0.15] [--postgres URL]
"""

from __future__ import annotations

import argparse
import json
import math
import time
from urllib.parse import urlsplit

import httpx
from tests.fakes.xero import XeroFake

from bench import harness
from clientdock.settings import Settings

PER_MINUTE = 60


def connect(api: httpx.Client, key: str) -> str:
    location = api.get("/tenants/bench/connections/xero/authorize", headers={"X-API-Key": key}).headers["location"]
    back = urlsplit(httpx.get(location).headers["location"])
    answer = api.get(f"{back.path}?{back.query}")
    assert answer.status_code == 201, answer.text
    return str(answer.json()["connections"][0]["code"])


def measure(args: argparse.Namespace, place: harness.Place) -> None:
    db, key = harness.tenant_key(place.url)
    fake = XeroFake(per_minute=PER_MINUTE)
    fake.start()
    organisation = fake.add_tenant("Bench Ltd")
    fake.generate_contacts(organisation, args.contacts)
    port = harness.free_port()
    settings = Settings(data_dir=place.data_dir, database_url=place.url, public_url=f"http://127.0.0.1:{port}", **fake.settings())
    try:
        with harness.served(settings, db, port) as base, httpx.Client(base_url=base, timeout=600) as api:
            code = connect(api, key)
            fake.delay_seconds = args.latency
            before = fake.calls["contacts"]
            started = time.perf_counter()
            job = api.post(
                "/tenants/bench/clients/import/from-connection", params={"connectionCode": code, "importAll": "true"},
                headers={"X-API-Key": key, "Prefer": "respond-async"},
            ).json()  # fmt: skip
            job = harness.finished(api, key, job)
            seconds = time.perf_counter() - started
        calls = fake.calls["contacts"] - before
        floor = max(calls * args.latency, (math.ceil(calls / PER_MINUTE) - 1) * 60.0)
        for figure, value in (
            ("contacts", job["progress"]["total"]), *((f"rows_{action}", n) for action, n in job["counts"].items() if n),
            ("calls", calls), ("seconds", round(seconds, 2)),
            ("floor_seconds", round(floor, 2)), ("ours_seconds", round(seconds - floor, 2)),
            ("contacts_per_second", round(job["progress"]["total"] / seconds, 1)),
        ):  # fmt: skip
            print(json.dumps({"bench": "connection_import", "backend": place.backend, "figure": figure, "value": value,
                              "latency": args.latency, "status": job["status"], **harness.machine()}))  # fmt: skip
    finally:
        fake.stop()
        db.dispose()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--latency", type=float, default=0.15, help="seconds the fake takes per call")
    parser.add_argument("--postgres", default=None, help="admin URL; a throwaway database is created and dropped")


def run(args: argparse.Namespace) -> None:
    with harness.throwaway(args.postgres) as place:
        measure(args, place)
