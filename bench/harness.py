"""What the benchmarks share: a throwaway database (SQLite file, or a PostgreSQL database
created and dropped), a tenant with its key, the service — under uvicorn in this process
(``served``, for the cases that need the test fakes beside it) or as a real ``clientdock serve``
child (``Service``, whose memory is measured and which can be profiled) — polling an import to
its end, the machine's description, and printing a figure as one JSON line."""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import httpx
import psycopg
import uvicorn

import clientdock
from clientdock.app import create_app
from clientdock.db import Database
from clientdock.migrate import upgrade
from clientdock.settings import Settings
from clientdock.tenants import service as tenants
from clientdock.tenants.models import Tenant

TENANT = "bench"
ROOT = Path(__file__).resolve().parents[1]
TERMINAL = ("succeeded", "failed", "cancelled")
BACKENDS = ("sqlite", "postgresql")


@dataclass(frozen=True)
class Place:
    data_dir: Path
    url: str
    backend: str


@contextmanager
def throwaway(postgres_admin_url: str | None) -> Iterator[Place]:
    """A data folder and an empty database: a SQLite file in it, or a PostgreSQL database."""
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        if not postgres_admin_url:
            yield Place(data_dir, f"sqlite:///{data_dir / 'bench.db'}", "sqlite")
            return
        name = f"cdbench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            yield Place(data_dir, postgres_admin_url.rsplit("/", 1)[0] + f"/{name}", "postgresql")
        finally:
            with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def tenant_key(url: str, settings: dict[str, Any] | None = None) -> tuple[Database, str]:
    """Migrate the database and make the tenant ``bench`` (with ``settings``); its API key."""
    upgrade(url)
    db = Database(url)
    with db.session() as session:
        tenant = tenants.create_tenant(session, TENANT)
        tenant.settings = dict(settings or {})
        key = tenants.issue_key(session, kind="tenant", tenant_id=tenant.id).key
    return db, key


