"""Case ``soak``: crash safety of a large file import. The process running the job is killed
with SIGKILL at random moments and started again; then the database is checked against the file.

A seeded clients CSV of ``--rows`` rows (``bench/clientsfile.py``) is uploaded
(``Prefer: respond-async``) to a fresh database: embedded ``clientdock serve`` on SQLite, or with
``--postgres`` the scale-out shape (``serve --no-workers`` and one ``clientdock worker``, the one
killed). ``--kills`` times, once the job has written rows since the process last started and
after a further random delay (``random.Random(--seed)``), the process is killed with SIGKILL and
started again at once with the same executor id and data folder; ``resumed_after_s`` is, per kill,
the time from the SIGKILL to the job's next progress. With ``--restart-postgres CMD`` the
PostgreSQL server is restarted by ``CMD`` instead (clientdock is never killed): the job must pause
and go on. That variant stops every other user of the server, so it runs only with
``--yes-restart-postgres``. ``--terminate-connections`` ends every connection to the run's own
database instead (``pg_terminate_backend``), which other users of the server do not feel.

Checked once the job has ended (each failure is a line of ``problems``; the exit status is 1 if
there is one): the job succeeded; created + updated + unchanged + skipped + failed == total ==
done == rows, every row created; one ``import_rows`` outcome per row index, their actions tally
with the counts; the tenant holds exactly one client per row (no duplicate email), each with
the file's values (email, names, company, note, date of birth, active, phone, mobile's E.164); one
``created`` audit row per client.
"""

from __future__ import annotations

import argparse
import random
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from tests.scaleout.cluster import Child, Cluster, child_environment, free_port

from bench import clientsfile, harness
from clientdock.db import Database

TERMINAL = harness.TERMINAL
TENANT = "soak"
EXECUTOR = "soak-runner"
COUNTS = ("created", "updated", "unchanged", "skipped", "failed")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rows", type=int, default=200_000, help="rows of the file (default 200000)")
    parser.add_argument("--kills", type=int, default=5, help="SIGKILLs (or PostgreSQL restarts) during the import (default 5)")
    parser.add_argument("--seed", type=int, default=17, help="seed of the file and of the kill moments (default 17)")
    parser.add_argument(
        "--delay", type=float, nargs=2, default=[0.2, 4.0], metavar=("MIN", "MAX"),
        help="seconds, drawn uniformly, from the first progress after a start to the kill (default 0.2 4)",
    )  # fmt: skip
    parser.add_argument("--poll", type=float, default=0.1, help="seconds between reads of the job (default 0.1)")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds before giving up on the job (default 3600)")
    parser.add_argument("--logs", type=Path, default=None, metavar="FOLDER", help="keep the processes' logs in FOLDER")
    parser.add_argument(
        "--postgres", default=None, metavar="ADMIN_URL", help="run on a throwaway PostgreSQL database (serve --no-workers + one worker)"
    )
    parser.add_argument(
        "--restart-postgres", default=None, metavar="CMD",
        help="restart the PostgreSQL server with CMD (e.g. 'pg_ctlcluster 15 main restart') instead of killing clientdock",
    )  # fmt: skip
    parser.add_argument(
        "--terminate-connections", action="store_true",
        help="with --postgres: end every connection to the run's own database (pg_terminate_backend) instead of killing clientdock",
    )  # fmt: skip
    parser.add_argument(
        "--outage", type=float, default=0.0, metavar="SECONDS",
        help="with --terminate-connections: refuse connections to the run's database for SECONDS after ending them (default 0)",
    )  # fmt: skip
    parser.add_argument(
        "--yes-restart-postgres", action="store_true", help="needed with --restart-postgres: it cuts every other user of the server"
    )


