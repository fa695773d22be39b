"""A job that ends in this process wakes its waiters at once; nothing is kept for jobs nobody waits on."""

from __future__ import annotations

import threading
import time

from clientdock.jobs import endings


def test_a_waiter_wakes_when_its_job_rings() -> None:
    woke: list[bool] = []
    waiter = threading.Thread(target=lambda: woke.append(endings.wait("job-a", 30)))
    waiter.start()
    while "job-a" not in endings._waiters:
        time.sleep(0.001)
    endings.ring("job-b")
    endings.ring("job-a")
    waiter.join(timeout=10)
    assert woke == [True]
    assert endings._waiters == {}
    assert endings._rung == set()


def test_a_wait_times_out_when_the_job_does_not_end() -> None:
    assert endings.wait("job-c", 0.01) is False
    assert endings._waiters == {}


def test_a_ring_nobody_waits_for_is_not_kept() -> None:
    endings.ring("job-d")
    assert endings._rung == set()
    assert endings.wait("job-d", 0.01) is False
