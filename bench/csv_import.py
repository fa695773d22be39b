"""Benchmark: ``clientdock import`` of generated CSV files, into an empty tenant and then as an
update of half the rows, on SQLite and (with --postgres) PostgreSQL.

Each run is the real command in a child process (the same door as the upload: the file is
surveyed, staged and applied by the job engine in that process). Figures per run:
``rows_per_s`` over the job (queueing, staging and applying: from the job row's creation to
its end),
``wall_s`` of the whole command (including the survey pass and starting the engine), and the
child's peak RSS. The files are seeded, so every run imports the same rows. Prints one JSON
line per figure.

    .venv/bin/python bench/csv_import.py --rows 5000 100000 [--postgres postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import select

from clientdock.db import Database
from clientdock.jobs.models import ImportJob
from clientdock.migrate import upgrade
from clientdock.tenants import service as tenants

FIRST = ["Maya", "Ben", "Zoë", "Jürgen", "Siobhán", "Ana", "Luca", "Noor", "Kwame", "Mei", "Olga", "Raj"]
LAST = ["White", "Mwangi", "Brontë", "Weiß", "O'Connor", "García", "Rossi", "Haddad", "Mensah", "Chen", "Ivanova", "Patel"]
HEADER = ["First Name", "Last Name", "E-mail", "Mobile", "Company", "Active", "Type", "Date of Birth", "Notes"]


def write_csv(path: Path, rows: int, *, seed: int, step: int = 1, note: str = "created") -> None:
    """``rows`` clients (every ``step``-th of them), the same for the same seed."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(HEADER)
        for i in range(rows):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            day, month, year = rng.randint(1, 28), rng.randint(1, 12), rng.randint(1940, 2005)
            row = [
                first, last, f"client{i}@bench.example.org", f"07700 9{i % 100000:05d}", f"Company {i % 997}",
                rng.choice(["yes", "no", ""]), rng.choice(["Personal", "ltd", ""]), f"{day:02d}/{month:02d}/{year}",
                f"{note} {i}",
            ]  # fmt: skip
            if i % step == 0:
                writer.writerow(row)


def run_cli(file: Path, tenant: str, env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, peak RSS MiB) of one ``clientdock import`` in a child process."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "clientdock.cli", "import", str(file), "--tenant", tenant],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert proc.stdout is not None
    output = proc.stdout.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 2):
        raise SystemExit(f"import failed ({code}):\n{output.decode(errors='replace')[-3000:]}")
    return wall, usage.ru_maxrss / 1024


def last_job(db: Database, tenant_id: str) -> ImportJob:
    with db.session() as session:
        job = session.scalars(select(ImportJob).where(ImportJob.tenant_id == tenant_id).order_by(ImportJob.created_at.desc())).first()
    assert job is not None
    return job


def figure(backend: str, rows: int, phase: str, job: ImportJob, wall: float, rss: float) -> dict[str, Any]:
    assert job.finished_at is not None
    # From the job row's creation (the file already surveyed) to its end: queueing, staging
    # (parsing the file into records) and applying every chunk.
    job_seconds = (job.finished_at - job.created_at).total_seconds()
    return {
        "bench": "csv_import",
        "backend": backend,
        "rows": rows,
        "phase": phase,
        "applied": job.done,
        "created": job.created,
        "updated": job.updated,
        "failed": job.failed,
        "rows_per_s": round(job.done / job_seconds, 1),
        "job_s": round(job_seconds, 2),
        "wall_s": round(wall, 2),
        "peak_rss_mib": round(rss, 1),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }


def bench(rows: int, backend: str, postgres: str | None, tmp: Path) -> None:
    data = tmp / f"data-{backend}-{rows}"
    data.mkdir()
    env = {**os.environ, "CLIENTDOCK_DATA_DIR": str(data), "CLIENTDOCK_MAX_UPLOAD_BYTES": str(4 * 1024**3)}
    pg_name = None
    if postgres:
        pg_name = f"cdbench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(postgres, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{pg_name}"')
        env["CLIENTDOCK_DATABASE_URL"] = postgres.rsplit("/", 1)[0] + f"/{pg_name}"
    url = env.get("CLIENTDOCK_DATABASE_URL") or f"sqlite:///{data / 'clientdock.db'}"
    try:
        upgrade(url)
        db = Database(url)
        with db.session() as session:
            tenant = tenants.create_tenant(session, "bench")
            tenant.settings = {"importRowLimit": rows}
            tenant_id = tenant.id
        created_file, update_file = tmp / f"create-{rows}.csv", tmp / f"update-{rows}.csv"
        if not created_file.exists():
            write_csv(created_file, rows, seed=rows)
            write_csv(update_file, rows, seed=rows, step=2, note="updated")
        for phase, file in (("create", created_file), ("update_half", update_file)):
            wall, rss = run_cli(file, "bench", env)
            print(json.dumps(figure(backend, rows, phase, last_job(db, tenant_id), wall, rss)), flush=True)
        db.dispose()
    finally:
        if pg_name and postgres:
            with psycopg.connect(postgres, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[5000, 100_000])
    parser.add_argument("--postgres", default=None, help="admin URL; a throwaway database is created and dropped")
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        for rows in args.rows:
            for backend in args.backends:
                if backend == "postgresql" and not args.postgres:
                    continue
                bench(rows, backend, args.postgres if backend == "postgresql" else None, tmp)


if __name__ == "__main__":
    main()
