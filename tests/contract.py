"""Does one answer keep the OpenAPI description? The checks of tests/test_fuzz.py, for one request.

The regression tests of what the fuzzer found call :func:`assert_documented` on the answer
that broke the description: its status is documented for the operation, with the documented
media type, and its body is valid against the documented schema.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import httpx2
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance, status_code_conformance

CONTRACT = [status_code_conformance, content_type_conformance, response_schema_conformance]


def assert_documented(client: TestClient, response: httpx2.Response, method: str, path: str) -> None:
    """``response`` (to ``method path``, ``path`` as written in the description) is one the
    operation documents; raises schemathesis' failure report otherwise."""
    app = client.app
    assert isinstance(app, FastAPI)
    operation = schemathesis.openapi.from_dict(copy.deepcopy(app.openapi()))[path][method.upper()]
    # The path's parameters only name the request in a failure report: the answer is what is checked.
    case: Any = operation.Case(path_parameters={name: name for name in re.findall(r"{(\w+)}", path)})
    case.validate_response(response, checks=CONTRACT)
