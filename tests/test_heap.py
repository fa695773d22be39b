"""A long-running process settles its heap once started: what start-up made is frozen out of
later collections and young collections run less often (``clientdock.heap``)."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_settling_freezes_the_start_up_heap_and_spaces_collections() -> None:
    # In a child: the settings are process-wide and must not leak into the test session.
    script = textwrap.dedent(
        """
        import gc
        from clientdock import heap
        made_at_start = [object() for _ in range(1000)]
        assert gc.get_freeze_count() == 0
        heap.settle()
        assert gc.get_freeze_count() > 1000, gc.get_freeze_count()
        assert gc.get_threshold() == heap.THRESHOLDS
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_the_service_settles_its_heap_before_serving() -> None:
    script = textwrap.dedent(
        """
        import gc
        import uvicorn
        from clientdock import server
        from clientdock.settings import Settings
        seen = {}
        def run(app, **_options):
            seen.update(frozen=gc.get_freeze_count(), thresholds=gc.get_threshold())
        uvicorn.run = run
        import tempfile, pathlib
        folder = pathlib.Path(tempfile.mkdtemp())
        server.run_server(Settings(data_dir=folder, database_url=f"sqlite:///{folder / 'db.sqlite'}", start_workers=False), "127.0.0.1", 0)
        from clientdock.heap import THRESHOLDS
        assert seen["frozen"] > 10_000 and seen["thresholds"] == THRESHOLDS, seen
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
