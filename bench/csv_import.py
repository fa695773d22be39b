"""Case ``csv``: upload a generated clients CSV to ``POST /tenants/{t}/clients/import/csv`` of a
real ``clientdock serve`` child and poll the job to its end, beside the reference (``reference``).

Phases, on one fresh database per backend: ``create`` (every row into an empty tenant) and
``change_half`` (the same file again, every second row's note changed). ``ours_s`` runs from the
start of the upload to the job's ``finishedAt``; ``peak_rss_mib`` is the service's peak RSS
during the phase (each phase gets its own service process, so the peak is the phase's own).
The reference writes the same file under a second tenant of the same database, after ours.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench import clientsfile, harness, reference

PHASES = ("create", "change_half")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rows", type=int, nargs="+", default=[5000], help="rows per file, e.g. 5000 100000 1000000 (default 5000)")
    parser.add_argument("--seed", type=int, default=15, help="seed of the generated file (default 15)")
    parser.add_argument("--phases", nargs="+", choices=PHASES, default=list(PHASES))
    parser.add_argument(
        "--profile",
        metavar="FOLDER",
        type=Path,
        nargs="?",
        const=Path("."),
        default=None,
        help="sample the service during each import and write a pyinstrument profile (HTML and text) into FOLDER (default .)",
    )
    parser.add_argument("--poll", type=float, default=0.1, help="seconds between polls of the job (default 0.1)")
    harness.add_database_arguments(parser)


def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="cdbench-csv-") as folder:
        for rows in args.rows:
            files = {
                "create": clientsfile.write(Path(folder) / f"clients-{rows}.csv", rows, seed=args.seed),
                "change_half": clientsfile.write(Path(folder) / f"clients-{rows}-changed.csv", rows, seed=args.seed, changed=True),
            }
            for admin in harness.backends(args):
                with harness.throwaway(admin) as place:
                    one_database(args, place, rows, files)


def one_database(args: argparse.Namespace, place: harness.Place, rows: int, files: dict[str, Path]) -> None:
    db, key = harness.tenant_key(place.url, {"importRowLimit": max(rows, 10)})
    ref_tenant, ref_group = harness.add_tenant(db, "reference")
    db.dispose()
    for phase in PHASES:
        if phase not in args.phases:
            # A later phase needs the earlier ones' rows: import them, untimed.
            if phase == "create":
                with harness.service(place) as svc:
                    upload(svc, key, files[phase], args.poll)
                reference.timed(place.url, place.backend, files[phase], ref_tenant, ref_group)
            continue
        profile = None
        if args.profile is not None:
            args.profile.mkdir(parents=True, exist_ok=True)
            profile = (args.profile / f"profile-csv-{place.backend}-{rows}-{phase}.html").resolve()
        with harness.service(place, profile=profile) as svc:
            if profile is not None:
                svc.start_profile()
            with svc.peak_rss() as memory:
                job, ours = upload(svc, key, files[phase], args.poll)
        expected = rows if phase == "create" else rows // 2
        counted = job["counts"]["created" if phase == "create" else "updated"]
        if job["status"] != "succeeded" or counted != expected:
            raise SystemExit(f"csv {place.backend} {rows} {phase}: {job['status']} {job['counts']} {job.get('error')}, expected {expected}")
        theirs = reference.timed(place.url, place.backend, files[phase], ref_tenant, ref_group)
        figure: dict[str, Any] = {
            "case": "csv", "backend": place.backend, "rows": rows, "phase": phase, "ours_s": round(ours, 3),
            "reference_s": round(theirs, 3), "ratio": harness.ratio(ours, theirs), "peak_rss_mib": memory["peak_rss_mib"],
            "job_s": job["durationSeconds"], "counts": {k: v for k, v in job["counts"].items() if v},
        }  # fmt: skip
        if profile is not None:
            figure["profile"] = str(profile)
            figure["profile_text"] = str(profile.with_suffix(".txt"))
        harness.emit(figure)


def upload(svc: harness.Service, key: str, path: Path, poll: float) -> tuple[dict[str, Any], float]:
    """The finished job and the seconds from the upload's start to the job's ``finishedAt``."""
    headers = {"X-API-Key": key, "Prefer": "respond-async"}
    with httpx.Client(base_url=svc.base, timeout=3600) as api, path.open("rb") as handle:
        started = time.time()
        answer = api.post(f"/tenants/{harness.TENANT}/clients/import/csv", files={"file": (path.name, handle, "text/csv")}, headers=headers)
        if answer.status_code not in (201, 202):
            raise SystemExit(f"upload answered {answer.status_code}: {answer.text[:2000]}")
        job = harness.finished(api, key, answer.json(), interval=poll, report=f"{path.name} ({answer.status_code})")
    return job, harness.moment(job["finishedAt"]) - started
