"""Real threads against a shared database (PostgreSQL: the SQLite test database is in-memory,
one per connection): release ``n`` workers at once and collect what each returned or raised."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections

needs_server_db = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="threads need a shared database; the SQLite test database is in-memory",
)


def in_threads(n: int, work: Callable[[int], Any], timeout: float = 120) -> list[Any]:
    """Run ``work(i)`` in ``n`` threads released together; return results (or exceptions)."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[i] = work(i)
        except Exception as exc:  # reported by the caller's assertions
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout)
    assert not any(t.is_alive() for t in threads), "a worker thread hung"
    return results
