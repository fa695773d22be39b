"""A lean HTTP/1.1 client for load on loopback: one keep-alive connection, JSON POSTs.

httpx spends over a millisecond of CPU per request, which on a 2-core machine takes a good part
of a core from the service at a few hundred requests a second. This client writes the request
bytes and reads the answer's status, headers and body (``Content-Length`` or chunked), about a
tenth of that, so the figures are the service's.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any


class Connection:
    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self.host, self.port = host, port
        self.head = "".join(f"{name}: {value}\r\n" for name, value in {"Host": f"{host}:{port}", **headers}.items())
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def post_json(self, path: str, payload: Any) -> tuple[int, bytes]:
        """POST ``payload`` as JSON; the answer's status and body. A dropped connection is opened again next time."""
        body = json.dumps(payload).encode()
        request = f"POST {path} HTTP/1.1\r\n{self.head}Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        if self.streams is None:
            self.streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self.streams
        try:
            writer.write(request.encode() + body)
            await writer.drain()
            status, headers = await self._head(reader)
            if headers.get("transfer-encoding") == "chunked":
                answer = await self._chunked(reader)
            else:
                answer = await reader.readexactly(int(headers.get("content-length", "0")))
            if headers.get("connection") == "close":
                await self.close()
            return status, answer
        except BaseException:
            await self.close()
            raise

    @staticmethod
    async def _head(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
        lines = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip().lower()
        return status, headers

    @staticmethod
    async def _chunked(reader: asyncio.StreamReader) -> bytes:
        parts: list[bytes] = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                return b"".join(parts)
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)

    async def close(self) -> None:
        if self.streams is not None:
            writer = self.streams[1]
            self.streams = None
            writer.close()
            try:
                await writer.wait_closed()
            except OSError:
                pass
