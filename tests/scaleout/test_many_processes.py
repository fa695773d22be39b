"""Scale-out with real processes: two API processes and three workers on one PostgreSQL
database, nothing else shared (each has its own data folder); a worker killed with SIGKILL in
the middle of an import and an API process killed too; every import still ends, every row is
written exactly once, a tenant never has more than one job running, and the dead worker's
job is resumed by another within the dead-after time plus a chunk.

PostgreSQL only (skipped without ``CLIENTDOCK_TEST_POSTGRES_URL``): the scale-out column of
docs/architecture.md. The one time bound here (resumption) is a correctness bound with a wide
margin, not a benchmark; ``python -m bench workers`` measures throughput.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from bench import clientsfile

from tests.conftest import POSTGRES_URL, pg_drop, pg_url_for
from tests.scaleout.cluster import Child, Cluster

pytestmark = [pytest.mark.slow, pytest.mark.skipif(POSTGRES_URL is None, reason="needs CLIENTDOCK_TEST_POSTGRES_URL (CI sets it)")]

ROWS = 50_000
CHUNK = 2_000
DEAD_AFTER = 6
HEARTBEAT = 1
#: From the SIGKILL to the orphaned job's next progress: the reaper's wait, a beat, a chunk, and a wide margin.
RESUME_BOUND = DEAD_AFTER + HEARTBEAT + 30
#: Every import ends well within this; it only stops a broken run from hanging.
ALL_DONE_TIMEOUT = 600
POLL = 0.25
TENANTS = ("mpalpha", "mpbeta", "mpgamma")
FILES_PER_TENANT = 2
TERMINAL = ("succeeded", "failed", "cancelled")

#: What a client row must hold: (first name, last name, company, note, date of birth, active).
Values = tuple[str | None, str | None, str | None, str | None, str | None, bool]


@pytest.fixture
def database_url() -> Iterator[str]:
    """An empty PostgreSQL database (``clientdock migrate`` builds it), dropped afterwards."""
    assert POSTGRES_URL
    name = f"cdtest_mp_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield pg_url_for(name)
    pg_drop(name)


@pytest.fixture
def cluster(tmp_path: Path, database_url: str) -> Iterator[Cluster]:
    """The deployment's processes; every one is stopped afterwards, whatever happened."""
    settings = {
        "CLIENTDOCK_WORKER_DEAD_AFTER": str(DEAD_AFTER),
        "CLIENTDOCK_HEARTBEAT_SECONDS": str(HEARTBEAT),
        "CLIENTDOCK_CHUNK_SIZE": str(CHUNK),
        "CLIENTDOCK_TENANT_CONCURRENCY": "1",
    }
    running = Cluster(tmp_path / "processes", database_url, settings)
    yield running
    running.stop()


@dataclass
class Upload:
    tenant: str
    key: str
    path: Path
    number: int
    job_id: str = ""
    job: dict[str, Any] = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        return {"X-API-Key": self.key}


@dataclass
class Watch:
    """What the polling loop saw of the queue while the imports ran."""

    most_running_per_tenant: int = 0
    most_running: int = 0
    executors: set[str] = field(default_factory=set)


def expected_values(row: list[str]) -> Values:
    """What the file door stores for a generated row (``bench.clientsfile.HEADER`` order)."""
    first, last, _email, _phone, _mobile, company, active, _type, _tags, born, note = row
    day, month, year = born.split("/") if born else ("", "", "")
    return (first, last, company or None, note or None, f"{year}-{month}-{day}" if born else None, active != "no")


def generate(folder: Path, keys: dict[str, str]) -> tuple[list[Upload], dict[str, dict[str, Values]]]:
    """Two files per tenant whose emails do not overlap (rows numbered on from each other), and
    every tenant's expected clients by email key."""
    uploads: list[Upload] = []
    expected: dict[str, dict[str, Values]] = {code: {} for code in keys}
    for number in range(FILES_PER_TENANT):
        for t, code in enumerate(keys):
            seed, start = 1600 + 10 * t + number, number * ROWS
            path = clientsfile.write(folder / f"{code}-{number}.csv", ROWS, seed=seed, start=start)
            uploads.append(Upload(code, keys[code], path, len(uploads)))
            for row in clientsfile.rows(ROWS, seed=seed, start=start):
                expected[code][row[2].casefold()] = expected_values(row)
    return uploads, expected


