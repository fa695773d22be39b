"""Start-up of ``clientdock serve``: migrate, seed the demo tenant, run uvicorn."""

from __future__ import annotations

import json
import sys

import structlog
import uvicorn
from sqlalchemy import select, text

from clientdock import heap
from clientdock.app import create_app
from clientdock.db import Database, advisory_lock_key, database_for
from clientdock.logs import configure, uvicorn_log_config
from clientdock.migrate import upgrade
from clientdock.settings import Settings
from clientdock.tenants import service
from clientdock.tenants.models import Tenant
from clientdock.users import service as users

log = structlog.get_logger(__name__)
DEMO = "demo"
DEMO_EMAIL = "demo@example.com"
#: Serialises the demo tenant's creation among processes starting together (PostgreSQL).
DEMO_LOCK = advisory_lock_key("clientdock.demo")


def ensure_demo_tenant(db: Database) -> dict[str, str] | None:
    """Create the demo tenant, its API key and its web user on first start; return the
    credentials (shown only this once). An install that predates users gets the user alone."""
    created: dict[str, str] = {}
    with db.session() as session:
        if session.get_bind().dialect.name == "postgresql":
            # API processes of a scale-out deployment start together on a fresh database: the
            # first creates the tenant and its user, the others wait for its commit and find them.
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": DEMO_LOCK})
        tenant = session.scalar(select(Tenant).where(Tenant.code == DEMO))
        if tenant is None:
            tenant = service.create_tenant(session, DEMO, "Demo practice")
            created.update(tenant=DEMO, apiKey=service.issue_key(session, kind="tenant", tenant_id=tenant.id).key)
        if users.find_user(session, DEMO_EMAIL) is None:
            user = users.create_user(session, tenant, DEMO_EMAIL)
            created.update(tenant=DEMO, email=user.user.email, password=user.password)
    return created or None


def run_server(settings: Settings, host: str, port: int) -> None:
    configure(settings.log_json)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = database_for(settings.resolved_database_url)
    upgrade(db.url)
    created = ensure_demo_tenant(db)
    if created:
        note = f"demo credentials, shown once (sign in at http://{host}:{port}/ with the email and password):"
        sys.stdout.write(note + "\n" + json.dumps(created) + "\n")
        sys.stdout.flush()
    log.info("serving", url=f"http://{host}:{port}", database=db.engine.dialect.name)
    app = create_app(settings, db)
    heap.settle()
    uvicorn.run(app, host=host, port=port, log_level="info", log_config=uvicorn_log_config())
