"""The fast write path (COPY on PostgreSQL, the driver's executemany on SQLite) against the plain
SQLAlchemy path: generated imports with duplicates, bad rows, parents, updates and unchanged
rows leave the same clients, history and outcomes either way; an unchanged re-import writes
no client row and no audit row."""

from __future__ import annotations

import random
import re
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select, text
from tests.conftest import TenantInfo, make_tenant

from clientdock import rowwrite
from clientdock.clients.models import Client, ClientChange, ExternalRef
from clientdock.db import Database
from clientdock.imports.bulk import BULK_POLICY, to_record
from clientdock.imports.files import CSV_POLICY
from clientdock.jobs.models import ImportJob, ImportRow
from clientdock.jobs.policy import to_options
from clientdock.jobs.workflow import apply_records
from clientdock.pipeline.records import Policy, RawRecord
from clientdock.rowwrite import reference_path
from clientdock.tenants.models import ClientGroup

ID = re.compile(r"\b[0-9a-f]{32}\b")
FIRST = ["Ada", "Zoë", "Jürgen", "Siobhán", "Noor", "Mei"]
PHONES = ["020 7946 0000", "+44 7700 900123", "call office", "", "07700 900456", "4.47911E+11"]
DATES = ["1815-12-10", "03/14", "", "31/02/1990", "1990-01-31"]


def items(rng: random.Random, keys: range, *, round_: int) -> list[dict[str, Any]]:
    """S4 items: some with bad values, duplicate emails, parents before/after/missing/failed."""
    out: list[dict[str, Any]] = []
    for key in keys:
        item: dict[str, Any] = {"source": "crm", "sourceId": key, "fullName": f"{rng.choice(FIRST)} {key}"}
        if rng.random() < 0.9:
            item["email"] = f"c{key}@firm.co.uk" if rng.random() < 0.95 else f"c{rng.randrange(key + 1)}@firm.co.uk"
        if rng.random() < 0.03:
            item["email"] = "not-an-email"
        item["phone"] = rng.choice(PHONES)
        item["dateOfBirth"] = rng.choice(DATES)
        item["note"] = f"note {key} {round_ if rng.random() < 0.5 else 0}"
        item["tags"] = rng.sample(["vip", "payroll", "vat"], rng.randrange(3))
        if rng.random() < 0.2:
            item["parent"] = {"source": "crm", "sourceId": rng.randrange(max(keys.stop, 1) + 5)}
        out.append(item)
    return out


def run_job(database: Database, tenant: TenantInfo, records: list[RawRecord], policy: Policy, chunk: int = 70) -> None:
    with database.session() as session:
        job = ImportJob(tenant_id=tenant.id, door="bulk", options=to_options(policy), started_by="test")
        session.add(job)
        session.flush()
        job_id = job.id
    for start in range(0, len(records), chunk):
        with database.session() as session:
            apply_records(session, session.get_one(ImportJob, job_id), records[start : start + chunk])


def scenario(database: Database, tenant: TenantInfo, path: AbstractContextManager[Any]) -> None:
    rng = random.Random(15)
    with path:
        run_job(database, tenant, [to_record(i, it) for i, it in enumerate(items(rng, range(0, 300), round_=1))], BULK_POLICY)
        # Updates (half the notes change), unchanged rows, new items, parents across chunks.
        second = items(rng, range(150, 450), round_=2)
        run_job(database, tenant, [to_record(i, it) for i, it in enumerate(second)], BULK_POLICY)
        again = [to_record(i, it) for i, it in enumerate(second)]
        run_job(database, tenant, again, BULK_POLICY)
        by_email = [to_record(i, {k: v for k, v in it.items() if k not in ("source", "sourceId", "parent")}) for i, it in enumerate(second)]
        run_job(database, tenant, by_email, replace(CSV_POLICY, on_existing="fillEmpty"))


