"""The structure stays as docs/architecture.md draws it: layers that point one way, tenant
scoping in one place, DBOS behind the job engine, and a declared answer on every route.

Read from the source with ``ast``, so a new module or route is checked without an entry here;
only a new *package* needs a place in :data:`LAYERS`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.datastructures import DefaultPlaceholder
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute, iter_route_contexts

from clientdock.app import create_app
from clientdock.db import Database
from clientdock.settings import Settings

SRC = Path(__file__).resolve().parents[1] / "src" / "clientdock"


def parsed(path: Path) -> ast.Module:
    """``path``'s syntax tree. CPython 3.11's ``ast.parse`` keeps its recursion depth in state
    shared by the interpreter's threads and, when another thread (an earlier test's background
    workers) builds syntax trees at the same moment, may fail with "AST constructor recursion
    depth mismatch" (a CPython bug, fixed in later releases): the tree is then parsed again."""
    source = path.read_text(encoding="utf-8")
    try:
        return ast.parse(source)
    except SystemError as exc:
        if "recursion depth mismatch" not in str(exc):
            raise
        return ast.parse(source)


#: Bottom to top: a module may import its own layer's modules and those of the layers below.
LAYERS: tuple[tuple[str, ...], ...] = (
    (
        "settings",
        "db",
        "deps",
        "errors",
        "problems",
        "logs",
        "secrets",
        "csvsafe",
        "migrate",
        "rowwrite",
        "blobs",
        "blobs_s3",
        "bodylimit",
        "heap",
    ),  # fmt: skip
    ("outbound",),
    ("tenants",),
    ("clients",),
    ("pipeline",),
    ("users",),
    ("jobs",),
    ("notify",),
    ("enrichment",),
    ("imports",),
    ("connections",),
    ("apps",),
    ("admin",),
    ("web",),
    ("app", "openapi", "cli", "cli_import", "server", "worker", "rekey", "models", "migrations"),
)
LEVEL: dict[str, int] = {name: level for level, names in enumerate(LAYERS) for name in names}


@dataclass(frozen=True)
class Arrow:
    source: str
    target: str
    line: int

    def __str__(self) -> str:
        return f"{self.source}:{self.line} imports clientdock.{self.target}"


def modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC)
        yield relative.parts[0].removesuffix(".py"), path


def arrows() -> Iterator[Arrow]:
    """Every import of a clientdock package, lazy ones inside functions included."""
    for top, path in modules():
        for node in ast.walk(parsed(path)):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                parts = name.split(".")
                if parts[0] == "clientdock" and len(parts) > 1 and parts[1] != top:
                    yield Arrow(f"{top}/{path.name}", parts[1], node.lineno)


def test_every_package_has_a_layer() -> None:
    unplaced = sorted({top for top, _ in modules() if top not in LEVEL and top != "__init__"})
    assert unplaced == [], f"give these packages a layer in LAYERS (and in docs/architecture.md): {unplaced}"


def test_no_import_points_up() -> None:
    upward = [str(a) for a in arrows() if LEVEL[a.target] > LEVEL[a.source.split("/")[0]]]
    assert upward == []


def test_only_the_job_engine_imports_dbos() -> None:
    importers = []
    for top, path in modules():
        for node in ast.walk(parsed(path)):
            modules_named = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            if isinstance(node, ast.Import):
                modules_named = [alias.name for alias in node.names]
            if any(name.split(".")[0] == "dbos" for name in modules_named) and top != "jobs":
                importers.append(str(path.relative_to(SRC)))
    assert importers == []


def test_nothing_is_wired_by_name() -> None:
    dynamic = []
    for _, path in modules():
        for node in ast.walk(parsed(path)):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "__import__":
                dynamic.append(f"{path.relative_to(SRC)}:{node.lineno}")
            if isinstance(node, ast.Attribute) and node.attr == "import_module":
                dynamic.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert dynamic == []


def _is_tenant_column(node: ast.expr) -> bool:
    """``Model.tenant_id`` or ``table.c.tenant_id``: a column, not a Python attribute of a row."""
    if not (isinstance(node, ast.Attribute) and node.attr == "tenant_id"):
        return False
    owner = node.value
    if isinstance(owner, ast.Name):
        return owner.id[:1].isupper()
    return isinstance(owner, ast.Attribute) and owner.attr == "c"


def _joins_the_tenant_row(node: ast.expr) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "id" and isinstance(node.value, ast.Name) and node.value.id == "Tenant"


def test_tenant_filters_are_written_only_by_the_scoping_helper() -> None:
    scoping = SRC / "tenants" / "scoping.py"
    by_hand = []
    for _, path in modules():
        if path == scoping or "migrations" in path.parts:
            continue
        for node in ast.walk(parsed(path)):
            if not (isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], ast.Eq | ast.NotEq)):
                continue
            left, right = node.left, node.comparators[0]
            if (_is_tenant_column(left) and not _joins_the_tenant_row(right)) or (
                _is_tenant_column(right) and not _joins_the_tenant_row(left)
            ):
                by_hand.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert by_hand == [], "filter by tenant with clientdock.tenants.scoping (readable, readable_columns, owned)"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    folder = tmp_path_factory.mktemp("structure")
    settings = Settings(data_dir=folder, database_url=f"sqlite:///{folder / 'app.db'}")
    return create_app(settings, Database(settings.resolved_database_url))


def test_every_api_route_declares_its_answer(app: FastAPI) -> None:
    """A JSON answer has a response model; other answers (CSV, 204) declare their class."""
    undeclared = [
        f"{sorted(route.methods or ())} {route.name}"
        for route in api_routes(app)
        if route.include_in_schema
        and route.response_model is None
        and route.status_code != 204
        and issubclass(_answer_class(route), JSONResponse)
    ]
    assert undeclared == []


def api_routes(app: FastAPI) -> list[APIRoute]:
    """Every API route of the app, those of included routers too."""
    found = [context.original_route for context in iter_route_contexts(app.routes)]
    return [route for route in found if isinstance(route, APIRoute)]


def test_the_route_walk_sees_every_router(app: FastAPI) -> None:
    names = {route.name for route in api_routes(app)}
    assert {"healthz", "upsert_client", "list_clients", "import_csv", "bulk_upsert_by_source_id", "import_via_app"} <= names


def _answer_class(route: APIRoute) -> type[Response]:
    chosen = route.response_class
    return chosen.value if isinstance(chosen, DefaultPlaceholder) else chosen
