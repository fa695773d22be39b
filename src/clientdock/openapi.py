"""The OpenAPI description: short operationIds and every error answer as problem details.

FastAPI documents a ``422 Validation Error`` with its own ``HTTPValidationError`` body on
every operation with inputs. clientdock answers invalid input with 400 problem details
(``clientdock.problems``) and uses 422 only for a reused ``Idempotency-Key``, so that
answer is replaced: each operation lists the error statuses it can give, each with an
``application/problem+json`` body of the ``Problem`` schema.
"""

from __future__ import annotations

import json
import warnings
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts

from clientdock.problems import PROBLEM, Problem
from clientdock.tenants.auth import authenticate

PROBLEM_REF = "#/components/schemas/Problem"
_FASTAPI_VALIDATION = ("#/components/schemas/HTTPValidationError", "#/components/schemas/ValidationError")

ERRORS: dict[int, str] = {
    400: "Bad request: a parameter, header or the body is invalid; `errors` names each field",
    401: "Unauthorized: no API key, or an invalid or revoked one",
    403: "Forbidden: the key may not act on this tenant or business, or lacks the scope",
    404: "Not found",
    409: "Conflict, or a request with this Idempotency-Key is still being processed",
    413: "Payload too large: the body is over its limit (`CLIENTDOCK_MAX_JSON_BYTES`, or an upload's own)",
    415: "Unsupported media type",
    422: "This Idempotency-Key was used with a different request",
    429: "Too many requests: this API key's rate limit is used up; retry after `Retry-After` seconds",
    502: "Bad gateway: an outside service (an accounting platform, Companies House) failed or could not be reached",
    503: "Service unavailable: the database was too busy to take the request in time; nothing was written; retry after `Retry-After`",
}


BUSY_RETRY_AFTER_HEADER: dict[str, Any] = {
    "description": "Whole seconds to wait before sending the request again",
    "schema": {"type": "integer", "minimum": 1},
}
RETRY_AFTER: dict[str, Any] = {
    "description": "Whole seconds (at least 1) until this API key may make another request",
    "schema": {"type": "integer", "minimum": 1},
}


def _link(operations: tuple[str, ...], parameter: str) -> dict[str, Any]:
    """Links to ``operations``, whose ``parameter`` is the answer's ``id`` (same tenant)."""
    parameters = {"tenant": "$request.path.tenant", parameter: "$response.body#/id"}
    return {name: {"operationId": name, "parameters": parameters} for name in operations}


_ON_CLIENT = _link(("get_client", "patch_client", "delete_client", "get_client_history", "enrich_client"), "client_id")
_ON_JOB = _link(("get_import", "list_import_rows", "get_import_errors", "cancel_import", "preview_undo", "undo_import"), "job_id")
_ON_WEBHOOK = _link(("list_webhook_deliveries", "delete_webhook"), "webhook_id")

#: OpenAPI links (operationId -> its success statuses' links): what a client or job an answer
#: gives can be done with next. Clients generated from the description learn them, and the
#: link fuzzing (tests/test_fuzz_links.py) follows them to call the operations on real ids.
LINKS: dict[str, dict[str, dict[str, Any]]] = {
    "create_client": {"201": _ON_CLIENT},
    "upsert_client": {"200": _ON_CLIENT, "201": _ON_CLIENT},
    "import_csv": {"201": _ON_JOB, "202": _ON_JOB},
    "enrich_clients": {"201": _ON_JOB, "202": _ON_JOB},
    "import_from_connection": {"201": _ON_JOB, "202": _ON_JOB},
    "create_webhook": {"201": _ON_WEBHOOK},
}


def operation_id(route: APIRoute) -> str:
    """The operationId of a route: its function's name (short and stable; must be unique)."""
    return route.name


