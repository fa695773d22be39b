"""Run ``clientdock`` (``python -m bench.sampler OUT.html -- serve …``) with every thread sampled,
and write the samples as a pyinstrument profile (OUT.html and OUT.txt) when it exits.

pyinstrument profiles only the thread that starts it, and the service imports on a job worker
thread; so this samples ``sys._current_frames()`` of every thread every ``INTERVAL`` seconds
and hands the stacks to pyinstrument's renderers, one root per thread. Sampling starts on
SIGUSR1 (the harness sends it just before the upload, so start-up is not in the profile).
Samples of a thread waiting for work (a pool worker on its queue, the event loop in
``select``, DBOS's notification listeners) are dropped; waiting on the database is kept (it is
a thread inside psycopg or sqlite3 code, not on a queue).
"""

from __future__ import annotations

import atexit
import os
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType

from pyinstrument.renderers import ConsoleRenderer, HTMLRenderer
from pyinstrument.session import Session

INTERVAL = 0.002
#: The frame every sampled stack starts from (pyinstrument wants one root).
ROOT = "clientdock serve\x00<process>\x000"
#: (function, file ending) of the innermost frame of a thread that has nothing to do.
IDLE = {
    ("select", "selectors.py"), ("wait", "threading.py"), ("get", "queue.py"), ("_worker", "thread.py"),
    ("_wait_for_tstate_lock", "threading.py"), ("run_forever", "base_events.py"), ("run", "runners.py"),
    ("_notification_listener_polling", "_sys_db.py"),
}  # fmt: skip
#: Threads of DBOS that only wait for PostgreSQL's notifications (their work is negligible).
IDLE_THREADS = ("run_notification_listener", "run_notifier")


def frame_info(frame: FrameType) -> str:
    """A frame as pyinstrument identifies it: function, file, first line; its class and current line."""
    code = frame.f_code
    info = f"{code.co_name}\x00{code.co_filename}\x00{code.co_firstlineno}"
    owner = frame.f_locals.get("self") if "self" in code.co_varnames[:1] else None
    if owner is not None:
        info += f"\x01c{type(owner).__qualname__}"
    return info + f"\x01l{frame.f_lineno}"


def idle(frame: FrameType) -> bool:
    return (frame.f_code.co_name, os.path.basename(frame.f_code.co_filename)) in IDLE


class Sampler:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.records: dict[tuple[str, ...], float] = {}
        self.started = threading.Event()
        self.start_time = 0.0
        self.samples = 0
        self.cpu_start = 0.0
        self.written = False

    def start(self) -> None:
        if not self.started.is_set():
            self.start_time, self.cpu_start = time.time(), time.process_time()
            self.started.set()

    def loop(self) -> None:
        me = threading.get_ident()
        self.started.wait()
        names: dict[int | None, str] = {}
        quiet: set[int | None] = set()
        last = time.perf_counter()
        while True:
            time.sleep(INTERVAL)
            now = time.perf_counter()
            elapsed, last = now - last, now
            self.samples += 1
            if len(names) != threading.active_count():
                names = {t.ident: t.name for t in threading.enumerate()}
                quiet = {ident for ident, name in names.items() if any(part in name for part in IDLE_THREADS)}
            for ident, frame in sys._current_frames().items():
                if ident == me or ident in quiet or idle(frame):
                    continue
                stack: list[str] = []
                walker: FrameType | None = frame
                while walker is not None:
                    stack.append(frame_info(walker))
                    walker = walker.f_back
                stack.extend((f"thread {names.get(ident, ident)}\x00<thread>\x000", ROOT))
                key = tuple(reversed(stack))
                self.records[key] = self.records.get(key, 0.0) + elapsed

    def write(self) -> None:
        if not self.started.is_set() or self.written:
            return
        self.written = True
        duration = time.time() - self.start_time
        session = Session(
            frame_records=[(list(stack), seconds) for stack, seconds in self.records.items()],
            start_time=self.start_time, duration=duration, min_interval=INTERVAL, max_interval=INTERVAL,
            sample_count=self.samples, start_call_stack=[ROOT], target_description="clientdock serve (every thread)",
            cpu_time=time.process_time() - self.cpu_start, sys_path=sys.path, sys_prefixes=[sys.prefix, sys.base_prefix],
        )  # fmt: skip
        self.out.write_text(HTMLRenderer().render(session))
        self.out.with_suffix(".txt").write_text(ConsoleRenderer(unicode=True, color=False, show_all=False).render(session))


def main() -> None:
    out, separator, *command = sys.argv[1:]
    assert separator == "--", "usage: python -m bench.sampler OUT.html -- serve [...]"
    sampler = Sampler(Path(out))
    signal.signal(signal.SIGUSR1, lambda *_: sampler.start())
    threading.Thread(target=sampler.loop, name="bench-sampler", daemon=True).start()
    atexit.register(sampler.write)
    # uvicorn re-raises the SIGTERM it stopped on once it has shut down, with the handler that
    # was there before it: this one, so the process ends through atexit and writes the profile.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    from clientdock.cli import app

    sys.argv = ["clientdock", *command]
    app()


if __name__ == "__main__":
    main()
