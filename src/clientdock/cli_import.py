"""``clientdock import FILE --tenant CODE``: the file door from the shell.

The same checks and the same job as ``POST .../clients/import/csv``, against the database
directly: a job engine runs in this process, a progress bar follows the job row (rows/s and
time left), and a summary table ends the run, followed by the first updates, before → after
(``--on-existing`` says what a match does: update, fillEmpty, skip). Exit codes: 0 every row
imported, 2 some rows failed (their report is written to errors.csv and its path printed), 1
the file or the request was refused (or the job itself failed).
"""

from __future__ import annotations

import json
import logging
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, Task, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text
from sqlalchemy.orm import Session

from clientdock.app import job_engine
from clientdock.db import Database, bind_tenant, utcnow
from clientdock.errors import BadRequest, ClientdockError
from clientdock.imports import files, service
from clientdock.imports.upload import too_large
from clientdock.jobs.models import ImportJob
from clientdock.jobs.policy import on_existing_of
from clientdock.jobs.workflow import TERMINAL
from clientdock.logs import configure
from clientdock.migrate import upgrade
from clientdock.pipeline.decoding import EncodingRefused
from clientdock.pipeline.existing import parse_on_existing
from clientdock.pipeline.report import ACTIONS
from clientdock.settings import Settings
from clientdock.tenants import service as tenants
from clientdock.tenants.context import load_context

OK, REFUSED, SOME_FAILED = 0, 1, 2
POLL_SECONDS = 0.25
UPDATES_SHOWN = 20


@dataclass(frozen=True)
class CliImport:
    file: Path
    tenant: str
    mapping_file: Path | None = None
    dry_run: bool = False
    encoding: str | None = None
    sheet: str | None = None
    #: ``--on-existing`` as typed: update (default), fillEmpty or skip.
    on_existing: str | None = None


class RowsPerSecond(ProgressColumn):
    """Rows per second since the job started (rich's own speed needs several samples)."""

    def render(self, task: Task) -> Text:
        rate = task.fields.get("rate")
        return Text(f"{rate:,.0f} rows/s" if rate else "- rows/s", style="progress.data.speed")


def _rate(job: ImportJob) -> float | None:
    if job.started_at is None or not job.done:
        return None
    seconds = ((job.finished_at or utcnow()) - job.started_at).total_seconds()
    return job.done / seconds if seconds > 0 else None


def run_import(settings: Settings, wanted: CliImport, console: Console) -> int:
    """Import ``wanted.file``; returns the exit code."""
    configure(settings.log_json, level=logging.WARNING)  # the progress bar tells the story
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.resolved_database_url)
    try:
        upgrade(db.url)
        return _run(settings, db, wanted, console)
    except ClientdockError as exc:
        console.print(f"[bold red]refused[/] ({exc.status}): {_refusal_text(exc)}", highlight=False, markup=True)
        return REFUSED
    finally:
        db.dispose()


def _refusal_text(exc: ClientdockError) -> str:
    """The refusal in the shell's words: an encoding problem names ``--encoding`` and its lines."""
    if not isinstance(exc, EncodingRefused):
        return exc.detail
    lines = "".join(f"\n  {error.message}" for error in exc.errors)
    return f"{exc.problem} Save the file as UTF-8, or give its encoding with --encoding (for example --encoding cp1252).{lines}"


def _run(settings: Settings, db: Database, wanted: CliImport, console: Console) -> int:
    with db.session() as session:
        tenant = tenants.get_tenant(session, wanted.tenant)
    mapping = _read_mapping(wanted.mapping_file)
    on_existing = parse_on_existing(wanted.on_existing, "--on-existing")
    upload = _copy_upload(settings, wanted.file)
    request = files.FileImport(
        path=upload, filename=wanted.file.name, mapping=mapping, encoding=wanted.encoding, sheet=wanted.sheet,
        dry_run=wanted.dry_run, started_by="cli", on_existing=on_existing,
    )  # fmt: skip
    engine = job_engine(settings, db)
    try:
        try:
            with _acting_for(db, tenant.id) as session:
                ctx = load_context(session, tenant)
            found = files.check(settings, ctx, request)
            engine.start()
            with _acting_for(db, tenant.id) as session:
                job_id = files.create(session, engine, settings, ctx, request, found).id
        finally:
            upload.unlink(missing_ok=True)
        job = _follow(db, tenant.id, job_id, console)
    finally:
        engine.stop()
    return _report(settings, db, job, console)


