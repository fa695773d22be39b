"""The ``clientdock`` command: serve, migrate, tenants, keys, users (exact forms scripts rely on)."""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from clientdock.db import Database, database_for
from clientdock.errors import ClientdockError
from clientdock.settings import ConfigurationError, get_settings

app = typer.Typer(help="clientdock: import client records through every door.", no_args_is_help=True, add_completion=False)
tenant_app = typer.Typer(help="Manage tenants.", no_args_is_help=True)
key_app = typer.Typer(help="Manage tenant API keys.", no_args_is_help=True)
platform_key_app = typer.Typer(help="Manage the platform credential.", no_args_is_help=True)
user_app = typer.Typer(help="Manage people who sign in to the web page.", no_args_is_help=True)
app.add_typer(tenant_app, name="tenant")
app.add_typer(key_app, name="key")
app.add_typer(platform_key_app, name="platform-key")
secrets_app = typer.Typer(help="Manage the key that encrypts secrets at rest.", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(secrets_app, name="secrets")

#: The length of job_executors.executor_id.
MAX_EXECUTOR_ID = 128
DatabaseUrl = Annotated[str | None, typer.Option("--database-url", help="Overrides CLIENTDOCK_DATABASE_URL.")]


def _database(url: str | None = None) -> Database:
    settings = get_settings()
    if url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return database_for(url or settings.resolved_database_url)


def _emit(payload: dict[str, object]) -> None:
    typer.echo(json.dumps(payload))


@contextmanager
def _refusing_bad_settings() -> Iterator[None]:
    """A setting that cannot be used ends the command with its name and why (exit 2), not a traceback."""
    try:
        yield
    except ConfigurationError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from exc


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=1)


@app.command()
def migrate(database_url: DatabaseUrl = None) -> None:
    """Apply database migrations (ours, and the job engine's own tables)."""
    from clientdock.jobs.engine import JobEngine
    from clientdock.migrate import upgrade

    db = _database(database_url)
    upgrade(db.url)
    JobEngine(get_settings(), db).migrate()
    typer.echo(f"migrated {db.engine.url.render_as_string(hide_password=True)}")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Default CLIENTDOCK_HOST or 127.0.0.1.")] = None,
    port: Annotated[int | None, typer.Option(help="Default CLIENTDOCK_PORT or 8000.")] = None,
    no_workers: Annotated[
        bool,
        typer.Option(
            "--no-workers",
            help="Serve the API only: imports are queued for `clientdock worker` processes (as CLIENTDOCK_START_WORKERS=false).",
        ),
    ] = False,
) -> None:
    """Migrate, create the demo tenant on first start, and serve the API and web page (and run the jobs, unless --no-workers)."""
    from clientdock.server import run_server

    settings = get_settings()
    if no_workers:
        settings = settings.model_copy(update={"start_workers": False})
    with _refusing_bad_settings():
        run_server(settings, host or settings.host, port or settings.port)


@app.command()
def worker(
    executor_id: Annotated[
        str | None,
        typer.Option("--executor-id", help="This worker's stable name. Default CLIENTDOCK_EXECUTOR_ID if set, else the host name."),
    ] = None,
    concurrency: Annotated[
        int | None, typer.Option("--concurrency", min=1, help="Imports run at once. Default CLIENTDOCK_WORKER_CONCURRENCY (4).")
    ] = None,
) -> None:
    """Run imports, enrichment jobs and webhook deliveries (no HTTP) until SIGTERM or SIGINT."""
    from clientdock.worker import run_worker, worker_settings

    if executor_id is not None:
        executor_id = executor_id.strip()
        if not 0 < len(executor_id) <= MAX_EXECUTOR_ID:
            raise typer.BadParameter(f"give 1 to {MAX_EXECUTOR_ID} characters", param_hint="--executor-id")
    with _refusing_bad_settings():
        code = run_worker(worker_settings(get_settings(), executor_id, concurrency))
    raise typer.Exit(code=code)


@tenant_app.command("create")
def tenant_create(
    code: str, name: Annotated[str | None, typer.Option(help="Display name.")] = None, database_url: DatabaseUrl = None
) -> None:
    """Create a tenant; prints {"tenant": CODE, "apiKey": "..."} once."""
    from clientdock.tenants import service

    db = _database(database_url)
    try:
        with db.session() as session:
            tenant = service.create_tenant(session, code, name)
            issued = service.issue_key(session, kind="tenant", tenant_id=tenant.id)
    except ClientdockError as exc:
        _fail(exc.detail)
        return
    _emit({"tenant": code, "apiKey": issued.key})


