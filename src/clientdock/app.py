"""The FastAPI application: routers, problem details, idempotency, health."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel, Field
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool
from starlette.routing import compile_path

from clientdock.admin.routes import router as admin_router
from clientdock.apps import access as app_access
from clientdock.apps.routes import router as apps_router
from clientdock.bodylimit import BodyLimitMiddleware
from clientdock.clients.routes import router as clients_router
from clientdock.connections import door as connection_door
from clientdock.connections.routes import router as connections_router
from clientdock.db import Database, database_for
from clientdock.deps import Db
from clientdock.imports import enrich, file_records, files, upload
from clientdock.imports.respond import WaiterCap
from clientdock.imports.routes import router as imports_router
from clientdock.jobs.engine import JobEngine
from clientdock.notify import job_events
from clientdock.notify.routes import router as notify_router
from clientdock.openapi import install_openapi, operation_id
from clientdock.problems import install as install_problems
from clientdock.settings import Settings, get_settings
from clientdock.tenants import idempotency
from clientdock.tenants.ratelimit import RateLimitMiddleware, TokenBuckets
from clientdock.web.routes import router as web_router
from clientdock.web.templating import static_files

DESCRIPTION = """
clientdock brings client records into a firm's client base through every door — CSV and
spreadsheet upload, a bulk API, an idempotent single upsert, connected accounting platforms
and partner apps — through one pipeline (map → validate → normalise → match → apply → report).

**Auth**: `X-API-Key: <key>` or `Authorization: Bearer <key>`. Missing/invalid key → 401;
a key of another tenant or without the scope → 403.

**Limits**: each API key may make `CLIENTDOCK_RATE_LIMIT_PER_SECOND` requests a second (bursts
of `CLIENTDOCK_RATE_LIMIT_BURST`) per API process; past that → 429 with `Retry-After` (seconds).
A request body over `CLIENTDOCK_MAX_JSON_BYTES` (an upload: over `CLIENTDOCK_MAX_UPLOAD_BYTES`)
→ 413, refused before it is read.

**Errors** are RFC 9457 problem details with an `errors` list naming field (and row).
400 bad input, 409 conflict, 413 too large, 415 wrong media type, 429 rate limited; 422 only
for a reused `Idempotency-Key`.

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
            # The read engine: on SQLite a probe must not queue behind an import's write transaction.
            with database.read_engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:  # noqa: BLE001 - any failure means unhealthy
            return JSONResponse({"status": "unavailable", "database": str(exc)[:200]}, status_code=503)
        body: dict[str, Any] = {"status": "ok", "database": database.engine.dialect.name}
        return JSONResponse(body)

    install_limits(app, settings)
    return app


def install_limits(app: FastAPI, settings: Settings) -> None:
    """The abuse limits, outermost (added last, run first): the per-key rate limit refuses before
    anything is read; then the body limit, before the Idempotency-Key check reads a body."""
    uploads = [
        (compile_path(context.path_format)[0], upload.body_bound(settings.max_upload_bytes))
        for context in iter_route_contexts(app.routes)
        if context.path_format is not None and getattr(context.original_route, "endpoint", None) in upload.STREAMING_ROUTES
    ]
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_json_bytes, own=uploads)
    app.state.rate_limits = None
    if settings.rate_limit_per_second > 0:
        app.state.rate_limits = TokenBuckets(settings.rate_limit_per_second, settings.rate_limit_burst)
        app.add_middleware(RateLimitMiddleware, buckets=app.state.rate_limits)