def _read_mapping(path: Path | None) -> dict[str, str] | None:
    if path is None:
        return None
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise BadRequest(f"cannot read the mapping file {path}: {exc.strerror}") from exc
    return files.parse_mapping(text)


def _copy_upload(settings: Settings, source: Path) -> Path:
    """A copy of the file in the uploads folder: the job keeps its own, whatever happens to the original."""
    if not source.is_file():
        raise BadRequest(f"no such file: {source}")
    folder = files.uploads_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{uuid.uuid4().hex}.upload"
    if source.stat().st_size > settings.max_upload_bytes:
        raise too_large(settings.max_upload_bytes)
    shutil.copyfile(source, target)
    return target


@contextmanager
def _acting_for(db: Database, tenant_id: str) -> Iterator[Session]:
    """A session of the import's tenant: once the tenant is read, the command works as the API
    does for that tenant (bound: on PostgreSQL row-level security sees its rows only)."""
    with db.session() as session:
        bind_tenant(session, tenant_id)
        yield session


def _load(db: Database, tenant_id: str, job_id: str) -> ImportJob:
    with _acting_for(db, tenant_id) as session:
        return session.get_one(ImportJob, job_id)


def _follow(db: Database, tenant_id: str, job_id: str, console: Console) -> ImportJob:
    """A progress bar over the job row until the job ends."""
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RowsPerSecond(),
        TimeRemainingColumn(),
    )
    job = _load(db, tenant_id, job_id)
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("dry run" if job.dry_run else "importing", total=job.total or None, rate=None)
        while True:
            job = _load(db, tenant_id, job_id)
            label = f"{'dry run' if job.dry_run else 'import'} {job.status}"
            progress.update(task, completed=job.done, total=job.total or None, description=label, rate=_rate(job))
            if job.status in TERMINAL:
                return job
            time.sleep(POLL_SECONDS)


def _report(settings: Settings, db: Database, job: ImportJob, console: Console) -> int:
    table = Table(title=f"{'Dry run' if job.dry_run else 'Import'} {job.status}", caption=f"job {job.id}", show_header=True)
    table.add_column("outcome")
    table.add_column("rows", justify="right")
    for action in ACTIONS:
        table.add_row(action, f"{getattr(job, action):,}")
    if job.warned:
        table.add_row("with warnings", f"{job.warned:,}")
    blank = int(job.summary.get("blankRecords") or 0)
    if blank:
        table.add_row("blank (skipped)", f"{blank:,}")
    console.print(table)
    console.print(f"existing clients: {on_existing_of(job.options or {})}", highlight=False, markup=False)
    if job.updated:
        _print_updates(db, job, console)
    unknown = job.summary.get("unknownColumns") or []
    if unknown:
        console.print(f"columns not imported: {json.dumps(unknown, ensure_ascii=False)}", highlight=False, markup=False)
    if job.status != "succeeded":
        console.print(f"the job {job.status}: {job.error or 'no reason recorded'}", highlight=False, markup=False)
        return REFUSED
    if not job.failed:
        if job.warned:
            path = _write_errors(settings, db, job)
            console.print(f"{job.warned:,} row(s) imported with warnings; their report: {path}", highlight=False, markup=False)
        return OK
    path = _write_errors(settings, db, job)
    console.print(f"{job.failed:,} row(s) failed; their report (fix and re-upload): {path}", highlight=False, markup=False)
    return SOME_FAILED


def _print_updates(db: Database, job: ImportJob, console: Console) -> None:
    """The first updated rows, field by field: before → after (what a dry run would change)."""
    with _acting_for(db, job.tenant_id) as session:
        rows, total = service.job_rows(session, job, "updated", 1, UPDATES_SHOWN)
    verb = "would change" if job.dry_run else "changed"
    console.print(f"{total:,} existing client(s) {verb}" + (f"; the first {len(rows)}:" if total > len(rows) else ":"), markup=False)
    for row in rows:
        where = f"line {row.line}" if row.line else f"row {row.row_index}"
        for field, change in (row.changes or {}).items():
            before, after = (json.dumps(change.get(k), ensure_ascii=False) for k in ("before", "after"))
            console.print(f"  {where} {field}: {before} → {after}", highlight=False, markup=False)


def _write_errors(settings: Settings, db: Database, job: ImportJob) -> Path:
    path = settings.data_dir / "imports" / job.id / "errors.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with _acting_for(db, job.tenant_id) as session, path.open("w", encoding="utf-8", newline="") as out:
        for line in service.errors_csv(session, session.get_one(ImportJob, job.id)):
            out.write(line)
    return path.resolve()
