"""Races for tests: the same call from several threads released at once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def run_concurrently(count: int, call: Callable[[], T]) -> list[T]:
    """Run ``call`` in ``count`` threads that all start together (behind a barrier) and return
    what each returned. An exception in any thread is raised here, after all have finished."""
    barrier = threading.Barrier(count)
    results: list[T] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def attempt() -> None:
        barrier.wait()
        try:
            result = call()
        except BaseException as exc:  # re-raised in the test's own thread below
            with lock:
                errors.append(exc)
            return
        with lock:
            results.append(result)

    threads = [threading.Thread(target=attempt) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results