def upload(api: Child, item: Upload) -> None:
    with item.path.open("rb") as handle:
        answer = httpx.post(
            f"{api.base}/tenants/{item.tenant}/clients/import/csv",
            files={"file": (item.path.name, handle, "text/csv")},
            headers={**item.headers, "Prefer": "respond-async"},
            timeout=120,
        )
    assert answer.status_code in (201, 202), f"{item.path.name} to {api.name}: {answer.status_code} {answer.text[:2000]}"
    item.job = answer.json()
    item.job_id = item.job["id"]


def sample_queue(db: psycopg.Connection[tuple[Any, ...]], watch: Watch) -> None:
    rows = db.execute(
        "SELECT queue_partition_key, count(*), array_agg(executor_id) FROM dbos.workflow_status"
        " WHERE queue_name = 'imports' AND status = 'PENDING' GROUP BY queue_partition_key"
    ).fetchall()
    watch.most_running_per_tenant = max([watch.most_running_per_tenant, *(int(n) for _, n, _ in rows)])
    watch.most_running = max(watch.most_running, sum(int(n) for _, n, _ in rows))
    watch.executors.update(e for _, _, executors in rows for e in executors)


def running_import(db: psycopg.Connection[tuple[Any, ...]], workers: list[str]) -> tuple[str, str] | None:
    """A job a worker is running, at least a chunk in and at least two chunks from its end: (job id, executor id)."""
    row = db.execute(
        "SELECT j.id, w.executor_id FROM import_jobs j JOIN dbos.workflow_status w ON w.workflow_uuid = j.workflow_id"
        " WHERE j.status = 'running' AND w.status = 'PENDING' AND j.done >= %s AND j.total - j.done >= %s AND w.executor_id = ANY(%s)"
        " ORDER BY j.done LIMIT 1",
        (CHUNK, 2 * CHUNK, workers),
    ).fetchone()
    return (str(row[0]), str(row[1])) if row else None


def owner_and_done(db: psycopg.Connection[tuple[Any, ...]], job_id: str) -> tuple[str | None, int, str]:
    row = db.execute(
        "SELECT w.executor_id, j.done, j.status FROM import_jobs j JOIN dbos.workflow_status w ON w.workflow_uuid = j.workflow_id"
        " WHERE j.id = %s",
        (job_id,),
    ).fetchone()
    assert row is not None, job_id
    return row[0], int(row[1]), str(row[2])