def snapshot(database: Database, tenant: TenantInfo) -> dict[str, Any]:
    """The tenant's clients, refs, history and outcomes with ids replaced by stable keys."""
    with database.session() as session:
        refs = session.execute(select(ExternalRef).where(ExternalRef.tenant_id == tenant.id)).scalars().all()
        clients = session.execute(select(Client).where(Client.tenant_id == tenant.id)).scalars().all()
        groups = {g.id: g.name for g in session.scalars(select(ClientGroup).where(ClientGroup.tenant_id == tenant.id))}
        key = {c.id: c.email_key or c.name for c in clients}
        key.update({r.client_id: f"{r.source}/{r.external_id}" for r in refs})
        jobs = {
            j.id: n
            for n, j in enumerate(session.scalars(select(ImportJob).where(ImportJob.tenant_id == tenant.id).order_by(ImportJob.created_at)))
        }
        skip = {"id", "tenant_id", "created_at", "updated_at", "parent_id", "client_group_id"}
        client_rows = sorted(
            (
                key[c.id],
                key.get(c.parent_id or "", None),
                groups.get(c.client_group_id or ""),
                c.created_at == c.updated_at,
                {col.key: getattr(c, col.key) for col in Client.__mapper__.column_attrs if col.key not in skip},
            )
            for c in clients
        )
        changes = sorted(
            repr((key.get(ch.client_id), jobs.get(ch.job_id or ""), ch.action, ch.field, ch.before, ch.after, ch.actor))
            for ch in session.scalars(select(ClientChange).where(ClientChange.tenant_id == tenant.id))
        )
        outcomes = sorted(
            repr((jobs[r.job_id], r.row_index, r.line, r.lookup_key, r.action, key.get(r.client_id or ""), r.errors, r.messages,
                  r.warnings, r.changes, r.source))
            for r in session.scalars(select(ImportRow).where(ImportRow.job_id.in_(list(jobs))))
        )  # fmt: skip
        counters = sorted(
            (n, j.done, j.created, j.updated, j.unchanged, j.skipped, j.failed, j.warned)
            for n, j in ((jobs[j.id], j) for j in session.scalars(select(ImportJob).where(ImportJob.tenant_id == tenant.id)))
        )

        # As stored, not as read back: JSON text, and on SQLite the timestamps' text form (PostgreSQL's are typed).
        stamp_text = "length(CAST({} AS TEXT))" if database.engine.dialect.name == "sqlite" else "0*length('{}')"
        stored = {
            table: sorted(
                tuple(row)
                for row in session.execute(
                    text(f"SELECT DISTINCT {stamp_text.format(stamp)}, {json} FROM {table} WHERE tenant_id = :t"), {"t": tenant.id}
                )
            )
            for table, stamp, json in (
                ("clients", "updated_at", "CAST(tags AS TEXT)"),
                ("client_changes", "at", "CAST(after AS TEXT)"),
            )
        }

    def stable(line: str) -> str:
        """Client ids inside values (a parentId change) named by their key."""
        return ID.sub(lambda m: key.get(m.group(0), m.group(0)), line)

    return {
        "clients": stable(repr(client_rows)),
        "changes": [stable(c) for c in changes],
        "outcomes": [stable(o) for o in outcomes],
        "counters": counters,
        "stored": sorted(stable(repr((table, row))) for table, rows in stored.items() for row in rows),
    }


@pytest.mark.parametrize("small_batch", [0, 1_000_000], ids=["staged", "statements"])
def test_the_fast_and_the_plain_write_paths_leave_the_same_state(
    database: Database, tenant: TenantInfo, small_batch: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL the fast path sends a group of rows through a stage (COPY, then one merge)
    or, up to ``rowwrite.SMALL_BATCH`` rows, as plain pipelined statements: each way is compared."""
    monkeypatch.setattr(rowwrite, "SMALL_BATCH", small_batch)
    other = make_tenant(database)
    scenario(database, tenant, nullcontext())
    scenario(database, other, reference_path())
    fast, plain = snapshot(database, tenant), snapshot(database, other)
    actions = [o.split(", ")[4] for o in fast["outcomes"]]
    for action in ("'created'", "'updated'", "'unchanged'", "'failed'"):
        assert action in actions, f"the scenario must exercise {action} rows"
    assert fast["counters"] == plain["counters"]
    assert fast["outcomes"] == plain["outcomes"]
    assert fast["changes"] == plain["changes"]
    assert fast["clients"] == plain["clients"]
    assert fast["stored"] == plain["stored"]


@pytest.fixture
def write_log(database: Database) -> Any:
    """Triggers that count every row written to clients and client_changes, whatever wrote it."""
    with database.session() as session:
        session.execute(text("CREATE TABLE write_log (tbl VARCHAR(32), op VARCHAR(8))"))
        if database.engine.dialect.name == "postgresql":
            session.execute(
                text(
                    "CREATE FUNCTION log_write() RETURNS trigger AS $$ BEGIN "
                    "INSERT INTO write_log VALUES (TG_TABLE_NAME, TG_OP); RETURN NULL; END $$ LANGUAGE plpgsql"
                )
            )
            for table in ("clients", "client_changes"):
                session.execute(
                    text(f"CREATE TRIGGER log_{table} AFTER INSERT OR UPDATE ON {table} FOR EACH ROW EXECUTE FUNCTION log_write()")
                )
        else:
            for table in ("clients", "client_changes"):
                for op in ("INSERT", "UPDATE"):
                    log = f"INSERT INTO write_log VALUES ('{table}', '{op}')"
                    session.execute(text(f"CREATE TRIGGER log_{table}_{op} AFTER {op} ON {table} BEGIN {log}; END"))

    def written() -> list[tuple[str, str]]:
        with database.session() as session:
            return sorted((str(t), str(o)) for t, o in session.execute(text("SELECT tbl, op FROM write_log")))

    return written


def test_an_unchanged_reimport_writes_no_client_and_no_audit_row(database: Database, tenant: TenantInfo, write_log: Any) -> None:
    rng = random.Random(3)
    batch = [it for it in items(rng, range(0, 200), round_=1) if "parent" not in it]
    run_job(database, tenant, [to_record(i, it) for i, it in enumerate(batch)], BULK_POLICY)
    first = write_log()
    assert ("clients", "INSERT") in first
    assert ("client_changes", "INSERT") in first

    run_job(database, tenant, [to_record(i, it) for i, it in enumerate(batch)], BULK_POLICY)
    assert write_log() == first, "an unchanged re-import wrote client or audit rows"
    with database.session() as session:
        job = session.scalars(select(ImportJob).order_by(ImportJob.created_at.desc())).first()
        assert job is not None
        assert job.updated == job.created == 0
        assert job.unchanged + job.failed == len(batch)
        assert job.unchanged > 0
