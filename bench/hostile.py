"""Case ``hostile``: hostile files and payloads sent to a real ``clientdock serve`` with its
default limits (50 MiB uploads): the status, the time to the answer and the service's peak RSS
while it answers (``peak_rss_mib``, reset before each input). The inputs are those of
``tests/test_hostile_input.py`` plus a 1 GiB upload streamed without a Content-Length."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Iterator

import httpx
from tests.test_hostile_input import BILLION_LAUGHS, a_workbook_with

from bench.harness import TENANT, Service, add_database_arguments, backends, emit, tenant_key, throwaway

GIB_PARTS = 1024
MIB = 1024 * 1024


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_database_arguments(parser)


def _gib_body() -> Iterator[bytes]:
    yield b'--x\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n\r\n'
    chunk = b"a" * MIB
    for _ in range(GIB_PARTS):
        yield chunk
    yield b"\r\n--x--\r\n"


def inputs(api: httpx.Client, key: str) -> dict[str, Callable[[], httpx.Response]]:
    headers = {"X-API-Key": key}
    upload = f"/tenants/{TENANT}/clients/import/csv"

    def file(content: bytes, name: str = "clients.csv") -> Callable[[], httpx.Response]:
        return lambda: api.post(upload, files={"file": (name, content)}, headers=headers)

    columns = ",".join(["firstName", "email", *(f"extra{i}" for i in range(9998))])
    row = ",".join(["Ada", "ada@firm.co.uk", *("x" for _ in range(9998))])
    nested = "[" * 100_000 + "]" * 100_000
    return {
        "zip bomb xlsx (260 MiB unpacked)": file(a_workbook_with(padding=260 * MIB), "clients.xlsx"),
        "billion laughs xlsx": file(a_workbook_with(BILLION_LAUGHS.encode()), "clients.xlsx"),
        "10 MB cell": file(b"firstName,email,note\nAda,ada@firm.co.uk," + b"x" * 10_000_000 + b"\n"),
        "10,000 columns": file(f"{columns}\n{row}\n".encode()),
        "NUL bytes": file(b"firstName,email\nA\x00da,ada@firm.co.uk\n"),
        "JSON nested 100,000 deep": lambda: api.post(
            f"/tenants/{TENANT}/clients/upsert", content=nested, headers={**headers, "content-type": "application/json"}
        ),
        "1 GiB upload, chunked, no Content-Length": lambda: api.post(
            upload, content=_gib_body(), headers={**headers, "content-type": "multipart/form-data; boundary=x"}
        ),
    }


def run(args: argparse.Namespace) -> None:
    for admin_url in backends(args):
        with throwaway(admin_url) as place:
            _db, key = tenant_key(place.url)
            service = Service(place, extra_env={"CLIENTDOCK_MAX_UPLOAD_BYTES": str(50 * MIB)})
            try:
                with httpx.Client(base_url=service.base, timeout=300) as api:
                    for name, send in inputs(api, key).items():
                        with service.peak_rss() as memory:
                            started = time.monotonic()
                            status = send().status_code
                            seconds = time.monotonic() - started
                        emit({"case": "hostile", "backend": place.backend, "input": name, "status": status,
                              "seconds": round(seconds, 3), "peak_rss_mib": memory["peak_rss_mib"]})  # fmt: skip
            finally:
                service.stop()
