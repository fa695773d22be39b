"""The one error tree of clientdock.

Services raise subclasses of :class:`ClientdockError`; they never raise HTTP exceptions.
A single handler (``clientdock.problems``) renders every one of them as RFC 9457 problem
details with a machine-readable ``errors`` list::

    ClientdockError (500)
    ├── BadRequest (400)            ValidationFailed carries FieldError items
    ├── Unauthorized (401)
    ├── Forbidden (403)
    ├── NotFound (404)
    ├── Conflict (409)
    ├── PayloadTooLarge (413)
    ├── UnsupportedMediaType (415)
    └── UnprocessableIdempotency (422)   only for a reused Idempotency-Key
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    """One located problem: which field (and row, for imports) and why."""

    field: str | None
    message: str
    row: int | None = None
    code: str = "invalid"

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"field": self.field, "message": self.message, "code": self.code}
        if self.row is not None:
            out["row"] = self.row
        return out


class ClientdockError(Exception):
    status: int = 500
    title: str = "Internal error"

    def __init__(self, detail: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors: list[FieldError] = list(errors or [])


class BadRequest(ClientdockError):
    status = 400
    title = "Bad request"


class ValidationFailed(BadRequest):
    """Input that breaks one or more field rules; ``errors`` names each field."""

    title = "Validation failed"

    @classmethod
    def for_field(cls, field_name: str, message: str, *, row: int | None = None) -> ValidationFailed:
        return cls(f"{field_name}: {message}", [FieldError(field_name, message, row)])


class Unauthorized(ClientdockError):
    status = 401
    title = "Unauthorized"


class Forbidden(ClientdockError):
    status = 403
    title = "Forbidden"


class NotFound(ClientdockError):
    status = 404
    title = "Not found"


class Conflict(ClientdockError):
    status = 409
    title = "Conflict"


class PayloadTooLarge(ClientdockError):
    status = 413
    title = "Payload too large"


class UnsupportedMediaType(ClientdockError):
    status = 415
    title = "Unsupported media type"


class UnprocessableIdempotency(ClientdockError):
    status = 422
    title = "Idempotency key reused with another request"
