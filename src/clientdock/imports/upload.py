"""Receive a multipart upload by streaming it to a file while counting its bytes.

Starlette's form parser spools every file to a temporary file of its own choosing and knows no
size limit for files; an upload of many gigabytes would be received in full before a route
could refuse it. Here the body is parsed as it arrives (python-multipart's streaming parser):
the ``file`` part goes straight to a file under ``<data>/uploads``, and the upload is refused
with 413 the moment it passes the limit. Other parts are small text fields.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from clientdock.errors import BadRequest, FieldError, PayloadTooLarge, UnsupportedMediaType, ValidationFailed

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

FILE_PART = "file"
#: Each text field (mapping, dryRun, ...) may hold at most this many bytes.
FIELD_LIMIT = 64 * 1024
MAX_PARTS = 16
# What a body may hold beyond the file itself: boundaries, part headers and the text fields.
_BODY_ALLOWANCE = MAX_PARTS * (FIELD_LIMIT + 1024)

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])
#: The route functions that stream their body with :func:`receive`: their paths keep the upload
#: limit and answers of their own instead of the JSON body limit (``clientdock.bodylimit``).
STREAMING_ROUTES: set[Callable[..., Any]] = set()


def streams_upload(endpoint: Endpoint) -> Endpoint:
    """Mark a route function as one that receives its body with :func:`receive`."""
    STREAMING_ROUTES.add(endpoint)
    return endpoint


def body_bound(limit: int) -> int:
    """The most a multipart body carrying a file of at most ``limit`` bytes can be."""
    return limit + _BODY_ALLOWANCE


@dataclass
class Received:
    """An upload on disk: the file part's path, its name as sent, its size, the text fields."""

    path: Path
    filename: str | None
    size: int
    fields: dict[str, str]


def too_large(limit: int) -> PayloadTooLarge:
    message = f"is larger than {_size_text(limit)}, the most one upload may be"
    return PayloadTooLarge(f"The file {message}.", [FieldError(FILE_PART, message)])


def _size_text(limit: int) -> str:
    mib = limit / (1024 * 1024)
    return f"{mib:g} MiB" if mib >= 1 else f"{limit} bytes"


@dataclass
class _Part:
    headers: dict[str, bytes] = field(default_factory=dict)
    name: str | None = None
    filename: str | None = None
    data: bytearray = field(default_factory=bytearray)
    is_file: bool = False


class _Receiver:
    """python-multipart callbacks that write the file part to disk and keep the text fields."""

    def __init__(self, folder: Path, limit: int) -> None:
        self.folder = folder
        self.limit = limit
        self.path = folder / f"{uuid.uuid4().hex}.upload"
        self.handle: IO[bytes] | None = None
        self.size = 0
        self.filename: str | None = None
        self.seen_file = False
        self.fields: dict[str, str] = {}
        self.parts = 0
        self.part = _Part()
        self._header_name = bytearray()
        self._header_value = bytearray()

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self.on_part_begin,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
        }

    def on_part_begin(self) -> None:
        self.parts += 1
        if self.parts > MAX_PARTS:
            raise BadRequest(f"The form has more than {MAX_PARTS} parts; send the file and at most a few options.")
        self.part = _Part()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        name = self._header_name.decode("latin-1").strip().lower()
        self.part.headers[name] = bytes(self._header_value)
        self._header_name.clear()
        self._header_value.clear()

    def on_headers_finished(self) -> None:
        # Bytes: browsers send UTF-8 file names, which the str form would take for latin-1.
        _kind, params = parse_options_header(self.part.headers.get("content-disposition", b""))
        raw_name = params.get(b"name")
        self.part.name = raw_name.decode("utf-8", errors="replace") if raw_name is not None else None
        raw_filename = params.get(b"filename")
        self.part.filename = raw_filename.decode("utf-8", errors="replace") if raw_filename is not None else None
        if self.part.name == FILE_PART:
            if self.seen_file:
                raise ValidationFailed.for_field(FILE_PART, "send one file per upload")
            self.seen_file = True
            self.part.is_file = True
            self.filename = _clean_filename(self.part.filename)
            self.folder.mkdir(parents=True, exist_ok=True)
            self.handle = self.path.open("wb")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self.part.is_file:
            self.size += len(chunk)
            if self.size > self.limit:
                raise too_large(self.limit)
            assert self.handle is not None
            self.handle.write(chunk)
            return
        if len(self.part.data) + len(chunk) > FIELD_LIMIT:
            raise PayloadTooLarge(
                f"The form field {self.part.name!r} is longer than {FIELD_LIMIT} bytes.",
                [FieldError(self.part.name, f"longer than {FIELD_LIMIT} bytes")],
            )
        self.part.data += chunk

    def on_part_end(self) -> None:
        if self.part.is_file:
            self.close()
        elif self.part.name:
            self.fields[self.part.name] = self.part.data.decode("utf-8", errors="replace")

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()
            self.handle = None

    def discard(self) -> None:
        self.close()
        self.path.unlink(missing_ok=True)


def _clean_filename(name: str | None) -> str | None:
    """The base name a browser sent (some send a whole Windows path), without control characters."""
    if not name:
        return None
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in base if ch.isprintable())[:255]
    return cleaned or None


def _boundary(request: Request) -> bytes:
    kind, params = parse_options_header(request.headers.get("content-type"))
    if kind != b"multipart/form-data":
        raise UnsupportedMediaType(
            "Send the file as multipart/form-data with a part named 'file' (for example curl -F file=@clients.csv).",
            [FieldError(FILE_PART, "is required as a multipart/form-data part")],
        )
    boundary = params.get(b"boundary")
    if not boundary or len(boundary) > 200:
        raise BadRequest("The multipart/form-data content type has no valid boundary.")
    return boundary


def _check_declared_length(request: Request, limit: int) -> None:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > body_bound(limit):
        raise too_large(limit)


async def _body(request: Request) -> AsyncIterator[bytes]:
    """The request body; a failure to read it is the sender's (or the transport's), not ours."""
    chunks = request.stream().__aiter__()
    while True:
        try:
            chunk = await chunks.__anext__()
        except StopAsyncIteration:
            return
        except ClientDisconnect:
            raise
        except Exception as exc:
            raise BadRequest(f"The request body could not be read ({type(exc).__name__}).") from exc
        yield chunk


async def receive(request: Request, folder: Path, limit: int) -> Received:
    """Stream the request's multipart body: the ``file`` part to ``folder``, fields to memory.

    Raises 415 for a body that is not multipart/form-data, 413 past ``limit`` bytes of file (or
    a declared Content-Length that is already over), 400 for a malformed body or no file part.
    """
    boundary = _boundary(request)
    _check_declared_length(request, limit)
    receiver = _Receiver(folder, limit)
    parser = MultipartParser(boundary, receiver.callbacks())
    try:
        async for chunk in _body(request):
            parser.write(chunk)
        parser.finalize()
    except MultipartParseError as exc:
        receiver.discard()
        raise BadRequest(f"The multipart body cannot be read: {exc}.") from exc
    except ClientDisconnect as exc:
        receiver.discard()
        raise BadRequest("The upload was interrupted before it was complete.") from exc
    except BaseException:
        receiver.discard()
        raise
    receiver.close()
    if not receiver.seen_file:
        raise ValidationFailed.for_field(FILE_PART, "is required: attach the CSV or spreadsheet as the form part 'file'")
    return Received(receiver.path, receiver.filename, receiver.size, receiver.fields)
