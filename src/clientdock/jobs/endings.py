"""Wake whoever waits on a job in this process as soon as the job ends.

The hybrid answer (``imports.respond``) polls the job row; a job that ends in this process
(embedded workers) rings here right after its final commit, so the waiting request answers at
once instead of at its next poll. A job run by another process is still seen by the poll.
"""

from __future__ import annotations

import threading

_ended = threading.Condition()
#: Jobs someone waits on (how many waiters), and those of them that have ended since.
_waiters: dict[str, int] = {}
_rung: set[str] = set()


def ring(job_id: str) -> None:
    """The job has ended (its final transaction committed)."""
    with _ended:
        if job_id in _waiters:
            _rung.add(job_id)
            _ended.notify_all()


def wait(job_id: str, seconds: float) -> bool:
    """Wait up to ``seconds`` for ``job_id`` to ring; True if it did meanwhile."""
    with _ended:
        _waiters[job_id] = _waiters.get(job_id, 0) + 1
        try:
            return _ended.wait_for(lambda: job_id in _rung, timeout=seconds)
        finally:
            _waiters[job_id] -= 1
            if not _waiters[job_id]:
                del _waiters[job_id]
                _rung.discard(job_id)
