"""Case ``undo``: undo of a large import, on SQLite and (with --postgres) PostgreSQL.

In process, on a fresh database: one import creates ``--rows`` clients and a second updates
every one of them; undoing the second restores a field per client (the restore path), then
undoing the first deletes every client (the delete path). Figures: seconds and clients per
second for each undo. Prints one JSON line per figure.

    python -m bench undo [--rows 30000] [--postgres postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

from bench import harness
from clientdock.db import Database
from clientdock.imports import service
from clientdock.imports.bulk import BULK_POLICY
from clientdock.imports.undo import undo
from clientdock.jobs.engine import JobEngine
from clientdock.jobs.models import ImportJob
from clientdock.migrate import upgrade
from clientdock.pipeline.records import RawRecord, Ref
from clientdock.settings import Settings
from clientdock.tenants import service as tenants
from clientdock.tenants.context import load_context
from clientdock.tenants.models import Tenant


def records(rows: int, note: str) -> list[RawRecord]:
    return [
        RawRecord(index=i, fields={"firstName": f"First{i}", "lastName": f"Last{i}", "email": f"user{i}@bench.example.org", "note": note},
                  refs=[Ref("bench", str(i))])
        for i in range(rows)
    ]  # fmt: skip


def imported(db: Database, tenant_id: str, rows: int, note: str) -> str:
    with db.session() as session:
        ctx = load_context(session, session.get_one(Tenant, tenant_id))
        job, _ = service.run_inline(
            session, JobEngine(Settings(), db), ctx, service.NewJob(door="bulk", policy=BULK_POLICY), records(rows, note)
        )
        return job.id


def timed_undo(db: Database, tenant_id: str, job_id: str) -> tuple[float, int]:
    started = time.perf_counter()
    with db.session() as session:
        ctx = load_context(session, session.get_one(Tenant, tenant_id))
        result = undo(session, ctx, session.get_one(ImportJob, job_id))
    return time.perf_counter() - started, len(result.deleted) + len(result.restored)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rows", type=int, default=30000)
    parser.add_argument("--postgres", default=None, help="admin URL; a throwaway database is created and dropped")


def run(args: argparse.Namespace) -> None:
    with harness.throwaway(args.postgres) as place:
        upgrade(place.url)
        db = Database(place.url)
        with db.session() as session:
            tenant_id = tenants.create_tenant(session, "bench").id
        created = imported(db, tenant_id, args.rows, "v1")
        updated = imported(db, tenant_id, args.rows, "v2")
        for phase, job_id in (("restore", updated), ("delete", created)):
            seconds, clients = timed_undo(db, tenant_id, job_id)
            assert clients == args.rows, (phase, clients)
            print(json.dumps({
                "bench": "undo", "backend": place.backend, "phase": phase, "clients": clients, "seconds": round(seconds, 3),
                "clients_per_second": round(clients / seconds, 1),
                "machine": f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}",
            }), flush=True)  # fmt: skip
        db.dispose()
