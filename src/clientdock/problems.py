"""RFC 9457 problem details for every error, with a machine-readable ``errors`` list."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from clientdock.errors import ClientdockError, FieldError

log = structlog.get_logger(__name__)
PROBLEM = "application/problem+json"


def problem(status: int, title: str, detail: str, errors: list[FieldError] | None = None, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "errors": [e.as_dict() for e in errors or []],
        **extra,
    }
    headers = {"Retry-After": str(extra["retryAfter"])} if "retryAfter" in extra else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def field_of(loc: tuple[Any, ...]) -> tuple[str | None, int | None]:
    """Turn a pydantic location such as ('body', 'users', 3, 'email') into ('users[3].email', 3)."""
    parts = [p for p in loc if p not in ("body", "query", "path", "header")]
    row = next((p for p in parts if isinstance(p, int)), None)
    name = ""
    for part in parts:
        if isinstance(part, int):
            name += f"[{part}]"
        else:
            name += ("." if name else "") + str(part)
    return (name or None), row


def _validation_errors(exc: RequestValidationError) -> list[FieldError]:
    out = []
    for err in exc.errors():
        name, row = field_of(tuple(err.get("loc", ())))
        if err.get("type") == "json_invalid" or name is None:
            name = name or "body"
        out.append(FieldError(name, str(err.get("msg", "invalid")), row))
    return out


def install(app: FastAPI) -> None:
    @app.exception_handler(ClientdockError)
    async def _domain(_request: Request, exc: ClientdockError) -> JSONResponse:
        return problem(exc.status, exc.title, exc.detail, exc.errors)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _validation_errors(exc)
        detail = "; ".join(f"{e.field}: {e.message}" for e in errors[:10])
        return problem(400, "Bad request", detail or "invalid request", errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(exc.status_code, str(exc.detail), str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled_error", path=request.url.path)
        return problem(500, "Internal error", "an unexpected error occurred; it has been logged")
