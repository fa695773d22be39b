"""The Jinja2 environment of the web page (autoescape always on) and the one render helper."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

from clientdock.clients.fields import BY_JSON

# field_label and humanize are the web filters "label" and "humanize"; re-exported for the web modules.
from clientdock.clients.labels import field_label as field_label
from clientdock.clients.labels import humanize as humanize
from clientdock.web import import_views

HERE = Path(__file__).parent
TEMPLATES_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"


def static_files() -> StaticFiles:
    return StaticFiles(directory=STATIC_DIR)


@lru_cache(maxsize=32)
def static_url(name: str) -> str:
    """``/static/<name>?v=<content hash>``: browsers may cache it for good."""
    digest = hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:10]
    return f"/static/{name}?v={digest}"


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_FIELD_NAMES = re.compile(r"\b(" + "|".join(sorted((n for n in BY_JSON if _CAMEL.search(n)), key=len, reverse=True)) + r")\b")


def human_text(message: str) -> str:
    """A pipeline message with field names in words: ``duplicate: trackingId already used`` ->
    ``duplicate: tracking ID already used``; one that starts with a field name starts with its label."""

    def label(match: re.Match[str]) -> str:
        text = field_label(match.group(1))
        at_start = match.start() == 0 or message[max(0, match.start() - 2) : match.start()] in (". ", "; ")
        if at_start or (len(text) > 1 and text[1].isupper()):
            return text
        return text[:1].lower() + text[1:]

    named, sep, rest = message.partition(": ")
    if sep and named in BY_JSON:
        return f"{field_label(named)}: {_FIELD_NAMES.sub(label, rest)}"
    return _FIELD_NAMES.sub(label, message)


def when(value: datetime | str | None, with_time: bool = True) -> str:
    """``3 Mar 2026, 14:05`` (UTC as stored); text that is not an ISO date comes back as is."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            stamp = datetime.fromisoformat(value)
        except ValueError:
            return value
        with_time = with_time and "T" in value
    else:
        stamp = value
    text = f"{stamp.day} {stamp:%b %Y}"
    return f"{text}, {stamp:%H:%M}" if with_time else text


def shown(value: Any) -> str:
    """Any stored value as short text: lists joined, objects as compact JSON, booleans Yes/No."""
    if value is None or value == "" or value == [] or value == {}:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return ", ".join(str(v) for v in value)
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    return str(value)


_ISO_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$")


def value_text(value: Any) -> str:
    """A client's stored value as every page shows it (an import's rows, a client's fields and
    history): dates as ``14 Mar 1980``, times as ``3 Mar 2026, 14:05``, the rest as ``shown``."""
    if isinstance(value, datetime):
        return when(value)
    if isinstance(value, str) and _ISO_STAMP.match(value.strip()):
        return when(value.strip().replace("Z", "+00:00"))
    return shown(value)


def number(value: int) -> str:
    return f"{value:,}"


def duration(seconds: float) -> str:
    """``0.3`` -> ``under a second``; ``75`` -> ``1 min 15 s``."""
    if seconds < 1:
        return "under a second"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"


def file_size(size: int) -> str:
    """``1536`` -> ``1.5 KB``."""
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR), autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True
    )
    env.globals["static"] = static_url
    env.filters.update(
        humanize=humanize,
        label=field_label,
        human_text=human_text,
        value=value_text,
        when=when,
        shown=shown,
        number=number,
        size=file_size,
        duration=duration,
    )
    env.filters.update(door=import_views.door_label, who=import_views.who_label, status=import_views.status_label)
    env.filters.update(source=import_views.source_label)
    return env


templates = Jinja2Templates(env=_environment())


def render(request: Request, name: str, *, status: int = 200, headers: Mapping[str, str] | None = None, **context: Any) -> Response:
    """Render a page; the signed-in user and the form token come from the request's state."""
    user = getattr(request.state, "signed_in", None)
    csrf = user.csrf_token if user is not None else getattr(request.state, "anon_csrf", "")
    base = {"user": user, "csrf_token": csrf, "nav": "", "title": ""}
    return templates.TemplateResponse(request, name, {**base, **context}, status_code=status, headers=headers)


def is_htmx(request: Request) -> bool:
    """An htmx request for a fragment (a history restore wants the whole page)."""
    return request.headers.get("hx-request") == "true" and request.headers.get("hx-history-restore-request") != "true"
