"""Structured logs (JSON when CLIENTDOCK_LOG_JSON=1), and uvicorn's access log without the
secrets a query string can carry."""

from __future__ import annotations

import copy
import logging
from typing import Any
from urllib.parse import parse_qsl, urlencode

import structlog
import uvicorn.config

#: Query parameters whose values never reach a log: the OAuth callback's ``code`` and ``state``
#: (``GET /connections/{provider}/callback?code=…&state=…``), and any credential a client puts there.
SECRET_PARAMETERS = frozenset({"code", "state", "access_token", "refresh_token", "token", "api_key", "apikey", "key", "password", "secret"})
REDACTED = "[redacted]"


def configure(json_logs: bool, level: int = logging.INFO) -> None:
    renderer: structlog.typing.Processor = structlog.processors.JSONRenderer() if json_logs else structlog.dev.ConsoleRenderer(colors=False)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
    )


def redact_query(path: str) -> str:
    """``path`` (with its query string) with the values of :data:`SECRET_PARAMETERS` replaced."""
    base, mark, query = path.partition("?")
    if not mark:
        return path
    pairs = parse_qsl(query, keep_blank_values=True)
    if not any(name.lower() in SECRET_PARAMETERS for name, _ in pairs):
        return path
    kept = [(name, REDACTED if name.lower() in SECRET_PARAMETERS else value) for name, value in pairs]
    return f"{base}?{urlencode(kept, safe='[]')}"


class RedactQuery(logging.Filter):
    """On ``uvicorn.access``: the request line's query string through :func:`redact_query`
    (uvicorn logs ``'%s - "%s %s HTTP/%s" %d'`` with the path and query third)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str) and "?" in args[2]:
            record.args = (*args[:2], redact_query(args[2]), *args[3:])
        return True


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's own logging configuration, its access log passed through :class:`RedactQuery`."""
    config: dict[str, Any] = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_query"] = {"()": RedactQuery}
    config["loggers"]["uvicorn.access"]["filters"] = ["redact_query"]
    return config
