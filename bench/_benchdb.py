"""Shared set-up for the bench scripts: a throwaway database, Django, and table printing.

Not a benchmark itself (``make bench`` runs it and it says so). Each bench script calls
``setup(db)`` before importing anything from Django or ``xinfang``:

* ``sqlite``: the normal settings (WAL, ``synchronous=FULL``, IMMEDIATE transactions) with
  ``XINFANG_SQLITE_PATH`` pointing into a temporary directory, deleted at exit.
* ``postgres``: the server of ``DATABASE_URL`` (default ``postgres://postgres@127.0.0.1:5432``),
  database ``xinfang_bench`` (or ``XINFANG_BENCH_DB``), dropped and created here, dropped at exit.
  The database named in ``DATABASE_URL`` is never touched.
"""

from __future__ import annotations

import atexit
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/xinfang_bench"


def _pg_url() -> tuple[str, str]:
    """(bench database URL, maintenance URL) on the server of DATABASE_URL."""
    parts = urlsplit(os.environ.get("DATABASE_URL") or DEFAULT_PG)
    name = os.environ.get("XINFANG_BENCH_DB", "xinfang_bench")
    return urlunsplit(parts._replace(path=f"/{name}")), urlunsplit(parts._replace(path="/postgres"))


def _pg_admin(maintenance_url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(maintenance_url, autocommit=True) as conn:
        conn.execute(sql)


def setup(
    db: str,
    *,
    allowed_hosts: str = "testserver,127.0.0.1,localhost",
    keep: bool = False,
    reuse: bool = False,
) -> str:
    """Point the settings at a fresh database, set Django up and migrate. Returns a label.
    ``keep``: leave the database behind for inspection (its location is printed).
    ``reuse``: open the database an earlier ``keep`` run left (PostgreSQL: the same name;
    SQLite: ``XINFANG_SQLITE_PATH`` must name it), migrate it, and leave it behind again."""
    sys.path.insert(0, str(ROOT))
    os.environ["XINFANG_ALLOW_DEV_SECRET"] = "1"
    os.environ["DJANGO_SETTINGS_MODULE"] = "xinfang.settings"
    os.environ["XINFANG_ALLOWED_HOSTS"] = allowed_hosts
    os.environ.setdefault("XINFANG_LOG_LEVEL", "ERROR")
    if reuse:
        if db == "sqlite":
            path = os.environ.get("XINFANG_SQLITE_PATH", "")
            if not Path(path).is_file():
                raise SystemExit("--reuse with SQLite: set XINFANG_SQLITE_PATH to the kept file")
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = _pg_url()[0]
        print(f"(reusing the kept database: {os.environ.get('DATABASE_URL') or path})")
    elif db == "sqlite":
        tmp = tempfile.mkdtemp(prefix="xinfang-bench-")
        if keep:
            print(f"(keeping the database: XINFANG_SQLITE_PATH={tmp}/bench.sqlite3)")
        else:
            atexit.register(shutil.rmtree, tmp, ignore_errors=True)
        os.environ.pop("DATABASE_URL", None)
        os.environ["XINFANG_SQLITE_PATH"] = str(Path(tmp) / "bench.sqlite3")
    elif db == "postgres":
        url, admin = _pg_url()
        name = urlsplit(url).path.lstrip("/")
        _pg_admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _pg_admin(admin, f'CREATE DATABASE "{name}"')
        if keep:
            print(f"(keeping the database: DATABASE_URL={url})")
        else:
            atexit.register(_drop_pg, admin, name)
        os.environ["DATABASE_URL"] = url
    else:
        raise SystemExit(f"--db must be sqlite or postgres, not {db!r}")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SHOW server_version")
            return "PostgreSQL " + cur.fetchone()[0].split()[0]
    import sqlite3

    return f"SQLite {sqlite3.sqlite_version} (WAL, synchronous=FULL, IMMEDIATE)"


def _drop_pg(admin: str, name: str) -> None:
    from django.db import connections

    connections.close_all()
    _pg_admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def summary_ms(seconds: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    return {
        "p50": percentile(ms, 50),
        "p95": percentile(ms, 95),
        "p99": percentile(ms, 99),
        "max": max(ms) if ms else float("nan"),
        "mean": statistics.fmean(ms) if ms else float("nan"),
    }


def table(headers: list[str], rows: list[list[Any]]) -> str:
    def cell(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:,.1f}" if abs(v) >= 10 else f"{v:.2f}"
        if isinstance(v, int):
            return f"{v:,}"
        return str(v)

    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    print("bench/_benchdb.py: shared set-up for the bench scripts; nothing to run.")
