"""Case ``workers``: file imports per minute and rows per second of N worker processes
(``clientdock worker``) beside one API process (``clientdock serve --no-workers``), on PostgreSQL.

For each N, on a fresh database: ``--tenants`` tenants and ``--imports`` generated clients
files of ``--rows`` rows (no two share an email), uploaded round robin over the tenants
(``Prefer: respond-async``) while no worker runs; then the N workers start, each with its own
data folder and ``--concurrency`` queue slots. A figure runs from the first job's
``startedAt`` to the last job's ``finishedAt`` (the service's clock): the uploads and the
workers' start-up are outside it. A tenant runs one import at a time
(``CLIENTDOCK_TENANT_CONCURRENCY``, 1), so at most ``min(tenants, N × concurrency)`` run at once.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from tests.scaleout.cluster import Child, Cluster

from bench import clientsfile, harness

TERMINAL = harness.TERMINAL


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4], help="worker processes, one figure each (default 1 2 4)")
    parser.add_argument("--imports", type=int, default=8, help="files imported per figure (default 8)")
    parser.add_argument("--rows", type=int, default=20_000, help="rows per file (default 20000)")
    parser.add_argument("--tenants", type=int, default=4, help="tenants the files go to, round robin (default 4)")
    parser.add_argument("--concurrency", type=int, default=1, help="imports one worker runs at once (default 1)")
    parser.add_argument("--seed", type=int, default=16, help="seed of the first generated file (default 16)")
    parser.add_argument("--poll", type=float, default=0.5, help="seconds between polls of the jobs (default 0.5)")
    parser.add_argument(
        "--postgres", required=True, metavar="ADMIN_URL", help="PostgreSQL admin URL; a throwaway database per figure (dropped after)"
    )


def say(message: str) -> None:
    print(f"bench: workers: {message}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="cdbench-workers-") as folder:
        files = [
            clientsfile.write(Path(folder) / f"clients-{n}.csv", args.rows, seed=args.seed + n, start=n * args.rows)
            for n in range(args.imports)
        ]
        for count in args.workers:
            with harness.throwaway(args.postgres) as place:
                harness.emit(one_figure(args, place, files, count))


def one_figure(args: argparse.Namespace, place: harness.Place, files: list[Path], count: int) -> dict[str, Any]:
    settings = {"CLIENTDOCK_MAX_UPLOAD_BYTES": str(4 * 1024**3), "CLIENTDOCK_TENANT_CONCURRENCY": "1"}
    cluster = Cluster(place.data_dir / "processes", place.url, settings)
    try:
        cluster.cli("migrate")
        keys = {f"bench{t}": cluster.tenant(f"bench{t}") for t in range(args.tenants)}
        api = cluster.api("api")
        cluster.wait_ready()
        for code, key in keys.items():
            answer = httpx.patch(f"{api.base}/tenants/{code}/settings", json={"importRowLimit": args.rows}, headers={"X-API-Key": key})
            if answer.status_code != 200:
                raise SystemExit(f"settings of {code} answered {answer.status_code}: {answer.text[:2000]}")
        codes = list(keys)
        jobs = [submit(api, codes[n % len(codes)], keys[codes[n % len(codes)]], path) for n, path in enumerate(files)]
        say(f"{len(jobs)} imports queued; starting {count} worker(s)")
        for n in range(count):
            cluster.worker(f"w{n + 1}", args.concurrency)
        cluster.wait_ready()
        ended = wait_all(api, jobs, keys, args.poll, cluster)
    finally:
        cluster.stop()
    bad = [job for job in ended if job["status"] != "succeeded" or job["counts"]["created"] != args.rows]
    if bad:
        raise SystemExit(f"workers {count}: {[(job['status'], job['counts'], job.get('error')) for job in bad]}")
    first = min(harness.moment(job["startedAt"]) for job in ended)
    last = max(harness.moment(job["finishedAt"]) for job in ended)
    span = last - first
    rows = args.rows * len(ended)
    return {
        "case": "workers", "backend": "postgresql", "workers": count, "concurrency": args.concurrency, "tenants": args.tenants,
        "imports": len(ended), "rows": args.rows, "seconds": round(span, 2),
        "imports_per_minute": round(60 * len(ended) / span, 2), "rows_per_s": round(rows / span),
        "job_s_mean": round(sum(job["durationSeconds"] for job in ended) / len(ended), 2),
    }  # fmt: skip


def submit(api: Child, tenant: str, key: str, path: Path) -> tuple[str, str]:
    """Upload a file to the tenant; (tenant, job id)."""
    with path.open("rb") as handle:
        answer = httpx.post(
            f"{api.base}/tenants/{tenant}/clients/import/csv",
            files={"file": (path.name, handle, "text/csv")},
            headers={"X-API-Key": key, "Prefer": "respond-async"},
            timeout=600,
        )
    if answer.status_code not in (201, 202):
        raise SystemExit(f"upload of {path.name} answered {answer.status_code}: {answer.text[:2000]}")
    return tenant, str(answer.json()["id"])


def wait_all(api: Child, jobs: list[tuple[str, str]], keys: dict[str, str], poll: float, cluster: Cluster) -> list[dict[str, Any]]:
    """Poll every job until each has ended; say how far they are on stderr every 10 s."""
    state: dict[str, dict[str, Any]] = {}
    said = time.monotonic()
    with httpx.Client(base_url=api.base, timeout=60) as client:
        while True:
            for tenant, job_id in jobs:
                if job_id in state and state[job_id]["status"] in TERMINAL:
                    continue
                state[job_id] = client.get(f"/tenants/{tenant}/imports/{job_id}", headers={"X-API-Key": keys[tenant]}).json()
            if all(job["status"] in TERMINAL for job in state.values()):
                return [state[job_id] for _, job_id in jobs]
            dead = [child.name for child in cluster.children.values() if not child.running()]
            if dead:
                raise SystemExit(f"{dead} exited during the run\n{cluster.logs()}")
            if time.monotonic() - said >= 10:
                said = time.monotonic()
                done = sum(job["progress"]["done"] for job in state.values())
                ended = sum(job["status"] in TERMINAL for job in state.values())
                say(f"{ended} of {len(jobs)} imports ended, {done:,} rows done")
            time.sleep(poll)
