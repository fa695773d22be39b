"""Starting and watching jobs from tests through the real service code."""

from __future__ import annotations

import time

from fastapi import FastAPI

from clientdock.db import Database
from clientdock.imports import service
from clientdock.imports.bulk import BULK_POLICY
from clientdock.jobs.models import ImportJob
from clientdock.pipeline.records import RawRecord, Ref
from clientdock.settings import Settings
from clientdock.tenants.context import load_context
from clientdock.tenants.models import Tenant


def records(count: int, *, prefix: str = "r", note: str = "n") -> list[RawRecord]:
    return [
        RawRecord(
            index=i, fields={"name": f"{prefix} {i}", "email": f"{prefix}{i}@firm.co", "note": note}, refs=[Ref("test", f"{prefix}{i}")]
        )
        for i in range(count)
    ]


def start_job(app: FastAPI, tenant_id: str, items: list[RawRecord], door: str = "bulk") -> str:
    db: Database = app.state.db
    settings: Settings = app.state.settings
    with db.session() as session:
        ctx = load_context(session, session.get_one(Tenant, tenant_id))
        job = service.start(session, app.state.engine, settings, ctx, service.NewJob(door=door, policy=BULK_POLICY, records=items))
        return job.id


def job_state(db: Database, job_id: str) -> ImportJob:
    with db.session() as session:
        return session.get_one(ImportJob, job_id)


def wait_until(db: Database, job_id: str, done: object, timeout: float = 60) -> ImportJob:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = job_state(db, job_id)
        if callable(done) and done(job):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not reach the expected state in {timeout}s: {job_state(db, job_id).status}")


def finished(job: ImportJob) -> bool:
    return job.status in ("succeeded", "failed", "cancelled")
