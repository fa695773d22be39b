"""Structured logs (JSON when CLIENTDOCK_LOG_JSON=1)."""

from __future__ import annotations

import logging

import structlog


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
