"""A scale-out deployment on one machine: API processes (``clientdock serve --no-workers``) and
workers (``clientdock worker``) as real child processes on loopback, sharing one PostgreSQL
database and nothing else (each has its own data folder).

Each child gets its own session (process group), so stopping it also stops the helper
processes it started (the prepare-ahead helper); its output goes to a log file whose tail
failure messages quote. Used by ``tests/scaleout`` and by ``python -m bench workers``.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx
from cryptography.fernet import Fernet

import clientdock
from tests.secret_watch import watch_output

#: How long a child may take to answer (an API) or to appear in ``GET /admin/workers`` (a worker).
START_TIMEOUT = 120.0
STOP_TIMEOUT = 20.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def child_environment(extra: dict[str, str]) -> dict[str, str]:
    """This process's environment without any ``CLIENTDOCK_*`` setting (a child gets only the
    settings it is given), and with the ``clientdock`` this process imports on its path."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("CLIENTDOCK_")}
    source = str(Path(clientdock.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (source, os.environ.get("PYTHONPATH", "")) if p)
    return {**env, **extra}


@dataclass
class Child:
    """One ``clientdock`` child process and its log."""

    name: str
    args: list[str]
    env: dict[str, str]
    log_path: Path
    port: int | None = None
    process: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = field(default=None, repr=False)

    @property
    def base(self) -> str:
        assert self.port is not None, f"{self.name} serves no HTTP"
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> None:
        watch_output(self.log_path)
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "clientdock.cli", *self.args],
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill9(self) -> None:
        """SIGKILL the process itself (not its helpers: a crash leaves them to notice) and reap it."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=STOP_TIMEOUT)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it lingers; then SIGKILL whatever is left of its process group."""
        if self.process is not None:
            if self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(timeout=STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(timeout=STOP_TIMEOUT)
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if self._log is not None:
            self._log.close()
            self._log = None

    def tail(self, lines: int = 25) -> str:
        if not self.log_path.exists():
            return ""
        text = self.log_path.read_bytes()[-20_000:].decode(errors="replace")
        return "\n".join(text.splitlines()[-lines:])


class Cluster:
    """API processes and workers on one PostgreSQL database; ``stop`` ends every one of them.

    ``settings`` (``CLIENTDOCK_*`` names to values) go to every child besides the database URL,
    a shared ``CLIENTDOCK_SECRET_KEY`` and the child's own ``CLIENTDOCK_DATA_DIR`` under ``root``.
    """

    def __init__(self, root: Path, database_url: str, settings: dict[str, str] | None = None) -> None:
        self.root = root
        self.database_url = database_url
        self.settings = {
            "CLIENTDOCK_DATABASE_URL": database_url,
            "CLIENTDOCK_SECRET_KEY": Fernet.generate_key().decode(),
            **(settings or {}),
        }
        self.children: dict[str, Child] = {}
        #: Children seen ready by ``wait_ready`` (a later call waits only for the others).
        self.ready: set[str] = set()
        self._platform_key: str | None = None

    def _child(self, name: str, args: list[str], port: int | None = None) -> Child:
        if name in self.children:
            raise ValueError(f"{name} already exists")
        data_dir = self.root / name
        data_dir.mkdir(parents=True, exist_ok=True)
        env = child_environment({**self.settings, "CLIENTDOCK_DATA_DIR": str(data_dir)})
        child = Child(name, args, env, self.root / f"{name}.log", port)
        self.children[name] = child
        child.start()
        return child

    def cli(self, *args: str) -> dict[str, Any]:
        """Run a one-shot ``clientdock`` command (its own data folder); its JSON answer, if any."""
        data_dir = self.root / "cli"
        data_dir.mkdir(parents=True, exist_ok=True)
        env = child_environment({**self.settings, "CLIENTDOCK_DATA_DIR": str(data_dir)})
        done = subprocess.run(
            [sys.executable, "-m", "clientdock.cli", *args], env=env, capture_output=True, text=True, timeout=START_TIMEOUT, check=False
        )
        if done.returncode != 0:
            raise AssertionError(f"clientdock {' '.join(args)} exited {done.returncode}:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
        last = done.stdout.strip().splitlines()[-1:] or [""]
        try:
            answer: dict[str, Any] = json.loads(last[0])
        except json.JSONDecodeError:
            return {}
        return answer

    def tenant(self, code: str) -> str:
        """Create a tenant; its API key."""
        return str(self.cli("tenant", "create", code)["apiKey"])

    @property
    def platform_key(self) -> str:
        if self._platform_key is None:
            self._platform_key = str(self.cli("platform-key", "create")["apiKey"])
        return self._platform_key

    def api(self, name: str) -> Child:
        """Start ``clientdock serve --no-workers`` on a free port (``wait_ready`` waits for it)."""
        port = free_port()
        return self._child(name, ["serve", "--no-workers", "--port", str(port)], port)

    def worker(self, name: str, concurrency: int) -> Child:
        """Start ``clientdock worker`` with executor id ``name``."""
        return self._child(name, ["worker", "--executor-id", name, "--concurrency", str(concurrency)])

    @property
    def apis(self) -> list[Child]:
        return [c for c in self.children.values() if c.port is not None]

    @property
    def workers(self) -> list[Child]:
        return [c for c in self.children.values() if c.port is None]

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        """Every API started since the last call answers ``/healthz`` and every such worker is
        listed alive by ``GET /admin/workers``; one that exited instead fails the wait."""
        deadline = time.monotonic() + timeout
        pending = set(self.children) - self.ready
        while pending and time.monotonic() < deadline:
            for name in sorted(pending):
                child = self.children[name]
                if not child.running():
                    raise AssertionError(f"{name} exited ({child.process and child.process.returncode}) while starting\n{self.logs()}")
            for child in self.apis:
                if child.name in pending and _answers(f"{child.base}/healthz"):
                    pending.discard(child.name)
                    self.ready.add(child.name)
            live_api = next((c for c in self.apis if c.name in self.ready and c.running()), None)
            if live_api is not None and any(w.name in pending for w in self.workers):
                for name in set(self.alive_workers(live_api)) & pending:
                    pending.discard(name)
                    self.ready.add(name)
            if pending:
                time.sleep(0.2)
        if pending:
            raise AssertionError(f"not ready after {timeout:.0f} s: {sorted(pending)}\n{self.logs()}")

    def alive_workers(self, api: Child) -> list[str]:
        """Executor ids ``GET /admin/workers`` of ``api`` says are alive."""
        try:
            answer = httpx.get(f"{api.base}/admin/workers", headers={"X-API-Key": self.platform_key}, timeout=10)
        except httpx.HTTPError:
            return []
        if answer.status_code != 200:
            return []
        body = answer.json()
        items = body["items"] if isinstance(body, dict) and "items" in body else body
        return [str(w["executorId"]) for w in items if w.get("alive")]

    def logs(self, lines: int = 25) -> str:
        """The tail of every child's log, for a failure message."""
        return "\n".join(f"--- {c.name} (pid {c.process and c.process.pid}) {c.log_path}:\n{c.tail(lines)}" for c in self.children.values())

    def stop(self) -> None:
        for child in self.children.values():
            if child.process is not None and child.process.poll() is None:
                child.process.terminate()
        for child in self.children.values():
            child.stop()


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
