"""The escalation sweep (``xinfang.supervision.sweep.run_sweep``) at scale: O(due), not O(open).

``--sizes OPEN:DUE,…`` (default ``1000000:100000,200000:100000``): that many open cases, each
with one open 办理答复 (handle) deadline, ``DUE`` of them (spread through the table) due in two
days — inside the 临期提醒 window (−3 working days) and no other rule's — the rest due 30–400
days ahead. Cases and deadlines are written by one ``INSERT … SELECT`` each (generate_series on
PostgreSQL, a recursive CTE on SQLite). The sweep then runs for the fixed day Wed 2031-01-15
(no holiday data: Mon–Fri); a second run must create nothing (idempotent).

Printed: open, due, steps created, seconds, queries, peak RSS, second-run seconds and queries.
Databases: SQLite in a temporary directory under /tmp, PostgreSQL database ``xf_sweep_bench``
(``XINFANG_BENCH_DB``); both dropped at exit.

    .venv/bin/python bench/bench_sweep.py --db sqlite|postgres
        [--sizes 1000000:100000,200000:100000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("XINFANG_BENCH_DB", "xf_sweep_bench")

from _benchdb import setup, table

TODAY = dt.date(2031, 1, 15)  # a Wednesday; due on Fri 17 → 临期提醒 (3 working days before) only
UNITS = 20


def _org() -> dict[str, Any]:
    from django.contrib.auth.models import User

    from xinfang.org import roles as R
    from xinfang.org.models import Membership, Role, Unit, UnitType

    def user(name: str, unit: Any, role: str) -> Any:
        u = User.objects.create_user(name, password="x")
        Membership.objects.create(user=u, unit=unit, role=Role.objects.get(code=role))
        return u

    district = Unit.objects.create(
        name="示范区", unit_type=UnitType.DISTRICT, division_code="110105"
    )
    office = Unit.objects.create(
        name="区信访局", unit_type=UnitType.DEPARTMENT, parent=district, is_petition_office=True
    )
    streets = [
        Unit.objects.create(name=f"街道{i}", unit_type=UnitType.STREET, parent=district)
        for i in range(UNITS)
    ]
    clerk = user("clerk", office, R.CASE_OFFICER)
    user("sup", office, R.SUPERVISOR)
    user("leader", district, R.LEADER)
    for i, s in enumerate(streets):
        user(f"h{i}", s, R.HANDLER)
        user(f"u{i}", s, R.UNIT_HEAD)
    return {"office": office, "streets": streets, "clerk": clerk}


def _fill(open_n: int, due_n: int) -> float:
    """Cases (已受理) and their open handle deadlines, by INSERT … SELECT. Returns seconds."""
    from django.db import connection

    from xinfang.cases.models import Case, Deadline

    org = _org()
    street_ids = [s.pk for s in org["streets"]]
    assert street_ids == list(range(street_ids[0], street_ids[0] + UNITS))
    pg = connection.vendor == "postgresql"
    moment = "2030-11-01 09:00:00+00:00"
    explicit = {
        "number": "'B-' || i",
        "query_code": "'Q' || i",
        "channel": "'letter'",
        "purpose": "'appeal'",
        "summary": "'反映问题（基准测试）'",
        "content": "''",
        "received_at": "%s",
        "registered_at": "%s",
        "updated_at": "%s",
        "status": "'accepted'",
        "office_unit_id": str(org["office"].pk),
        "handling_unit_id": f"({street_ids[0]} + i %% {UNITS})",
        "registered_by_id": str(org["clerk"].pk),
        "headcount": "1",
    }
    cols: list[str] = []
    exprs: list[str] = []
    params: list[Any] = []
    for f in Case._meta.concrete_fields:
        if f.primary_key:
            continue
        col = f.column
        cols.append(col)
        if col in explicit:
            exprs.append(explicit[col])
            params.extend([moment] * explicit[col].count("%s"))
        elif f.has_default() or (not f.null and f.empty_strings_allowed):
            exprs.append("%s")
            params.append(f.get_db_prep_save(f.get_default(), connection))
        elif f.null:
            exprs.append("NULL")
        else:
            raise SystemExit(f"bench_sweep: no value for cases_case.{col}")
    t0 = time.perf_counter()
    case_t = connection.ops.quote_name(Case._meta.db_table)
    dl_t = connection.ops.quote_name(Deadline._meta.db_table)
    step = max(open_n // due_n, 1)
    with connection.cursor() as cur:
        if pg:
            series = f"generate_series(1, {open_n}) AS s(i)"
            cur.execute(
                f"INSERT INTO {case_t} ({', '.join(cols)}) SELECT {', '.join(exprs)} FROM {series}",
                params,
            )
            due = (
                f"CASE WHEN (c.id % {step}) = 0 THEN DATE '2031-01-17' "
                f"ELSE DATE '2031-02-14' + (c.id % 371)::int END"
            )
            cur.execute(
                f"INSERT INTO {dl_t} (case_id, kind, started_on, due_on, paused) "
                f"SELECT c.id, 'handle', DATE '2030-11-18', {due}, false FROM {case_t} c"
            )
            cur.execute(f"ANALYZE {case_t}")
            cur.execute(f"ANALYZE {dl_t}")
        else:
            cte = (
                "WITH RECURSIVE s(i) AS "
                f"(SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {open_n})"
            )
            cur.execute(
                f"{cte} INSERT INTO {case_t} ({', '.join(cols)}) SELECT {', '.join(exprs)} FROM s",
                params,
            )
            due = (
                f"CASE WHEN (c.id % {step}) = 0 THEN '2031-01-17' "
                f"ELSE date('2031-02-14', '+' || (c.id % 371) || ' days') END"
            )
            cur.execute(
                f"INSERT INTO {dl_t} (case_id, kind, started_on, due_on, paused) "
                f"SELECT c.id, 'handle', '2030-11-18', {due}, 0 FROM {case_t} c"
            )
            cur.execute("ANALYZE")
    from django.db import transaction

    if not transaction.get_autocommit():
        transaction.commit()
    return time.perf_counter() - t0


class _Counter:
    def __init__(self) -> None:
        self.n = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.n += 1
        return execute(sql, params, many, context)


def _sweep() -> tuple[Any, float, int]:
    from django.db import connection

    from xinfang.supervision.sweep import run_sweep

    counter = _Counter()
    t0 = time.perf_counter()
    with connection.execute_wrapper(counter):
        run = run_sweep(TODAY)
    return run, time.perf_counter() - t0, counter.n


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


HEADERS = [
    "open",
    "due",
    "steps created",
    "seconds",
    "queries",
    "peak RSS",
    "2nd run s",
    "2nd run queries",
    "fill s",
]


def _one(db: str, open_n: int, due_n: int) -> None:
    """One size in this process (a fresh database): prints one JSON row."""
    label = setup(db)
    fill = _fill(open_n, due_n)
    first, secs, queries = _sweep()
    rss = _rss_mb()
    second, secs2, queries2 = _sweep()
    assert first.state == "done" and second.state == "done", (first.error, second.error)
    assert second.created == 0, second.created
    row = [open_n, due_n, first.created, round(secs, 1), queries, f"{rss:,.0f} MB"]
    row += [round(secs2, 2), queries2, round(fill, 1)]
    print(json.dumps({"label": label, "row": row}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--db", default="sqlite", choices=["sqlite", "postgres"])
    ap.add_argument("--sizes", default="1000000:100000,200000:100000")
    ap.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    sizes = [tuple(int(x) for x in s.split(":")) for s in args.sizes.split(",")]
    if args.one:
        _one(args.db, *sizes[0])
        return
    rows, label = [], ""
    for open_n, due_n in sizes:  # each size in its own process: a fresh database and RSS
        out = subprocess.run(
            [sys.executable, __file__, "--db", args.db, "--sizes", f"{open_n}:{due_n}", "--one"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        got = json.loads(out.strip().splitlines()[-1])
        label = got["label"]
        rows.append(got["row"])
        print(f"open {open_n:,}, due {due_n:,}: {got['row']}", file=sys.stderr, flush=True)
    print(f"### bench_sweep.py — {label}, sweep day {TODAY}\n")
    print(table(HEADERS, rows))


if __name__ == "__main__":
    main()
