"""``python -m bench <case> [options]``: one benchmark harness; ``python -m bench <case> --help`` for each case."""

from __future__ import annotations

import argparse
import signal
import sys
from types import ModuleType

import structlog

from bench import (
    bulk_upsert,
    connection_import,
    csv_import,
    enrich,
    health,
    hostile,
    limits,
    prepare,
    soak,
    staging_write,
    undo,
    upsert,
    workers,
)

CASES: dict[str, tuple[ModuleType, str]] = {
    "csv": (csv_import, "a generated clients CSV through the upload door, beside COPY/executemany upserts of the same rows"),
    "upsert": (upsert, "the single upsert (POST /tenants/{t}/clients/upsert) under load at several concurrencies"),
    "bulk": (bulk_upsert, "POST /users/bulk/sourceId in 1,000-item batches, created then updated"),
    "undo": (undo, "undo of a large import (restore, then delete), in process"),
    "enrich": (enrich, "enrich companies from a fake Companies House under its rate budget"),
    "connection": (connection_import, "import every contact of a fake Xero organisation through a connection"),
    "prepare": (prepare, "normalisation and validation (pipeline.run.prepare) of generated file rows, in process"),
    "limits": (limits, "the rate limit's and the body limit's cost per request, in process; bulk batch sizes beside the JSON limit"),
    "staging": (staging_write, "staging a job's records with the in-file duplicate check: time and memory"),
    "hostile": (hostile, "hostile files and payloads: status, time to the answer, the service's peak RSS"),
    "health": (health, "GET /healthz answer times while a large import runs"),
    "soak": (soak, "crash safety: a large file import whose process is killed with SIGKILL (or PostgreSQL restarted) again and again"),
    "workers": (workers, "file imports per minute and rows/s of N worker processes beside one API process, on PostgreSQL"),
}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    cases = parser.add_subparsers(dest="case", required=True, metavar="CASE")
    for name, (module, summary) in CASES.items():
        sub = cases.add_parser(name, help=summary, description=(module.__doc__ or summary).strip())
        module.add_arguments(sub)
        sub.set_defaults(run=module.run)
    args = parser.parse_args()
    # stdout holds the figures alone: the logs of a service running in this process go to stderr.
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stderr))
    # A stopped run (timeout, kill) still stops its service and drops its database.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    args.run(args)


if __name__ == "__main__":
    main()
