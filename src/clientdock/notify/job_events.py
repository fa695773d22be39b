"""The job engine's finish hook that tells a business how each of its imports ended."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from clientdock.jobs.models import ImportJob
from clientdock.notify import service as notify
from clientdock.pipeline.report import ACTIONS
from clientdock.tenants.models import Tenant


def import_finished(session: Session, job: ImportJob) -> None:
    """Every import that really ran tells the business how it ended, with an in-app
    notification and its webhooks, in the transaction that ends the job (so exactly once).
    Dry runs stay quiet, and so does a door that opted out with ``options["notify"]`` set to
    false (a partner app's ``send_notifications_when_done: false``)."""
    if job.dry_run or (job.options or {}).get("notify") is False:
        return
    tenant = session.get_one(Tenant, job.tenant_id)
    base = f"/tenants/{tenant.code}/imports/{job.id}"
    payload: dict[str, Any] = {
        "jobId": job.id, "door": job.door, "status": job.status, "app": job.options.get("app"),
        "counts": {action: getattr(job, action) for action in ACTIONS},
        "links": {"job": base, "errors": f"{base}/errors.csv"},
    }  # fmt: skip
    if job.error:
        payload["error"] = job.error
    notify.job_finished(session, job.tenant_id, "import.failed" if job.status == "failed" else "import.completed", payload)