@key_app.command("create")
def key_create(
    tenant: Annotated[str, typer.Option("--tenant", help="Tenant code.")],
    scope: Annotated[list[str] | None, typer.Option("--scope", help="Repeat for several; default all.")] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Create an API key for a tenant; prints {"tenant", "keyId", "apiKey", "scopes"} once."""
    from clientdock.tenants import service

    db = _database(database_url)
    try:
        with db.session() as session:
            row = service.get_tenant(session, tenant)
            issued = service.issue_key(session, kind="tenant", tenant_id=row.id, scopes=scope or None)
            scopes = list(scope or service.TENANT_SCOPES)
    except ClientdockError as exc:
        _fail(exc.detail)
        return
    _emit({"tenant": tenant, "keyId": issued.id, "apiKey": issued.key, "scopes": scopes})


@key_app.command("revoke")
def key_revoke(key_id: str, database_url: DatabaseUrl = None) -> None:
    """Revoke an API key by its id."""
    from clientdock.tenants import service

    db = _database(database_url)
    try:
        with db.session() as session:
            service.revoke_key(session, key_id)
    except ClientdockError as exc:
        _fail(exc.detail)
        return
    _emit({"keyId": key_id, "revoked": True})


@secrets_app.command("rotate")
def secrets_rotate(database_url: DatabaseUrl = None) -> None:
    """Encrypt every kept secret again with the first key of CLIENTDOCK_SECRET_KEY; prints the counts.
    Exit 1 when some value no configured key opens (listed by id)."""
    from clientdock.rekey import rotate_all

    report = rotate_all(_database(database_url), get_settings().data_dir)
    _emit(report.as_json())
    if report.unreadable:
        raise typer.Exit(code=1)


@platform_key_app.command("create")
def platform_key_create(database_url: DatabaseUrl = None) -> None:
    """Create a platform credential (manages tenants and partner apps); prints {"apiKey": ...}."""
    from clientdock.tenants import service

    db = _database(database_url)
    with db.session() as session:
        issued = service.issue_key(session, kind="platform")
    _emit({"apiKey": issued.key, "keyId": issued.id})


@user_app.command("create")
def user_create(
    email: str, tenant: Annotated[str, typer.Option("--tenant", help="Tenant code.")], database_url: DatabaseUrl = None
) -> None:
    """Create a web user of a tenant with a generated password; prints {"email", "password"} once."""
    from clientdock.tenants import service as tenants
    from clientdock.users import service as users

    db = _database(database_url)
    try:
        with db.session() as session:
            created = users.create_user(session, tenants.get_tenant(session, tenant), email)
    except ClientdockError as exc:
        _fail(exc.detail)
        return
    _emit({"email": created.user.email, "password": created.password})


@app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(help="The CSV or spreadsheet (.xlsx, .xls, .ods).")],
    tenant: Annotated[str, typer.Option("--tenant", help="Tenant code.")],
    mapping: Annotated[Path | None, typer.Option("--mapping", help='A JSON file {"Column header": "clientField"}.')] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check and count; write nothing.")] = False,
    encoding: Annotated[str | None, typer.Option("--encoding", help="Text encoding of a CSV (detected by default).")] = None,
    sheet: Annotated[str | None, typer.Option("--sheet", help="Sheet of a workbook (default: the first).")] = None,
    on_existing: Annotated[
        str | None,
        typer.Option("--on-existing", help="A row matching a client: update (default), fillEmpty (only its empty fields) or skip."),
    ] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Import clients from a file, as the upload does; exit 0 all imported, 2 some rows failed, 1 refused."""
    from rich.console import Console

    from clientdock.cli_import import CliImport, run_import

    base = get_settings()
    settings = base.model_copy(update={"database_url": database_url or base.database_url, "executor_id": f"cli-{uuid.uuid4().hex[:12]}"})
    wanted = CliImport(file, tenant, mapping, dry_run, encoding, sheet, on_existing)
    raise typer.Exit(code=run_import(settings, wanted, Console()))


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
