"""The unit workbench (/work/) under load: one unit with 10,000 open cases, plus noise elsewhere.

    .venv/bin/python bench/bench_workbench.py [--db sqlite|postgres|both] [--cases 10000]
                                              [--noise 20000] [--requests 200]

Fixture: the demo org; ``--cases`` open cases handled by 东湖街道 (已交办/已转送/已签收/已受理,
with their open 受理/办理 deadline rows: ≈15 % overdue, ≈10 % due within 3 days, the rest later)
and ``--noise`` cases of other units and states, written with ``bulk_create``. Logged in as
``chengban_dh`` (承办人 of 东湖街道), each view is requested ``--requests`` times through Django's
test Client; server time per request (p50/p95/p99) and SQL statements per request are printed.

Target: p95 ≤ 150 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _benchdb as B

TARGET_P95_MS = 150.0
OPEN = ["assigned", "forwarded", "signed", "accepted"]
NOISE = ["registered", "assigned", "signed", "accepted", "closed", "replied", "returned"]


def _seed(org: Any, n: int, noise: int, seed: int) -> None:
    from django.db import transaction
    from django.utils import timezone

    from xinfang.cases.models import Case, Category, Deadline

    rng = random.Random(seed)
    now = timezone.now()
    today = timezone.localdate()
    cats = list(Category.objects.filter(level=3).values_list("id", flat=True))
    unit = org.units["dh"]
    others = [u for k, u in org.units.items() if k in ("qs", "zj", "rs", "hb")] or [
        org.units["office"]
    ]
    office = org.units["office"]
    user = org.user("banan")
    words = ["物业费上涨", "拖欠工资", "噪音扰民", "拆迁补偿", "低保申请", "学区划分", "油烟污染"]
    made = 0
    total = n + noise
    while made < total:
        size = min(5000, total - made)
        cases, plan = [], []
        for i in range(made, made + size):
            mine = i < n
            status = rng.choice(OPEN) if mine else rng.choice(NOISE)
            received = now - dt.timedelta(days=rng.uniform(1, 120))
            handling = unit if mine else (None if status == "registered" else rng.choice(others))
            cases.append(
                Case(
                    number=f"XF-BENCH-{i:07d}",
                    query_code=f"B{i:09d}",
                    channel="letter",
                    purpose="appeal",
                    category_id=rng.choice(cats),
                    summary=f"反映{rng.choice(words)}问题（第{i}件）",
                    content="",
                    received_at=received,
                    status=status,
                    office_unit=office,
                    handling_unit=handling,
                    registered_by=user,
                    registered_at=received,
                )
            )
            r = rng.random()
            offset = (
                -rng.randint(1, 60)
                if r < 0.15
                else rng.randint(0, 3)
                if r < 0.25
                else rng.randint(4, 60)
            )
            plan.append((status, today + dt.timedelta(days=offset)))
        with transaction.atomic():
            Case.objects.bulk_create(cases, batch_size=1000)
            rows = []
            for case, (status, due) in zip(cases, plan, strict=True):
                if status in ("closed", "replied"):
                    continue
                kind = {
                    "registered": "route",
                    "returned": "route",
                    "assigned": "accept",
                    "forwarded": "accept",
                    "signed": "accept",
                    "accepted": "handle",
                }[status]
                rows.append(
                    Deadline(
                        case=case, kind=kind, started_on=due - dt.timedelta(days=15), due_on=due
                    )
                )
            Deadline.objects.bulk_create(rows, batch_size=2000)
        made += size
        print(f"  seeded {made:,}/{total:,}", file=sys.stderr)


MIXES: list[tuple[str, list[dict[str, str]]]] = [
    ("default (全部, page 1)", [{}]),
    ("tab 超期", [{"tab": "overdue"}]),
    ("tab 新到未签收", [{"tab": "new"}]),
    ("tab 办理中, page 20", [{"tab": "doing", "page": "20"}]),
    ("全部, page 150", [{"page": "150"}]),
    ("search a word", [{"q": w} for w in ("物业费", "拖欠", "噪音", "补偿")]),
    (
        "status + deadline",
        [
            {"status": "accepted", "deadline": "due_soon"},
            {"status": "signed", "deadline": "overdue"},
        ],
    ),
]


def run(
    db: str, n: int, noise: int, requests: int, seed: int, profile: bool = False
) -> list[list[Any]]:
    label = B.setup(db)
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from xinfang.cases.models import Category
    from xinfang.org.demo import load_org

    org = load_org()
    t0 = time.perf_counter()
    _seed(org, n, noise, seed)
    print(
        f"{label}: seeded {n + noise:,} cases in {time.perf_counter() - t0:.0f} s", file=sys.stderr
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
    cat = Category.objects.filter(level=2).order_by("id").values_list("id", flat=True).first()
    mixes = [*MIXES, ("category filter", [{"category": str(cat)}])]
    client = Client()
    client.force_login(org.user("chengban_dh"))
    out = []
    for name, sets in mixes:
        for params in sets[:2]:
            assert client.get("/work/", params).status_code == 200  # warm-up
        times = []
        for i in range(requests):
            t = time.perf_counter()
            r = client.get("/work/", sets[i % len(sets)])
            times.append(time.perf_counter() - t)
            assert r.status_code == 200
        with CaptureQueriesContext(connection) as ctx:
            client.get("/work/", sets[0])
        if profile:
            from bench_case_list import _profile

            print(_profile(lambda p: client.get("/work/", p), sets[0], connection.vendor))
        s = B.summary_ms(times)
        out.append(
            [label.split()[0], name, s["p50"], s["p95"], s["p99"], len(ctx.captured_queries)]
        )
        flag = "" if s["p95"] <= TARGET_P95_MS else "  <-- over target"
        print(
            f"{label} {name}: p50 {s['p50']:.1f} p95 {s['p95']:.1f} p99 {s['p99']:.1f} ms, "
            f"{len(ctx.captured_queries)} queries{flag}",
            file=sys.stderr,
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", default="sqlite", choices=["sqlite", "postgres", "both"])
    ap.add_argument("--cases", type=int, default=10_000)
    ap.add_argument("--noise", type=int, default=20_000)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--profile", action="store_true", help="show the slowest SQL of each view")
    a = ap.parse_args()
    if a.db == "both":
        # One Django setup per process: run each database in its own interpreter.
        import subprocess

        for db in ("sqlite", "postgres"):
            subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--db",
                    db,
                    "--cases",
                    str(a.cases),
                    "--noise",
                    str(a.noise),
                    "--requests",
                    str(a.requests),
                ],
                check=True,
            )
        return
    rows = run(a.db, a.cases, a.noise, a.requests, a.seed, a.profile)
    print(B.table(["db", "view", "p50 ms", "p95 ms", "p99 ms", "queries"], rows))


if __name__ == "__main__":
    main()