def test_imports_survive_a_killed_worker_and_a_killed_api(cluster: Cluster, database_url: str, tmp_path: Path) -> None:
    cluster.cli("migrate")
    keys = {code: cluster.tenant(code) for code in TENANTS}
    apis = [cluster.api(name) for name in ("api-a", "api-b")]
    workers = [cluster.worker(name, concurrency=2) for name in ("w1", "w2", "w3")]
    uploads, expected = generate(tmp_path, keys)
    cluster.wait_ready()
    for code, key in keys.items():
        answer = httpx.patch(f"{apis[0].base}/tenants/{code}/settings", json={"importRowLimit": ROWS}, headers={"X-API-Key": key})
        assert answer.status_code == 200, answer.text

    def explain(message: str) -> str:
        return f"{message}\n{cluster.logs()}"

    with psycopg.connect(database_url, autocommit=True) as db:
        watch = Watch()
        for item in uploads:
            upload(apis[item.number % 2], item)
            sample_queue(db, watch)

        killed_api, survivor = apis
        victim: Child | None = None
        orphan, killed_at, baseline = "", 0.0, 0
        resumed_after: float | None = None
        deadline = time.monotonic() + ALL_DONE_TIMEOUT
        turn = 0
        while True:
            # Poll every unfinished job through the API processes (only the survivor once one is killed).
            for item in uploads:
                if item.job["status"] in TERMINAL:
                    continue
                api = survivor if victim is not None else apis[turn % 2]
                turn += 1
                answer = httpx.get(f"{api.base}/tenants/{item.tenant}/imports/{item.job_id}", headers=item.headers, timeout=30)
                assert answer.status_code == 200, explain(
                    f"GET job {item.job_id} from {api.name}: {answer.status_code} {answer.text[:500]}"
                )
                item.job = answer.json()
                assert item.job["status"] != "failed", explain(f"{item.path.name}: job failed: {item.job.get('error')}")
            sample_queue(db, watch)
            if victim is None:
                found = running_import(db, [w.name for w in workers])
                if found is not None:
                    orphan, owner = found
                    victim = cluster.children[owner]
                    victim.kill9()
                    killed_at = time.monotonic()
                    # The victim is reaped: what it committed is in, and nothing more will be.
                    baseline = owner_and_done(db, orphan)[1]
                    killed_api.kill9()
            elif resumed_after is None:
                executor, done, status = owner_and_done(db, orphan)
                if executor != victim.name and (done > baseline or status in TERMINAL):
                    resumed_after = time.monotonic() - killed_at
            if all(item.job["status"] in TERMINAL for item in uploads):
                break
            assert time.monotonic() < deadline, explain(
                f"imports not done after {ALL_DONE_TIMEOUT} s: {[(i.path.name, i.job['status'], i.job['progress']) for i in uploads]}"
            )
            time.sleep(POLL)

        # What happened, beside the processes' logs (nothing is printed).
        record = {
            "victim": victim and victim.name, "orphan": orphan, "doneAtKill": baseline, "resumedAfterSeconds": resumed_after,
            "mostRunning": watch.most_running, "mostRunningPerTenant": watch.most_running_per_tenant,
            "executors": sorted(watch.executors), "jobs": {i.path.name: i.job_id for i in uploads},
        }  # fmt: skip
        (cluster.root / "run.json").write_text(json.dumps(record, indent=2))
        assert victim is not None, explain("no import was ever seen running mid-file: nothing was killed")
        assert resumed_after is not None, explain(f"the job {orphan} of killed {victim.name} ended, yet never moved on another worker")
        assert resumed_after <= RESUME_BOUND, explain(
            f"the job {orphan} of killed {victim.name} resumed only after {resumed_after:.1f} s (bound {RESUME_BOUND} s)"
        )

        # Every job succeeded; its counts add up; every row has exactly one outcome.
        for item in uploads:
            job, counts = item.job, item.job["counts"]
            assert job["status"] == "succeeded", explain(f"{item.path.name}: {job['status']} {job.get('error')}")
            assert sum(counts.values()) == job["progress"]["total"] == ROWS, explain(f"{item.path.name}: {counts}")
            assert counts["created"] == ROWS, explain(f"{item.path.name}: {counts}")
            outcomes, distinct = db.execute(
                "SELECT count(*), count(DISTINCT row_index) FROM import_rows WHERE job_id = %s", (item.job_id,)
            ).fetchone() or (0, 0)
            assert outcomes == distinct == ROWS, explain(f"{item.path.name}: {outcomes} outcomes for {distinct} rows")

        # Each tenant holds exactly its files' rows, once each, with the file's values.
        for code, wanted in expected.items():
            stored = db.execute(
                "SELECT c.email_key, c.first_name, c.last_name, c.company, c.note, c.date_of_birth, c.active"
                " FROM clients c JOIN tenants t ON t.id = c.tenant_id WHERE t.code = %s",
                (code,),
            ).fetchall()
            emails = [str(row[0]) for row in stored]
            assert len(emails) == len(set(emails)) == FILES_PER_TENANT * ROWS, f"{code}: {len(emails)} clients, {len(set(emails))} emails"
            found_values = {str(row[0]): (*(value or None for value in row[1:6]), bool(row[6])) for row in stored}
            missing = sorted(set(wanted) - set(found_values))
            extra = sorted(set(found_values) - set(wanted))
            wrong = [
                (email, wanted[email], found_values[email])
                for email in sorted(wanted)
                if found_values.get(email, wanted[email]) != wanted[email]
            ]
            problems = f"{len(missing)} missing {missing[:3]}, {len(extra)} extra {extra[:3]}, {len(wrong)} wrong {wrong[:3]}"
            assert len(missing) + len(extra) + len(wrong) == 0, f"{code}: {problems}"

        # A tenant never had two jobs running: what the queue showed, and the jobs' own times.
        assert watch.most_running_per_tenant == 1, f"a tenant had {watch.most_running_per_tenant} imports running at once"
        spans = db.execute("SELECT tenant_id, started_at, finished_at FROM import_jobs ORDER BY tenant_id, started_at").fetchall()
        for before, after in zip(spans, spans[1:], strict=False):
            if before[0] == after[0]:
                assert after[1] >= before[2], (
                    f"tenant {before[0]}: a job started at {after[1]} before the one before it ended at {before[2]}"
                )
        # And the work was spread: imports of several tenants ran at once, on several workers.
        assert watch.most_running >= 2, f"at most {watch.most_running} import ran at a time"
        assert len(watch.executors & {w.name for w in workers}) >= 2, f"imports ran on {sorted(watch.executors)}"