def say(message: str) -> None:
    print(f"bench: soak: {message}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> None:
    if args.restart_postgres is not None:
        if args.postgres is None:
            raise SystemExit("--restart-postgres needs --postgres ADMIN_URL (the server it restarts)")
        if not args.yes_restart_postgres:
            raise SystemExit(
                "refusing --restart-postgres without --yes-restart-postgres: restarting the server breaks every other user of it"
            )
    if args.outage and not args.terminate_connections:
        raise SystemExit("--outage goes with --terminate-connections")
    if args.terminate_connections and (args.postgres is None or args.restart_postgres is not None):
        raise SystemExit("--terminate-connections needs --postgres ADMIN_URL, and not --restart-postgres")
    if args.kills < 0 or args.rows < 1 or not 0 <= args.delay[0] <= args.delay[1]:
        raise SystemExit("--rows ≥ 1, --kills ≥ 0 and 0 ≤ --delay MIN ≤ MAX")
    with tempfile.TemporaryDirectory(prefix="cdbench-soak-") as folder:
        path = clientsfile.write(Path(folder) / "clients.csv", args.rows, seed=args.seed)
        say(f"{args.rows:,} rows written to {path.name} ({path.stat().st_size / 1e6:.1f} MB)")
        with harness.throwaway(args.postgres) as place:
            figure = Soak(args, place, path).run()
    harness.emit(figure)
    if not figure["ok"]:
        raise SystemExit(1)


@dataclass
class JobState:
    status: str
    total: int
    done: int
    chunks_done: int
    error: str | None


class Soak:
    """One run: the processes, the job, the kills, and the checks."""

    def __init__(self, args: argparse.Namespace, place: harness.Place, path: Path) -> None:
        self.args = args
        self.place = place
        self.path = path
        self.rng = random.Random(args.seed)
        self.problems: list[str] = []
        self.resumed_after: list[float] = []
        self.kills: list[dict[str, Any]] = []
        settings = {"CLIENTDOCK_MAX_UPLOAD_BYTES": str(4 * 1024**3)}
        self.cluster = Cluster(place.data_dir / "processes", place.url, settings)
        self.db = Database(place.url)
        self.job_id = ""
        self.started = time.monotonic()
        self.disturbance = (
            "restart-postgres" if args.restart_postgres else "terminate-connections" if args.terminate_connections else "sigkill"
        )

    # --- processes ---------------------------------------------------------------------

    def start(self) -> tuple[Child, Child]:
        """The API process and the process that runs the job (the same one on SQLite)."""
        cluster = self.cluster
        if self.place.backend == "postgresql":
            api = cluster.api("api")
            runner = cluster.worker(EXECUTOR, concurrency=1)
        else:
            # Embedded: one `clientdock serve` runs the API and the jobs.
            port = free_port()
            folder = cluster.root / EXECUTOR
            folder.mkdir(parents=True, exist_ok=True)
            env = child_environment({**cluster.settings, "CLIENTDOCK_DATA_DIR": str(folder), "CLIENTDOCK_EXECUTOR_ID": EXECUTOR})
            api = runner = Child(EXECUTOR, ["serve", "--port", str(port)], env, cluster.root / f"{EXECUTOR}.log", port)
            cluster.children[EXECUTOR] = runner
            runner.start()
        return api, runner

    @staticmethod
    def restart(child: Child) -> None:
        """Start a killed child again: same arguments, environment, executor id and data folder."""
        if child._log is not None:
            child._log.close()
            child._log = None
        child.start()

    # --- the job -----------------------------------------------------------------------

    def state(self) -> JobState | None:
        """The job's row, read from the database (None while the database cannot be reached)."""
        try:
            with self.db.read_session() as session:
                row = session.execute(
                    text("SELECT status, total, done, chunks_done, error FROM import_jobs WHERE id = :id"), {"id": self.job_id}
                ).one()
        except DBAPIError:
            self.db.dispose()
            return None
        return JobState(str(row[0]), int(row[1]), int(row[2]), int(row[3]), row[4])

    def upload(self, api: Child, key: str) -> None:
        with self.path.open("rb") as handle:
            answer = httpx.post(
                f"{api.base}/tenants/{TENANT}/clients/import/csv",
                files={"file": (self.path.name, handle, "text/csv")},
                headers={"X-API-Key": key, "Prefer": "respond-async"},
                timeout=600,
            )
        if answer.status_code not in (201, 202):
            raise SystemExit(f"upload answered {answer.status_code}: {answer.text[:2000]}")
        self.job_id = str(answer.json()["id"])

    def wait_for_progress(self, after: int, deadline: float) -> JobState | None:
        """Poll until the job has done more than ``after`` rows, or has ended; None at the deadline."""
        while time.monotonic() < deadline:
            state = self.state()
            if state is not None and (state.done > after or state.status in TERMINAL):
                return state
            time.sleep(self.args.poll)
        return None

    def run(self) -> dict[str, Any]:
        args = self.args
        started = self.started = time.monotonic()
        try:
            self.cluster.cli("migrate")
            key = self.cluster.tenant(TENANT)
            api, runner = self.start()
            self.cluster.wait_ready()
            answer = httpx.patch(f"{api.base}/tenants/{TENANT}/settings", json={"importRowLimit": args.rows}, headers={"X-API-Key": key})
            if answer.status_code != 200:
                raise SystemExit(f"settings answered {answer.status_code}: {answer.text[:2000]}")
            say(f"{self.place.backend}: uploading, then {args.kills} × {self.disturbance}")
            started = self.started = time.monotonic()
            self.upload(api, key)
            final = self.disturb(runner, started + args.timeout)
        finally:
            self.cluster.stop()
            if args.logs is not None:
                args.logs.mkdir(parents=True, exist_ok=True)
                for log in self.cluster.root.glob("*.log"):
                    shutil.copy(log, args.logs / log.name)
        seconds = time.monotonic() - started
        if final is None:
            self.problems.append(f"the job had not ended after {args.timeout:.0f} s")
        else:
            self.check()
        self.db.dispose()
        if self.problems:
            say("problems:\n  " + "\n  ".join(self.problems))
        return {
            "case": "soak", "backend": self.place.backend, "rows": args.rows,
            "disturbance": self.disturbance,
            "kills": len(self.kills), "seconds": round(seconds, 2), "resumed_after_s": [round(s, 2) for s in self.resumed_after],
            "kill_at_s": [k["at_s"] for k in self.kills], "done_at_kill": [k["done"] for k in self.kills], "job_id": self.job_id,
            "ok": not self.problems, "problems": self.problems,
        }  # fmt: skip

    def disturb(self, runner: Child, deadline: float) -> JobState | None:
        """Kill (or restart PostgreSQL) ``--kills`` times, each after progress and a random delay; wait for the end."""
        args = self.args
        since = 0  # rows done when the runner last started
        while len(self.kills) < args.kills:
            state = self.wait_for_progress(since, deadline)
            if state is None or state.status in TERMINAL:
                break
            time.sleep(self.rng.uniform(*args.delay))
            state = self.state()
            if state is None or state.status in TERMINAL or state.done >= state.total:
                break
            at = time.monotonic()
            if self.disturbance == "restart-postgres":
                self.restart_postgres()
            elif self.disturbance == "terminate-connections":
                self.terminate_connections()
            else:
                runner.kill9()  # reaped: what it committed is in, and nothing more will be
            done = self.reachable_state(deadline)
            self.kills.append({"at_s": round(at - self.started, 2), "done": done.done if done else None})
            if self.disturbance == "sigkill":
                self.restart(runner)
            baseline = done.done if done else since
            after = self.wait_for_progress(baseline, deadline)
            if after is None:
                break
            self.resumed_after.append(time.monotonic() - at)
            say(f"{self.disturbance} {len(self.kills)} at {baseline:,} rows; going again after {self.resumed_after[-1]:.1f} s")
            since = after.done
            if not runner.running():
                self.problems.append(f"{runner.name} exited after disturbance {len(self.kills)}:\n{runner.tail()}")
                self.restart(runner)
        if len(self.kills) < args.kills:
            self.problems.append(f"only {len(self.kills)} of {args.kills} kills before the job ended (raise --rows or lower --delay)")
        while time.monotonic() < deadline:
            state = self.state()
            if state is not None and state.status in TERMINAL:
                say(f"job {state.status}, {state.done:,} of {state.total:,} rows")
                return state
            if not runner.running():
                self.problems.append(f"{runner.name} exited on its own:\n{runner.tail()}")
                self.restart(runner)
            time.sleep(self.args.poll)
        return None

    def reachable_state(self, deadline: float) -> JobState | None:
        while time.monotonic() < deadline:
            state = self.state()
            if state is not None:
                return state
            time.sleep(self.args.poll)
        return None

    def restart_postgres(self) -> None:
        done = subprocess.run(shlex.split(self.args.restart_postgres), capture_output=True, text=True, timeout=300, check=False)
        if done.returncode != 0:
            raise SystemExit(f"{self.args.restart_postgres!r} exited {done.returncode}: {done.stdout[-1000:]}{done.stderr[-2000:]}")

    def terminate_connections(self) -> None:
        """End every session of this run's database (clientdock's and ours), as a server restart would; the server stays up."""
        name = self.place.url.rsplit("/", 1)[1]
        outage = self.args.outage
        with psycopg.connect(self.args.postgres, autocommit=True) as conn:
            try:
                if outage > 0:  # a server down for a while: no new connection either
                    conn.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
                ended = conn.execute(
                    "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE datname = %s AND pid <> pg_backend_pid()",
                    (name,),
                ).fetchone()
                time.sleep(outage)
            finally:
                conn.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')
        say(f"{ended[0] if ended else 0} connections to {name} ended" + (f", none taken for {outage:g} s" if outage > 0 else ""))

    # --- the checks --------------------------------------------------------------------

    def check(self) -> None:
        rows = self.args.rows
        with self.db.read_session() as session:
            job = session.execute(
                text(f"SELECT status, error, total, done, {', '.join(COUNTS)} FROM import_jobs WHERE id = :id"), {"id": self.job_id}
            ).one()
            tenant_id = session.execute(text("SELECT id FROM tenants WHERE code = :c"), {"c": TENANT}).scalar_one()
            outcomes = session.execute(
                text("SELECT count(*), count(DISTINCT row_index), min(row_index), max(row_index) FROM import_rows WHERE job_id = :id"),
                {"id": self.job_id},
            ).one()
            actions: dict[str, int] = dict(
                session.execute(text("SELECT action, count(*) FROM import_rows WHERE job_id = :id GROUP BY action"), {"id": self.job_id})
                .tuples()
                .all()
            )
            audit = session.execute(
                text("SELECT count(*), count(DISTINCT client_id) FROM client_changes WHERE tenant_id = :t AND action = 'created'"),
                {"t": tenant_id},
            ).one()
            stored = session.execute(
                text(
                    "SELECT email_key, email, first_name, last_name, company, note, date_of_birth, active, phone, mobile_e164"
                    " FROM clients WHERE tenant_id = :t"
                ),
                {"t": tenant_id},
            ).all()
        status, error, total, done = job[0], job[1], int(job[2]), int(job[3])
        counts = dict(zip(COUNTS, (int(n) for n in job[4:]), strict=True))
        if status != "succeeded":
            self.problems.append(f"job {status}: {error}")
        if not sum(counts.values()) == total == done == rows:
            self.problems.append(f"counts {counts} (sum {sum(counts.values())}), total {total}, done {done}, rows {rows}")
        if counts["created"] != rows:
            self.problems.append(f"{counts['created']} created, not {rows}: {counts}")
        count, distinct, low, high = (int(n or 0) for n in outcomes)
        if count != rows or distinct != rows:
            self.problems.append(f"import_rows: {count} outcomes for {distinct} row indexes (indexes {low}..{high}), not {rows}")
        if {a: n for a, n in actions.items() if n} != {a: n for a, n in counts.items() if n}:
            self.problems.append(f"import_rows actions {actions} differ from the job's counts {counts}")
        if tuple(int(n) for n in audit) != (rows, rows):
            self.problems.append(f"audit: {audit[0]} 'created' changes for {audit[1]} clients, not one each for {rows}")
        self.check_clients(stored)

    def check_clients(self, stored: Sequence[Any]) -> None:
        wanted = {row[2].casefold(): expected(row) for row in clientsfile.rows(self.args.rows, seed=self.args.seed)}
        keys = [str(row[0]) for row in stored]
        if len(keys) != len(set(keys)):
            self.problems.append(f"{len(keys)} clients for {len(set(keys))} distinct emails: duplicates")
        found = {str(r[0]): (*(value or None for value in r[1:7]), bool(r[7]), *(value or None for value in r[8:])) for r in stored}
        missing = sorted(set(wanted) - set(found))
        extra = sorted(set(found) - set(wanted))
        wrong = [(email, wanted[email], found[email]) for email in sorted(wanted) if email in found and found[email] != wanted[email]]
        if missing:
            self.problems.append(f"{len(missing)} rows missing, e.g. {missing[:3]}")
        if extra:
            self.problems.append(f"{len(extra)} clients not in the file, e.g. {extra[:3]}")
        if wrong:
            self.problems.append(f"{len(wrong)} clients with other values than the file, e.g. {wrong[:2]}")


def expected(row: list[str]) -> tuple[Any, ...]:
    """What the file door stores for a generated row (``clientsfile.HEADER`` order), as ``check_clients`` reads it:
    email (domain lower-cased), first and last name, company, note, ISO date of birth, active, phone as given, mobile in E.164."""
    first, last, email, phone, mobile, company, active, _type, _tags, born, note = row
    local, domain = email.rsplit("@", 1)
    day, month, year = born.split("/") if born else ("", "", "")
    iso = f"{year}-{month}-{day}" if born else None
    return (f"{local}@{domain.lower()}", first, last, company or None, note or None, iso, active != "no", phone or None, uk_e164(mobile))


def uk_e164(given: str) -> str | None:
    """A UK number of the generated file in E.164: national (0…), +44 and +44 (0)… forms."""
    if not given:
        return None
    digits = re.sub(r"\D", "", given)
    if given.startswith("+44"):
        digits = digits[2:]
    return "+44" + digits.removeprefix("0")
