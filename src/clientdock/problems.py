"""RFC 9457 problem details for every error, with a machine-readable ``errors`` list."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg import DataError as DriverDataError
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel
from pydantic.json_schema import SkipJsonSchema
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from clientdock.errors import ClientdockError, FieldError

log = structlog.get_logger(__name__)
PROBLEM = "application/problem+json"
#: PostgreSQL cannot hold a NUL character in a text value (SQLite can). The import pipeline refuses
#: NUL in the values it reads, naming field and row; any other text of a request (a path or query
#: parameter, an id or code in a body) that carries one reaches the driver, which refuses it.
NUL_DETAIL = "a value of the request contains a NUL character (\\u0000), which cannot be stored or looked up"
#: Seconds a client is asked to wait (``Retry-After``) when the database is too busy to take its request.
BUSY_RETRY_AFTER = 5
BUSY_DETAIL = "the database is busy with other writes and could not take this request in time; nothing was written, retry later"


def bad_gateway(service: str) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route that calls ``service`` while the request waits: it answers
    502 problem details when that service fails (``clientdock.outbound.errors.ProviderError``,
    ``clientdock.enrichment.companies_house.CompaniesHouseError``); ``clientdock.openapi`` adds the body."""
    return {502: {"description": f"Bad gateway: {service} failed or could not be reached (after retries); `detail` says why"}}


def _no_default(schema: dict[str, Any]) -> None:
    """An optional key that is left out rather than sent as null: no ``default: null`` in the schema."""
    schema.pop("default", None)


class ProblemError(BaseModel):
    """One located problem: which field (and row, for imports) and why (`FieldError.as_dict`)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    field: str | None = Field(
        description="The field: a JSON path such as `users[3].email`, a column or header name such as `Idempotency-Key`, "
        "or null when the problem is not about one field."
    )
    message: str = Field(description="Why the value was refused, for people.")
    code: str = Field(description="A machine-readable reason, e.g. `invalid`, `missing`, `duplicate`.")
    row: int | SkipJsonSchema[None] = Field(
        default=None,
        description="The row (of an import file, or the index in a list of records) the problem is in; absent when none.",
        json_schema_extra=_no_default,
    )


class Problem(BaseModel):
    """RFC 9457 problem details, the body of every error answer (media type `application/problem+json`)."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "type": "about:blank",
                    "title": "Bad request",
                    "status": 400,
                    "detail": "email: value is not a valid email address",
                    "errors": [{"field": "email", "message": "value is not a valid email address", "code": "invalid"}],
                }
            ]
        },
    )

    type: str = Field(description="A URI reference identifying the problem type; always `about:blank` (the status says it all).")
    title: str = Field(description="A short summary of the problem type, e.g. `Not found`.")
    status: int = Field(description="The HTTP status code of the answer.")
    detail: str = Field(description="What went wrong with this request, for people.")
    errors: list[ProblemError] = Field(description="Each located problem; empty when the problem is not about particular fields.")


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

    @app.exception_handler(OperationalError)  # SQLite: "database is locked" after its busy timeout
    @app.exception_handler(PoolTimeout)  # PostgreSQL: no pooled connection came free in time
    async def _busy(request: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, PoolTimeout) or "database is locked" in str(getattr(exc, "orig", None) or exc):
            log.warning("database_busy", path=request.url.path, error=type(exc).__name__)
            return problem(503, "Service unavailable", BUSY_DETAIL, retryAfter=BUSY_RETRY_AFTER)
        return await _unexpected(request, exc)

    @app.exception_handler(DataError)  # SQLAlchemy's, around the driver's
    @app.exception_handler(DriverDataError)  # the driver's own, from a COPY (clientdock.rowwrite)
    async def _data(request: Request, exc: Exception) -> JSONResponse:
        if "NUL" in str(getattr(exc, "orig", None) or exc):  # psycopg: "PostgreSQL text fields cannot contain NUL (0x00) bytes"
            return problem(400, "Bad request", NUL_DETAIL, [FieldError(None, NUL_DETAIL, code="invalid")])
        return await _unexpected(request, exc)
