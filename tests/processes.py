"""clientdock as real child processes: ``serve`` (waited for until it answers) and ``worker``."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.secret_watch import watch_output

#: The venv's ``clientdock`` command (its code is this checkout's: the tests' PYTHONPATH is inherited).
CLIENTDOCK = str(Path(sys.executable).with_name("clientdock"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Process:
    """A ``clientdock`` command in a child process, its output appended to ``log``."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path, *, command: list[str] | None = None) -> None:
        self.command = [*(command or [sys.executable, "-m", "clientdock.cli"]), *args]
        self.env = {**os.environ, **env}
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        watch_output(self.log)
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(self.command, env=self.env, stdout=out, stderr=out)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill9(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def terminate(self, timeout: float = 60) -> int:
        """SIGTERM, then its exit code."""
        assert self.proc is not None
        self.proc.terminate()
        return self.proc.wait(timeout=timeout)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()


class Service(Process):
    """``clientdock serve`` (plus ``args``), started once it answers ``/healthz``."""

    def __init__(self, env: dict[str, str], log: Path, args: tuple[str, ...] = (), *, command: list[str] | None = None) -> None:
        self.port = free_port()
        super().__init__(["serve", *args], {**env, "CLIENTDOCK_PORT": str(self.port)}, log, command=command)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        super().start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise AssertionError(f"service did not start: {self.output()[-2000:]}")
