"""Start-up of ``clientdock serve``: migrate, seed the demo tenant, run uvicorn."""

from __future__ import annotations

import json
import sys

import structlog
import uvicorn
from sqlalchemy import select

from clientdock.app import create_app
from clientdock.db import Database, database_for
from clientdock.logs import configure
from clientdock.migrate import upgrade
from clientdock.settings import Settings
from clientdock.tenants import service
from clientdock.tenants.models import Tenant

log = structlog.get_logger(__name__)
DEMO = "demo"


def ensure_demo_tenant(db: Database) -> dict[str, str] | None:
    """Create the demo tenant on first start; return its credentials (shown only this once)."""
    with db.session() as session:
        if session.scalar(select(Tenant.id).where(Tenant.code == DEMO)):
            return None
        tenant = service.create_tenant(session, DEMO, "Demo practice")
        issued = service.issue_key(session, kind="tenant", tenant_id=tenant.id)
    return {"tenant": DEMO, "apiKey": issued.key}


def run_server(settings: Settings, host: str, port: int) -> None:
    configure(settings.log_json)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = database_for(settings.resolved_database_url)
    upgrade(db.url)
    created = ensure_demo_tenant(db)
    if created:
        sys.stdout.write("demo tenant created; this API key is shown once:\n" + json.dumps(created) + "\n")
        sys.stdout.flush()
    log.info("serving", url=f"http://{host}:{port}", database=db.engine.dialect.name)
    uvicorn.run(create_app(settings, db), host=host, port=port, log_level="info")
