"""Benchmark: staging a job's records (``jobs.staging.write``) with its in-file duplicate check.

Generated raw records (as the file door yields them: names with accents, an email, a phone, a
company, a date; one in a hundred repeats an earlier email, one in fifty has a source reference)
stream into ``staging.write`` in a child process per size, so each figure has its own peak
RSS. Prints one JSON line per size: seconds, rows/s and CPU seconds of the write (no tracing;
making the records included), the peak of Python allocations during a second, traced write
(tracemalloc; the records are made on the fly, so it is what staging holds), and the child's
peak RSS.

    .venv/bin/python -m bench staging --rows 100000 1000000
"""

from __future__ import annotations

import argparse
import random
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench import harness
from clientdock.jobs import staging
from clientdock.pipeline.records import RawRecord, Ref

FIRST = ["Maya", "Ben", "Zoë", "Jürgen", "Siobhán", "Ana", "Luca", "Noor", "Kwame", "Mei", "Olga", "Raj"]
LAST = ["White", "Mwangi", "Brontë", "Weiß", "O'Connor", "García", "Rossi", "Haddad", "Mensah", "Chen", "Ivanova", "Patel"]


def records(rows: int, seed: int) -> Iterator[RawRecord]:
    rng = random.Random(seed)
    for i in range(rows):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        email = f"client{rng.randrange(i) if i and i % 100 == 0 else i}@bench.example.org"
        fields: dict[str, Any] = {
            "firstName": first, "lastName": last, "email": email, "mobile": f"07700 9{i % 100000:05d}",
            "company": f"Company {i % 997}", "dateOfBirth": f"19{rng.randint(40, 99)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
        }  # fmt: skip
        refs = [Ref("crm", str(i))] if i % 50 == 0 else []
        yield RawRecord(index=i + 1, fields=fields, refs=refs, lookup_key=email, line=i + 2, source=list(fields.values()))


def measure(rows: int, chunk: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder)
        started, cpu = time.perf_counter(), time.process_time()
        count, _offsets = staging.write(data, "timed", records(rows, rows), chunk)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        staging.remove(data, "timed")
        tracemalloc.start()
        staging.write(data, "traced", records(rows, rows), chunk)
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return {
        "bench": "staging_write",
        "rows": count,
        "seconds": round(seconds, 2),
        "rows_per_s": round(count / seconds),
        "cpu_s": round(cpu, 2),
        "traced_peak_mib": round(peak / 1024**2, 1),
        "peak_rss_mib": round(rss_mib, 1),
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--chunk", type=int, default=2000)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> None:
    if args.child:
        harness.emit(measure(args.rows[0], args.chunk))
        return
    for rows in args.rows:
        subprocess.run([sys.executable, "-m", "bench", "staging", "--child", "--rows", str(rows), "--chunk", str(args.chunk)], check=True)
