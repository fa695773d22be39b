"""The FastAPI application: routers, problem details, idempotency, health."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from clientdock.admin.routes import router as admin_router
from clientdock.apps import access as app_access
from clientdock.apps.routes import router as apps_router
from clientdock.clients.routes import router as clients_router
from clientdock.connections import door as connection_door
from clientdock.connections.routes import router as connections_router
from clientdock.db import Database, database_for
from clientdock.deps import Db
from clientdock.imports import enrich, file_records, files
from clientdock.imports.respond import WaiterCap
from clientdock.imports.routes import router as imports_router
from clientdock.jobs.engine import JobEngine
from clientdock.notify import job_events
from clientdock.notify.routes import router as notify_router
from clientdock.openapi import install_openapi, operation_id
from clientdock.problems import install as install_problems
from clientdock.settings import Settings, get_settings
from clientdock.tenants import idempotency
from clientdock.web.routes import router as web_router
from clientdock.web.templating import static_files

DESCRIPTION = """
clientdock brings client records into a firm's client base through every door — CSV and
spreadsheet upload, a bulk API, an idempotent single upsert, connected accounting platforms
and partner apps — through one pipeline (map → validate → normalise → match → apply → report).

**Auth**: `X-API-Key: <key>` or `Authorization: Bearer <key>`. Missing/invalid key → 401;
a key of another tenant or without the scope → 403.

**Errors** are RFC 9457 problem details with an `errors` list naming field (and row).
400 bad input, 409 conflict, 413 too large, 415 wrong media type; 422 only for a reused
`Idempotency-Key`.

**Decisions where the seeds are silent**: emails are syntax-checked (no DNS), trimmed, domain
lower-cased, unique per tenant case-insensitively; reserved domains (.invalid, .example, .test,
localhost) are accepted with a warning. Booleans accept true/false, yes/no, y/n, 1/0, on/off.
Dates: ISO 8601; dd/mm vs mm/dd by the tenant's `dateOrder` (default DMY). Phones are stored as
given plus E.164 when parseable with the tenant's region (default GB). Client types accept aliases
(Personal → Individual, ltd → PrivateLimitedCompany, plc, llp …). Every POST accepts an
`Idempotency-Key`. Inside one batch the first record claiming an email or key wins; later ones
fail as duplicates.
"""


class Health(BaseModel):
    status: str = Field(description="ok, or unavailable when the database cannot be reached")
    database: str = Field(description="The database's dialect (sqlite, postgresql), or why it cannot be reached")


def job_engine(settings: Settings, db: Database) -> JobEngine:
    """The job engine with every door's stager and every finish hook registered."""
    engine = JobEngine(settings, db)
    engine.register_stager(files.DOOR, file_records.stage)
    engine.register_stager(connection_door.DOOR, connection_door.stage)
    engine.on_finish(job_events.import_finished)
    engine.on_finish(connection_door.import_finished)
    engine.register_stager(enrich.DOOR, enrich.stage)
    engine.on_finish(enrich.after_import(engine, settings))
    return engine


def create_app(settings: Settings | None = None, db: Database | None = None) -> FastAPI:
    settings = settings or get_settings()
    database = db or database_for(settings.resolved_database_url)

    engine = job_engine(settings, database)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.start_workers:
            await run_in_threadpool(engine.start)
            engine.warm_up()
        else:  # API only: launch nothing; the job tables must exist for the first enqueue
            await run_in_threadpool(engine.migrate)
        try:
            yield
        finally:
            await run_in_threadpool(engine.stop)

    app = FastAPI(title="clientdock", version="0.1.0", description=DESCRIPTION, lifespan=lifespan, generate_unique_id_function=operation_id)
    app.state.db = database
    app.state.settings = settings
    app.state.engine = engine
    app.state.waiters = WaiterCap(settings.max_sync_waiters)
    install_problems(app)
    install_openapi(app)
    app.add_middleware(idempotency.IdempotencyMiddleware, replay_allowed=app_access.may_replay)
    app.include_router(clients_router)
    app.include_router(imports_router)
    app.include_router(connections_router)
    app.include_router(apps_router)
    app.include_router(notify_router)
    app.include_router(admin_router)
    app.include_router(web_router)
    app.mount("/static", static_files(), name="static")

    @app.get(
        "/healthz",
        tags=["health"],
        summary="Liveness and database reachability",
        response_model=Health,
        responses={503: {"model": Health, "description": "the database cannot be reached"}},
    )
    def healthz(database: Db) -> JSONResponse:
        try:
            with database.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:  # noqa: BLE001 - any failure means unhealthy
            return JSONResponse({"status": "unavailable", "database": str(exc)[:200]}, status_code=503)
        body: dict[str, Any] = {"status": "ok", "database": database.engine.dialect.name}
        return JSONResponse(body)

    return app
