"""A size limit on every request body, enforced before the body is read whole.

An ASGI middleware in front of everything else (the ``Idempotency-Key`` check reads a POST's
body before any route does): a body declared larger than the limit (``Content-Length``) is
answered 413 problem details at once, unread; a body without a declared length (chunked) is
counted as it arrives, and the moment it passes the limit the request is stopped with 413, so
no more than the limit is ever buffered, however slowly or endlessly it is sent.

The limit is ``CLIENTDOCK_MAX_JSON_BYTES`` for every route but the file uploads, which stream
their body to disk and keep their own larger limit and their own answers (413 naming the file,
the web dialog's page): on their paths only the streamed bytes are counted, against that larger
bound, for whatever reads the body before the route does.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clientdock.errors import FieldError
from clientdock.problems import problem

MIB: Final = 1024 * 1024


class BodyTooLarge(Exception):
    """Raised from ``receive`` when a streamed body passes its limit (the middleware answers 413)."""


def size_text(limit: int) -> str:
    mib = limit / MIB
    return f"{mib:g} MiB" if mib >= 1 else f"{limit} bytes"


def too_large(limit: int, declared: int | None = None) -> tuple[str, list[FieldError]]:
    sent = f" (Content-Length {declared})" if declared is not None else ""
    message = f"is larger than {size_text(limit)}{sent}, the most this endpoint accepts"
    detail = f"The request body {message}; send less in each request (for example smaller batches)."
    return detail, [FieldError("body", message, code="too_large")]


class BodyLimitMiddleware:
    """Refuse with 413 a request body over ``limit`` bytes (``own`` paths: their own bound, streamed bytes only)."""

    def __init__(self, app: ASGIApp, *, limit: int, own: Sequence[tuple[re.Pattern[str], int]] = ()) -> None:
        self.app = app
        self.limit = limit
        self.own = tuple(own)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, declared_too = self.limit, True
        path: str = scope["path"]
        root: str = scope.get("root_path", "")
        if root and path.startswith(root):  # behind a proxy's prefix: the route's own path
            path = path[len(root) :]
        for pattern, bound in self.own:
            if pattern.fullmatch(path):
                limit, declared_too = bound, False
                break
        declared = _content_length(scope["headers"])
        if declared is not None:
            if declared_too and declared > limit:
                await _refuse(limit, declared, scope, receive, send)
                return
            if declared <= limit:  # the server delivers no more than it declared
                await self.app(scope, receive, send)
                return
        await _Counted(self.app, limit)(scope, receive, send)


class _Counted:
    """One request whose body is counted as it is received."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit
        self.received = 0
        self.exceeded = False
        self.started = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def counted_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                self.received += len(message.get("body", b""))
                if self.received > self.limit:
                    self.exceeded = True
                    raise BodyTooLarge(f"request body over {self.limit} bytes")
            return message

        async def guarded_send(message: Message) -> None:
            if self.exceeded:  # whatever the app makes of the interrupted body, the answer is 413
                return
            if message["type"] == "http.response.start":
                self.started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if not self.exceeded or self.started:
                raise
        if self.exceeded and not self.started:
            await _refuse(self.limit, None, scope, receive, send)


def _content_length(headers: list[tuple[bytes, bytes]]) -> int | None:
    for name, value in headers:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


async def _refuse(limit: int, declared: int | None, scope: Scope, receive: Receive, send: Send) -> None:
    detail, errors = too_large(limit, declared)
    response = problem(413, "Payload too large", detail, errors)
    # The body is not read: the server closes the connection after this answer.
    response.headers["Connection"] = "close"
    await response(scope, receive, send)
