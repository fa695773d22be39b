"""Benchmark: normalisation and validation (``pipeline.run.prepare``) of generated file rows.

A seeded CSV of realistic clients (names with accents, phones +44 / national / international /
empty, emails, company types, ``dd/mm/yyyy`` dates, tags, notes; a few bad values) is read by the
file door into raw records (not timed); ``prepare`` then runs over them in chunks of 2,000, as
the job does, against a tenant context loaded from a real (SQLite) database. Prints one JSON
line per run (cold and warm phone cache, below): rows/s of ``prepare`` alone (and per CPU
second, steadier on a busy machine), and the failed and warned rows (which must not move
when the code gets faster).

    .venv/bin/python -m bench prepare --rows 100000 --repeat 3
"""

from __future__ import annotations

import argparse
import csv
import random
import tempfile
import time
from pathlib import Path

from bench import harness
from clientdock.db import Database
from clientdock.imports.file_records import read_records
from clientdock.imports.files import CSV_POLICY
from clientdock.migrate import upgrade
from clientdock.pipeline import values
from clientdock.pipeline.records import Policy, RawRecord
from clientdock.pipeline.run import prepare
from clientdock.tenants import service as tenants
from clientdock.tenants.context import TenantContext, load_context
from clientdock.tenants.models import Tenant

FIRST = ["Maya", "Ben", "Zoë", "Jürgen", "Siobhán", "Ana", "Luca", "Noor", "Kwame", "Mei", "Olga", "Raj", "François", "Łukasz"]
LAST = ["White", "Mwangi", "Brontë", "Weiß", "O'Connor", "García", "Rossi", "Haddad", "Mensah", "Chen", "Ivanova", "Patel", "Núñez"]
COMPANY = ["Acme", "Brontë & Sons", "Weiß Holdings", "Northwind", "Blue Harbour", "Čapek Design", "Tea & Co"]
FORMS = ["Ltd", "Limited", "LLP", "plc", "GmbH", "", "", ""]
TYPES = ["Personal", "ltd", "", "", "Individual", "LLP", "sole trader", "Charity"]
TAGS = ["vip", "payroll", "newsletter", "bookkeeping", "vat", "tax return"]
DOMAINS = ["bench.example.org", "Example.COM", "mail.co.uk", "firm.de", "posteo.net"]
HEADER = ["First Name", "Last Name", "E-mail", "Mobile", "Phone", "Company", "Active", "Type", "Date of Birth", "Tags", "Notes"]


def phone_text(rng: random.Random, i: int) -> str:
    """Mobile and landline numbers the way firms keep them: national, +44, 0044, with
    punctuation, foreign, empty, and now and then one that is no number at all."""
    choice = rng.randrange(10)
    n = rng.randrange(1_000_000)
    if choice == 0:
        return ""
    if choice == 1:
        return f"+44 7700 9{n % 100000:05d}"
    if choice == 2:
        return f"07700 9{n % 100000:05d}"
    if choice == 3:
        return f"(020) 7946 {n % 10000:04d}"
    if choice == 4:
        return f"+44 (0)20 7946 {n % 10000:04d}"
    if choice == 5:
        return f"0044 161 496 {n % 10000:04d}"
    if choice == 6:
        return f"+49 30 {n:06d}"
    if choice == 7:
        return f"+1 (415) 555-{n % 10000:04d}"
    if choice == 8:
        return "ask reception" if i % 50 == 0 else f"0161-496-{n % 10000:04d}"
    return f"07{n % 1000:03d} {n % 1000000:06d}"


def email_text(rng: random.Random, i: int, first: str, last: str) -> str:
    if i % 97 == 0:
        return f"{first}.{last}@"  # refused
    if i % 53 == 0:
        return f"{first.lower()}@{rng.choice(['müller.de', 'bücher.example'])}"  # internationalised
    local = f"{first}.{last}".replace("'", "").replace(" ", "")
    local = local if local.isascii() else f"client{i}"
    return f"{local}{i}@{rng.choice(DOMAINS)}"


def write_csv(path: Path, rows: int, *, seed: int) -> None:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(HEADER)
        for i in range(rows):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            company = f"{rng.choice(COMPANY)} {rng.choice(FORMS)}".strip() if rng.random() < 0.4 else ""
            day, month, year = rng.randint(1, 28), rng.randint(1, 12), rng.randint(1940, 2005)
            born = f"{day:02d}/{month:02d}/{year}" if rng.random() < 0.8 else ""
            tags = ";".join(rng.sample(TAGS, rng.randrange(3)))
            row = [
                first, last, email_text(rng, i, first, last), phone_text(rng, i), phone_text(rng, i), company,
                rng.choice(["yes", "no", "", "TRUE"]), rng.choice(TYPES), born, tags,
                f"note {i}: met at the {rng.choice(['spring', 'autumn'])} fair" if rng.random() < 0.5 else "",
            ]  # fmt: skip
            writer.writerow(row)


def tenant_context(tmp: Path) -> TenantContext:
    url = f"sqlite:///{tmp / 'prepare.db'}"
    upgrade(url)
    db = Database(url)
    with db.session() as session:
        tenant = tenants.create_tenant(session, "bench")
        tenant.settings = {"importRowLimit": 10_000_000}
    with db.session() as session:
        loaded = session.get(Tenant, tenant.id)
        assert loaded is not None
        ctx = load_context(session, loaded)
    db.dispose()
    return ctx


def records_of(path: Path) -> list[RawRecord]:
    return list(read_records(path, filename=path.name, encoding=None, delimiter=None, sheet=None, mapping=None, date_orders={}))


def timed(records: list[RawRecord], ctx: TenantContext, policy: Policy, chunk: int) -> tuple[float, float, int, int]:
    started, cpu = time.perf_counter(), time.process_time()
    failed = warned = 0
    for start in range(0, len(records), chunk):
        for candidate in prepare(records[start : start + chunk], ctx, policy):
            failed += candidate.failed
            warned += bool(candidate.warnings)
    return time.perf_counter() - started, time.process_time() - cpu, failed, warned


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--chunk", type=int, default=2000)


def run(args: argparse.Namespace) -> None:
    policy = CSV_POLICY
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        ctx = tenant_context(tmp)
        path = tmp / "clients.csv"
        write_csv(path, args.rows, seed=args.rows)
        records = records_of(path)
    # "cold": every phone number parsed afresh, as in a file's first import; "warm": the same
    # rows again in the same process (a re-import), the phone cache as the first run left it.
    for attempt, cache in [*((n, "cold") for n in range(args.repeat)), (args.repeat, "warm")]:
        if cache == "cold" and hasattr(values, "e164"):  # a tree from before the phone cache has none
            values.e164.cache_clear()
        seconds, cpu, failed, warned = timed(records, ctx, policy, args.chunk)
        harness.emit(
            {
                "bench": "prepare",
                "rows": len(records),
                "run": attempt + 1,
                "cache": cache,
                "seconds": round(seconds, 3),
                "rows_per_s": round(len(records) / seconds),
                "cpu_s": round(cpu, 3),
                "rows_per_cpu_s": round(len(records) / cpu),
                "failed": failed,
                "warned": warned,
            }
        )
