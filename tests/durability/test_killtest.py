"""kill -9 of gunicorn (master and workers) during an intake load, restarted each time; clients
retry with the same Idempotency-Key. Every acknowledged case is stored exactly once, whole.

The harness is ``bench/bench_killtest.py`` (larger N there). On PostgreSQL (``DATABASE_URL``
set) it runs against a fresh database created and dropped for the test."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
KILLS = int(os.environ.get("XINFANG_KILLTEST_KILLS", "5"))
REQUESTS = int(os.environ.get("XINFANG_KILLTEST_REQUESTS", "200"))


def _harness() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "bench_killtest", ROOT / "bench/bench_killtest.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_sigkill_during_intake_loses_and_duplicates_nothing() -> None:
    harness = _harness()
    url = os.environ.get("DATABASE_URL", "")
    drop = None
    if url:
        url, drop = harness._pg_database(url)
    try:
        result = harness.run(database_url=url, kills=KILLS, requests=REQUESTS, clients=4, seed=4)
    finally:
        if drop is not None:
            drop()
    print(result.table())
    assert result.kills == KILLS
    assert len(result.acked) == REQUESTS
    assert result.stored == REQUESTS
    assert result.duplicates == 0
    assert result.lost == [] and result.wrong_number == []
    assert result.half_written == 0
    assert result.gaps == []
    assert result.integrity in {"ok", "n/a"}
    assert result.ok
