"""A real webhook receiver on loopback and helpers to register webhooks and end jobs."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from fastapi.testclient import TestClient

from clientdock.db import Database
from clientdock.notify import service
from tests.conftest import TenantInfo


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class Receiver:
    """A webhook endpoint on 127.0.0.1 that records requests and answers from a script."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.replies: deque[Reply] = deque()
        self.default = Reply()
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/clientdock"

    def reply(self, *replies: Reply) -> None:
        self.replies.extend(replies)

    def _next(self, received: Received) -> Reply:
        with self._lock:
            self.requests.append(received)
            return self.replies.popleft() if self.replies else self.default

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                reply = receiver._next(Received(self.path, dict(self.headers.items()), body))
                time.sleep(reply.delay)
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def register(client: TestClient, tenant: TenantInfo, url: str, **body: Any) -> dict[str, Any]:
    response = client.post(tenant.path("/webhooks"), json={"url": url, **body}, headers=tenant.headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def job_payload(*, job_id: str = "job1", status: str = "succeeded", **counts: int) -> dict[str, Any]:
    full = {"created": 0, "updated": 0, "unchanged": 0, "skipped": 0, "failed": 0, **counts}
    links = {"job": f"/tenants/acme/imports/{job_id}", "errors": f"/tenants/acme/imports/{job_id}/errors.csv"}
    return {"jobId": job_id, "door": "csv", "status": status, "counts": full, "links": links}


def finish_job(database: Database, tenant_id: str, event: str = "import.completed", **kwargs: Any) -> dict[str, Any]:
    payload = job_payload(**kwargs)
    with database.session() as session:
        service.job_finished(session, tenant_id, event, payload)
    return payload
