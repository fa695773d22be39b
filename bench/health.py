"""Case ``health``: is the service still responsive while a large import runs? A generated CSV
(default 1,000,000 rows) is uploaded to a real ``clientdock serve``; while its job runs, this
process asks ``GET /healthz`` every ``--interval`` seconds on its own connection and records each
answer's time. Figures: p50/p99/max in ms, how many probes, how many were not 200, and the
import's rows/s. The issue's target is printed beside: health p99 under 100 ms."""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from bench import clientsfile, harness

TARGET_P99_MS = 100.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the imported file (default 1,000,000)")
    parser.add_argument("--interval", type=float, default=0.05, help="seconds between two health probes (default 0.05)")
    parser.add_argument("--seed", type=int, default=15, help="seed of the generated file (default 15)")
    harness.add_database_arguments(parser)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def probe(base: str, interval: float, stop: threading.Event, times: list[float], failures: list[str]) -> None:
    with httpx.Client(base_url=base, timeout=30) as api:
        while not stop.is_set():
            started = time.perf_counter()
            try:
                status = api.get("/healthz").status_code
                if status != 200:
                    failures.append(str(status))
            except httpx.HTTPError as exc:
                failures.append(type(exc).__name__)
            times.append((time.perf_counter() - started) * 1000)
            stop.wait(interval)


def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = clientsfile.write(Path(folder) / f"clients-{args.rows}.csv", args.rows, seed=args.seed)
        for admin_url in harness.backends(args):
            with harness.throwaway(admin_url) as place:
                db, key = harness.tenant_key(place.url, {"importRowLimit": max(args.rows, 10)})
                db.dispose()
                with harness.service(place) as svc:
                    times: list[float] = []
                    failures: list[str] = []
                    stop = threading.Event()
                    prober = threading.Thread(target=probe, args=(svc.base, args.interval, stop, times, failures), daemon=True)
                    headers = {"X-API-Key": key, "Prefer": "respond-async"}
                    with httpx.Client(base_url=svc.base, timeout=3600) as api, path.open("rb") as handle:
                        started = time.monotonic()
                        answer = api.post(
                            f"/tenants/{harness.TENANT}/clients/import/csv", files={"file": (path.name, handle)}, headers=headers
                        )
                        if answer.status_code not in (201, 202):
                            raise SystemExit(f"upload answered {answer.status_code}: {answer.text[:2000]}")
                        prober.start()
                        job = harness.finished(api, key, answer.json(), 0.5, report=path.name)
                        seconds = time.monotonic() - started
                    stop.set()
                    prober.join()
                figure: dict[str, Any] = {
                    "case": "health", "backend": place.backend, "rows": args.rows, "job_status": job["status"],
                    "import_rows_per_s": round(args.rows / seconds), "probes": len(times), "not_ok": len(failures),
                    "p50_ms": round(statistics.median(times), 1) if times else None,
                    "p99_ms": round(percentile(times, 0.99), 1) if times else None,
                    "max_ms": round(max(times), 1) if times else None, "target_p99_ms": TARGET_P99_MS,
                }  # fmt: skip
                harness.emit(figure)
