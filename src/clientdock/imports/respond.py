"""The hybrid answer of S0.3 for any door: wait a little for the job, then 201 or 202.

The caller's transaction, which created the job, is committed before waiting, and no
transaction is held while waiting: each poll is a short read that ends at once, and a job
that ends in this process wakes its waiter at once (``jobs.endings``). Waiters are capped; past the cap the answer is
202 at once. ``Prefer: wait=N`` and ``Prefer: respond-async`` (RFC 7240) are honoured and
echoed in ``Preference-Applied``.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from clientdock.db import Database, bind_tenant
from clientdock.imports import service
from clientdock.imports.schemas import job_json, row_json
from clientdock.jobs import endings
from clientdock.jobs.models import ImportJob
from clientdock.jobs.workflow import TERMINAL
from clientdock.settings import Settings
from clientdock.tenants.models import Tenant

POLL_SECONDS = 0.2
_WAIT = re.compile(r"(?:^|[,;\s])wait\s*=\s*(\d+)", re.IGNORECASE)


class WaiterCap:
    """A non-blocking semaphore: a request either gets a waiting slot now or answers 202."""

    def __init__(self, size: int) -> None:
        self._slots = threading.BoundedSemaphore(max(size, 1))

    def __enter__(self) -> bool:
        self.acquired = self._slots.acquire(blocking=False)
        return self.acquired

    def __exit__(self, *_exc: object) -> None:
        if self.acquired:
            self._slots.release()


def wanted_wait(prefer: str | None, default: float) -> tuple[float, str | None]:
    """Seconds to wait and the preference applied, from a Prefer header."""
    if not prefer:
        return default, None
    if "respond-async" in prefer.lower():
        return 0.0, "respond-async"
    match = _WAIT.search(prefer)
    if match:
        seconds = int(match.group(1))
        return float(min(seconds, max(default, 60))), f"wait={seconds}"
    return default, None


def wait_for(session: Session, job_id: str, seconds: float) -> ImportJob:
    """Poll the job until it ends or ``seconds`` pass; each read's transaction ends at once."""
    deadline = time.monotonic() + seconds
    while True:
        job = session.get_one(ImportJob, job_id, populate_existing=True)
        session.commit()
        if job.status in TERMINAL or time.monotonic() >= deadline:
            return job
        endings.wait(job_id, min(POLL_SECONDS, max(deadline - time.monotonic(), 0)))


def answer(
    request: Request,
    session: Session,
    settings: Settings,
    cap: WaiterCap,
    tenant: Tenant,
    job_id: str,
    render: Callable[[Session, ImportJob], dict[str, Any]] | None = None,
) -> JSONResponse:
    """Commit the tenant's job, wait as the request prefers, then answer 201 (ended) or 202 (not
    yet); the body is ``render``'s, by default the job with its first row outcomes."""
    render = render or job_with_first_rows(tenant.code)
    session.commit()
    seconds, applied = wanted_wait(request.headers.get("prefer"), settings.sync_wait_seconds)
    with cap as slot:
        if slot and seconds > 0:
            # Polls read without the write lock: on SQLite they neither wait for the job's chunks nor hold them up.
            database: Database = request.app.state.db
            with database.read_session() as reader:
                bind_tenant(reader, tenant.id)
                wait_for(reader, job_id, seconds)
    job = session.get_one(ImportJob, job_id, populate_existing=True)
    body = render(session, job)
    location = f"/tenants/{tenant.code}/imports/{job_id}"
    headers = {"Location": location}
    if applied:
        headers["Preference-Applied"] = applied
    if job.status in TERMINAL:
        return JSONResponse(body, status_code=201, headers=headers)
    headers["Retry-After"] = "2"
    return JSONResponse(body, status_code=202, headers=headers)


#: Row outcomes shown in the answer of a finished import (a dry run's preview).
PREVIEW_ROWS = 100


def job_with_first_rows(tenant_code: str) -> Callable[[Session, ImportJob], dict[str, Any]]:
    """The job as JSON, with its first row outcomes once it has finished (a dry run's preview)."""

    def render(session: Session, job: ImportJob) -> dict[str, Any]:
        body = job_json(session, job, tenant_code)
        if job.status in TERMINAL:
            rows, total = service.job_rows(session, job, None, 1, PREVIEW_ROWS)
            body["rows"] = {"items": [row_json(row) for row in rows], "total": total, "shown": len(rows)}
        return body

    return render
