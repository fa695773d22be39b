"""Dependencies of the import routes: the job engine and the waiter cap held by the app, and the
``onExisting`` query parameter every door that can update takes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query, Request

from clientdock.imports.respond import WaiterCap
from clientdock.jobs.engine import JobEngine
from clientdock.pipeline.existing import DOC, ON_EXISTING, OPTION
from clientdock.settings import Settings


def get_engine(request: Request) -> JobEngine:
    engine: JobEngine = request.app.state.engine
    return engine


def get_cap(request: Request) -> WaiterCap:
    cap: WaiterCap = request.app.state.waiters
    return cap


def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


Engine = Annotated[JobEngine, Depends(get_engine)]
Waiters = Annotated[WaiterCap, Depends(get_cap)]
AppSettings = Annotated[Settings, Depends(get_app_settings)]


def _on_existing_schema(schema: dict[str, Any]) -> None:
    """Documented as the string it is, one of three (absent: the door's default). The route itself
    takes any text, so that another value gets the doors' one 400 naming ``onExisting``."""
    schema.pop("anyOf", None)
    schema.update({"type": "string", "enum": list(ON_EXISTING)})


#: ``onExisting`` as sent: doors read it with ``pipeline.existing.parse_on_existing`` (400 naming it).
OnExistingQuery = Annotated[str | None, Query(alias=OPTION, description=DOC, json_schema_extra=_on_existing_schema)]
