"""Generate a Python client from an OpenAPI description with openapi-python-client.

The generator's CLI is the one installed next to the running interpreter (the project's
``.venv/bin``). It reads the description from a file and writes a bare package
(``--meta none``: no project files, nothing to install), so it needs no network. Ruff post
hooks are switched off: the package only has to import, not to be pretty.

    package = generate_client(app.openapi(), tmp_path)
    sys.path.insert(0, str(package.parent))
    client_module = importlib.import_module(package.name)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

PACKAGE = "clientdock_client"


class GenerationFailed(Exception):
    pass


def generator() -> Path:
    """The ``openapi-python-client`` executable of this interpreter's environment."""
    directory = Path(sys.executable).parent  # not resolved: a venv's python is a symlink out of it
    found = directory / ("openapi-python-client.exe" if os.name == "nt" else "openapi-python-client")
    if not found.exists():
        raise FileNotFoundError(f"{found} is missing: install the dev extra (requirements.lock)")
    return found


def generate_client(
    spec: dict[str, Any], workdir: Path, *, package: str = PACKAGE, fail_on_warning: bool = False, timeout: float = 300
) -> Path:
    """Generate a client for ``spec`` under ``workdir``; return the package's directory.

    Put ``path.parent`` on ``sys.path`` and import ``path.name``. With ``fail_on_warning``
    the generator's warnings (e.g. a schema it cannot type) fail the generation.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    spec_path = workdir / "openapi.json"
    spec_path.write_text(json.dumps(spec), encoding="utf-8")
    config_path = workdir / "openapi-python-client.yml"  # JSON is YAML
    config_path.write_text(json.dumps({"package_name_override": package, "project_name_override": package, "post_hooks": []}))
    target = workdir / package
    command = [
        str(generator()),
        "generate",
        "--path",
        str(spec_path),
        "--config",
        str(config_path),
        "--meta",
        "none",
        "--output-path",
        str(target),
        "--overwrite",
        "--fail-on-warning" if fail_on_warning else "--no-fail-on-warning",
    ]
    env = {**os.environ, "NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "200"}
    done = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0 or not (target / "__init__.py").is_file():
        raise GenerationFailed(f"openapi-python-client exited {done.returncode}\n{done.stdout}\n{done.stderr}")
    return target
