"""The page builders at a kept statistics bench database (``bench_stats.py --build-only``):
``dashboard.build`` (district this month and last month, a street this month) and
``bulletins.build_figures`` (district, last month) — wall p50/p95/max, the SQL time of a call
(p50) and its statements, nothing else measured. Like the server (``xinfang/wsgi.py``) the
process freezes its heap once warm (``gc.freeze``; ``--no-freeze`` to compare). A quick
re-measure after a read-path change, without the whole ``bench_stats.py --reuse`` run.

    XINFANG_BENCH_DB=xf_bench10m .venv/bin/python bench/bench_pages.py --db pg --reps 20
    XINFANG_SQLITE_PATH=… .venv/bin/python bench/bench_pages.py --db sqlite
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _benchdb as B


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", default="pg", help="sqlite | pg (postgres)")
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument(
        "--no-freeze", action="store_true", help="leave the start-up heap to the collector"
    )
    args = ap.parse_args()
    label = B.setup("postgres" if args.db in ("pg", "postgres") else args.db, reuse=True)

    import _stats_seed as S
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from xinfang.cases.models import Case
    from xinfang.stats import bulletins, dashboard
    from xinfang.stats.periods import Period

    tree = S.load_tree()
    today = dt.date.today()
    month = Period(today.replace(day=1), today)
    last_end = today.replace(day=1) - dt.timedelta(days=1)
    last = Period(last_end.replace(day=1), last_end)
    calls = [
        (
            "dashboard.build, district, this month",
            lambda: dashboard.build(tree.leader, tree.district, month, today),
        ),
        (
            "dashboard.build, district, last month",
            lambda: dashboard.build(tree.leader, tree.district, last, today),
        ),
        (
            "dashboard.build, street, this month",
            lambda: dashboard.build(tree.leader, tree.streets[0], month, today),
        ),
        (
            "bulletins.build_figures monthly, district, last month",
            lambda: bulletins.build_figures("monthly", tree.district, last, today=today),
        ),
    ]
    for _name, fn in calls:
        fn()  # warm: caches, plans, imports
    if not args.no_freeze:
        gc.collect()
        gc.freeze()  # as the server process does once started (xinfang/wsgi.py)
    rows = []
    for name, fn in calls:
        walls, sqls, n = [], [], 0
        for _ in range(args.reps):
            with CaptureQueriesContext(connection) as ctx:
                t0 = time.perf_counter()
                fn()
                walls.append(time.perf_counter() - t0)
            sqls.append(sum(float(q["time"]) for q in ctx.captured_queries))
            n = len(ctx.captured_queries)
        ms = B.summary_ms(walls)
        rows.append([name, ms["p50"], ms["p95"], ms["max"], B.summary_ms(sqls)["p50"], n])
    print(f"### bench_pages.py — {label}, {Case.objects.count():,} cases, {args.reps} reps\n")
    print(B.table(["call", "p50 ms", "p95 ms", "max ms", "SQL p50 ms", "statements"], rows))


if __name__ == "__main__":
    main()