def install_openapi(app: FastAPI) -> None:
    """Make ``app.openapi()`` (and ``/openapi.json``) return the amended description, built once."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def build_openapi(app: FastAPI) -> dict[str, Any]:
    with warnings.catch_warnings():
        # A repeated operationId is refused by tests/test_openapi.py; a warning here would turn into
        # an error in every test that reads the description (pytest's filterwarnings = error).
        warnings.filterwarnings("ignore", message="Duplicate Operation ID", category=UserWarning)
        schema = _default_openapi(app)
    schemas: dict[str, Any] = schema.setdefault("components", {}).setdefault("schemas", {})
    _add_problem_schemas(schemas)
    for context in iter_route_contexts(app.routes):
        # The context is the route as included (router prefix, dependencies, include_in_schema).
        if not isinstance(context.original_route, APIRoute) or not context.include_in_schema or context.path_format is None:
            continue
        dependant: Dependant = context.dependant or context.original_route.dependant
        authenticated = _depends_on(dependant, authenticate)
        for method in sorted(context.methods or ()):
            operation = schema["paths"][context.path_format][method.lower()]
            _document_errors(operation, method, authenticated=authenticated)
            for status, links in LINKS.get(operation["operationId"], {}).items():
                operation["responses"][status]["links"] = links
    _drop_unused_validation_schemas(schema)
    return schema


def _default_openapi(app: FastAPI) -> dict[str, Any]:
    """What ``FastAPI.openapi`` builds."""
    return get_openapi(
        title=app.title,
        version=app.version,
        openapi_version=app.openapi_version,
        summary=app.summary,
        description=app.description,
        terms_of_service=app.terms_of_service,
        contact=app.contact,
        license_info=app.license_info,
        routes=app.routes,
        webhooks=app.webhooks.routes,
        tags=app.openapi_tags,
        servers=app.servers,
        separate_input_output_schemas=app.separate_input_output_schemas,
        external_docs=app.openapi_external_docs,
    )


def _add_problem_schemas(schemas: dict[str, Any]) -> None:
    generated = Problem.model_json_schema(by_alias=True, mode="serialization", ref_template="#/components/schemas/{model}")
    own = {**generated.pop("$defs", {}), "Problem": generated}
    clash = sorted(name for name in own if name in schemas and schemas[name] != own[name])
    if clash:
        raise RuntimeError(f"schema name(s) {clash} of the API clash with the problem details schemas")
    schemas.update(own)
    schemas_sorted = dict(sorted(schemas.items()))
    schemas.clear()
    schemas.update(schemas_sorted)


def _depends_on(dependant: Dependant, call: object) -> bool:
    return any(sub.call is call or _depends_on(sub, call) for sub in dependant.dependencies)


def _document_errors(operation: dict[str, Any], method: str, *, authenticated: bool) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    for code, response in list(responses.items()):
        if _refers_to_fastapi_validation(response):
            del responses[code]
    statuses = {int(code) for code in responses if code.isdigit() and int(code) >= 400}
    has_input = "requestBody" in operation or any(p.get("in") != "path" for p in operation.get("parameters", []))
    if authenticated or has_input:
        statuses.add(400)
    if "requestBody" in operation:  # clientdock.bodylimit: every body has a size limit
        statuses.add(413)
    if authenticated:
        statuses |= {401, 403, 429}  # clientdock.tenants.ratelimit: every request with a key is counted
        statuses.add(503)  # clientdock.problems: the database too busy (overload)
        if any(p.get("in") == "path" for p in operation.get("parameters", [])):
            statuses.add(404)
        if method == "POST":  # clientdock.tenants.idempotency: a key in flight, or reused with another request
            statuses |= {409, 422}
    documented = {str(status) for status in statuses}
    answers = {code: response for code, response in responses.items() if code not in documented}
    for status in sorted(statuses):
        response = dict(responses.get(str(status), {}))
        response.setdefault("description", ERRORS.get(status) or HTTPStatus(status).phrase)
        response["content"] = {PROBLEM: {"schema": {"$ref": PROBLEM_REF}}}
        if status == 429:
            response.setdefault("headers", {"Retry-After": RETRY_AFTER})
        if status == 503:
            response.setdefault("headers", {"Retry-After": BUSY_RETRY_AFTER_HEADER})
        answers[str(status)] = response
    operation["responses"] = answers


def _refers_to_fastapi_validation(response: dict[str, Any]) -> bool:
    text = json.dumps(response.get("content", {}))
    return any(f'"{ref}"' in text for ref in _FASTAPI_VALIDATION)


def _drop_unused_validation_schemas(schema: dict[str, Any]) -> None:
    schemas: dict[str, Any] = schema["components"]["schemas"]
    for name in ("HTTPValidationError", "ValidationError"):
        kept = {key: value for key, value in schemas.items() if key != name}
        if name in schemas and f'"#/components/schemas/{name}"' not in json.dumps({**schema, "components": {"schemas": kept}}):
            del schemas[name]