def add_tenant(db: Database, code: str) -> tuple[str, str]:
    """A second tenant (the reference writes under it): its id and its Unassigned group's id."""
    from clientdock.tenants.context import load_context

    with db.session() as session:
        tenant = tenants.create_tenant(session, code)
        session.flush()
        ctx = load_context(session, session.get_one(Tenant, tenant.id))
        return tenant.id, ctx.unassigned_group_id


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def served(settings: Settings, db: Database, port: int) -> Iterator[str]:
    """The service (job workers included) on ``port`` in this process for the length of the block; its base URL."""
    server = uvicorn.Server(uvicorn.Config(create_app(settings, db), host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True


class Service:
    """``clientdock serve`` as a child process on ``place``: its base URL, its memory, its profile.

    With ``profile`` the child runs under ``bench.sampler``, which samples every thread of the
    service (the import runs on a job worker thread) and writes a pyinstrument profile when the
    service stops.
    """

    def __init__(self, place: Place, *, profile: Path | None = None, extra_env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "CLIENTDOCK_DATA_DIR": str(place.data_dir),
            "CLIENTDOCK_DATABASE_URL": place.url,
            "CLIENTDOCK_PORT": str(self.port),
            "CLIENTDOCK_MAX_UPLOAD_BYTES": str(4 * 1024**3),
            # One key sends the whole load: the figures are the service's, not the per-key limit's.
            "CLIENTDOCK_RATE_LIMIT_PER_SECOND": "0",
            **(extra_env or {}),
        }
        # The child imports the same clientdock as this process, and bench (for the sampler).
        paths = (str(ROOT), str(Path(clientdock.__file__).resolve().parents[1]), os.environ.get("PYTHONPATH", ""))
        env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
        command = [sys.executable, "-m", "clientdock.cli", "serve"]
        if profile is not None:
            command = [sys.executable, "-m", "bench.sampler", str(profile), "--", "serve"]
        self.log_path = place.data_dir / f"serve-{self.port}.log"
        self._log: IO[bytes] = self.log_path.open("wb")
        self.process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT)
        self._wait_healthy()

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"clientdock serve exited ({self.process.returncode}):\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.base}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise SystemExit(f"clientdock serve did not answer /healthz:\n{self.log_tail()}")

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_path.read_bytes()[-chars:].decode(errors="replace")

    def _status(self, field: str) -> int:
        """A ``/proc/<pid>/status`` memory figure in KiB (``VmRSS``, ``VmHWM``)."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
        raise KeyError(field)

    @contextmanager
    def peak_rss(self) -> Iterator[dict[str, float]]:
        """The child's peak RSS (MiB) over the block, in ``["peak_rss_mib"]`` when it ends.

        The kernel's high-water mark is reset at the start (``clear_refs`` 5) so a phase's
        peak is its own; the RSS is also sampled every 50 ms, in case the reset is refused.
        """
        try:
            Path(f"/proc/{self.process.pid}/clear_refs").write_text("5")
            reset = True
        except OSError:
            reset = False
        result: dict[str, float] = {}
        seen = [self._status("VmRSS")]
        stop = threading.Event()

        def sample() -> None:
            while not stop.wait(0.05):
                try:
                    seen.append(self._status("VmRSS"))
                except (OSError, KeyError):
                    return

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            yield result
        finally:
            stop.set()
            sampler.join()
            high = max(seen)
            if reset:
                high = max(high, self._status("VmHWM"))
            result["peak_rss_mib"] = round(high / 1024, 1)

    def start_profile(self) -> None:
        """Start the sampler of a profiled child (it records from now until the service stops)."""
        self.process.send_signal(signal.SIGUSR1)
        time.sleep(0.05)

    def stop(self) -> None:
        """Stop the service (SIGTERM, so a profile is written) and wait for it."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


@contextmanager
def service(place: Place, *, profile: Path | None = None) -> Iterator[Service]:
    child = Service(place, profile=profile)
    try:
        yield child
    finally:
        child.stop()


def machine() -> dict[str, object]:
    return {"machine": platform.machine(), "cpus": len(os.sched_getaffinity(0)), "python": platform.python_version()}


def finished(api: httpx.Client, key: str, job: dict[str, Any], interval: float = 0.2, *, report: str | None = None) -> dict[str, Any]:
    """Poll an import of the tenant until it ends; with ``report``, say how far it is on stderr every 10 s."""
    said = time.monotonic()
    while job["status"] not in TERMINAL:
        time.sleep(interval)
        job = api.get(f"/tenants/{TENANT}/imports/{job['id']}", headers={"X-API-Key": key}).json()
        if report and time.monotonic() - said >= 10:
            said = time.monotonic()
            done, total = job["progress"]["done"], job["progress"]["total"]
            print(f"bench: {report}: {job['status']}, {done:,} of {total:,} rows", file=sys.stderr, flush=True)
    return job


def moment(iso: str) -> float:
    """A timestamp the service wrote (UTC; SQLite gives it back without its zone) as epoch seconds."""
    parsed = datetime.fromisoformat(iso)
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


def emit(figure: dict[str, Any]) -> None:
    """One figure: one JSON line on stdout, with the machine it was measured on."""
    print(json.dumps({**figure, **machine()}), flush=True)


def ratio(ours: float, reference: float) -> float | None:
    return round(ours / reference, 2) if reference > 0 else None


def add_database_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--postgres", default=None, metavar="ADMIN_URL", help="PostgreSQL admin URL; a throwaway database is created and dropped per run"
    )
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS), help="default both; postgresql needs --postgres")


def backends(args: argparse.Namespace) -> Iterator[str | None]:
    """The admin URL of each database kind asked for: None for SQLite."""
    for backend in args.backends:
        if backend == "sqlite":
            yield None
        elif args.postgres:
            yield args.postgres
        else:
            print("bench: postgresql skipped (no --postgres URL)", file=sys.stderr, flush=True)
