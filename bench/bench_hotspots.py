"""Hotspots (热点发现): the clustering on real messages, and its cost at 10k / 50k cases a window.

Part 1 — real data (no database): the Teddy Cup 2020 messages of ``hot.jsonl`` (with their
likes/dislikes) and ``train.jsonl`` (background messages), each with its own ``time``, go
through the same ``topics``/``hotspots.rank`` code the page uses; printed: the ranked clusters of
the whole period and of a 90-day window. The place is read off the text (``A5区``, ``K3县`` …,
the organisers' anonymised names); the messages have no category in common (``hot.jsonl`` has
none), so all of them are one block.

Part 2 — scale (``--db postgres|sqlite``): the demo org, then bulk cases (``_bulkseed``) spread
over the last two months, so that a 30-day window holds ~10k and then ~50k cases; timed as the
district leader: first (no ``CaseTopicTerms`` stored yet: every case's terms computed and stored,
the cost of a backfill), stored (terms read back; result cache off), cached (the 5-minute result
cache), and the page itself (cached).

    .venv/bin/python bench/bench_hotspots.py --real-only
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/xf_bench_hot XINFANG_BENCH_DB=xf_bench_hot \\
        .venv/bin/python bench/bench_hotspots.py --db postgres
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

import _benchdb as B

DATA = Path("/work/shared/data/teddy2020")
PLACE_RE = re.compile(r"[A-Z]\d{1,2}[区县市]")


def _real_docs(data: Path) -> tuple[list[Any], dict[str, tuple[int, int]], list[dict[str, Any]]]:
    from xinfang.intel import hotspots as H
    from xinfang.intel import topics

    records, reaction = [], {}
    for name in ("hot", "train"):
        for line in (data / f"{name}.jsonl").read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            row["_src"] = name
            records.append(row)
            if name == "hot":
                reaction[f"hot:{row['id']}"] = (int(row["likes"] or 0), int(row["dislikes"] or 0))
    docs = []
    for row in records:
        when = dt.datetime.strptime(row["time"].replace("/", "-"), "%Y-%m-%d %H:%M:%S").date()
        hit = PLACE_RE.search(row["title"] + row["text"])
        place = (
            hit.group(0) if hit else ("A市" if "A市" in row["title"] + row["text"] else "属地不详")
        )
        docs.append(
            H.Doc(
                id=f"{row['_src']}:{row['id']}",
                day=when,
                place=place,
                terms=topics.terms_of(row["title"], row["text"]),
            )
        )
    return docs, reaction, records


def real_data(data: Path) -> None:
    from xinfang.intel import hotspots as H

    started = time.perf_counter()
    docs, reaction, records = _real_docs(data)
    t_terms = time.perf_counter() - started
    titles = {f"{r['_src']}:{r['id']}": r["title"] for r in records}
    first, last = min(d.day for d in docs), max(d.day for d in docs)
    print(
        f"\n### Real messages — {len(docs)} ({sum(1 for r in records if r['_src'] == 'hot')} "
        f"with likes/dislikes), {first} … {last}; terms in {t_terms * 1000:.0f} ms\n"
    )
    whole = H.Window(last, (last - first).days + 1)
    for title, window in (
        ("Whole period as one window (no previous window)", whole),
        (
            "90-day window ending 2019-09-30 (previous: the 90 days before)",
            H.Window(dt.date(2019, 9, 30), 90),
        ),
    ):
        inside = [d for d in docs if window.prev_start <= d.day <= window.end]
        t0 = time.perf_counter()
        ranked = H.rank(inside, window, reaction)
        ms = (time.perf_counter() - t0) * 1000
        now = sum(1 for d in inside if d.day >= window.start)
        print(
            f"#### {title}: {now} messages, {len(ranked)} clusters of ≥ {H.MIN_CASES}, "
            f"{sum(h.cases for h in ranked)} messages in them; clustering {ms:.0f} ms\n"
        )
        rows = []
        for h in ranked[:15]:
            sample = " / ".join(titles[i][:18] for i in h.member_ids[:3])
            rows.append(
                [
                    h.rank,
                    h.label,
                    h.cases,
                    h.prev_cases,
                    h.growth_text,
                    h.likes,
                    h.dislikes,
                    h.score,
                    "、".join(h.keywords[:4]),
                    sample,
                ]
            )
        print(
            B.table(
                ["#", "label", "件", "上期", "环比", "赞", "踩", "score", "keywords", "titles"],
                rows,
            )
        )
        print()
    print("Sentence (whole period):", H.summary_sentence(H.build_report(docs, whole, reaction)))


def scale(db: str, steps: list[int], seed: int, keep: bool) -> None:
    label = B.setup(db, keep=keep)
    import _bulkseed
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from xinfang.cases.models import Case
    from xinfang.intel import hotspots as H
    from xinfang.intel.models import CaseTopicTerms
    from xinfang.org.demo import load_org

    org = load_org()
    leader = org.user("lingdao")
    client = Client()
    client.force_login(leader)
    today = timezone.localdate()
    window = H.Window(today, 30)
    _, start, end = window.bounds()
    rows: list[list[Any]] = []
    made = 0
    for target in steps:
        # ~half of the cases seeded over two months land in the last 30 days (recency bias).
        while Case.objects.filter(received_at__gte=start, received_at__lt=end).count() < target:
            batch = max(
                5000, int((target - Case.objects.filter(received_at__gte=start).count()) * 1.7)
            )
            t0 = time.perf_counter()
            _bulkseed.seed(org, batch, seed + made, months=2, progress=lambda m: None)
            made += batch
            print(f"seeded {batch:,} in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("ANALYZE")
        in_window = Case.objects.filter(received_at__gte=start, received_at__lt=end).count()
        both = Case.objects.filter(received_at__gte=window.bounds()[0], received_at__lt=end).count()
        CaseTopicTerms.objects.all().delete()  # worst case: no terms stored yet (backfill)
        t0 = time.perf_counter()
        docs = H.load_docs(leader, window)
        t_load_cold = time.perf_counter() - t0
        t0 = time.perf_counter()
        report = H.build_report(docs, window)
        t_rank = time.perf_counter() - t0
        t0 = time.perf_counter()
        H.load_docs(leader, window)
        t_load_warm = time.perf_counter() - t0
        warm = [_timed(lambda: H.hotspots(leader, days=30, use_cache=False)) for _ in range(3)]
        H.hotspots(leader, days=30)
        cached = [_timed(lambda: H.hotspots(leader, days=30)) for _ in range(5)]
        page = [_timed(lambda: client.get("/intel/hotspots/?days=30")) for _ in range(3)]
        rows.append(
            [
                f"{in_window:,}",
                f"{both:,}",
                len(report.hotspots),
                report.clustered_cases,
                t_load_cold * 1000,
                t_rank * 1000,
                (t_load_cold + t_rank) * 1000,
                t_load_warm * 1000,
                min(warm) * 1000,
                min(cached) * 1000,
                min(page) * 1000,
            ]
        )
        top = report.hotspots[:5]
        print(f"\n{in_window:,} cases in the window — top 5:", file=sys.stderr)
        for h in top:
            print(
                f"  {h.rank}. {h.label} {h.cases}件 {h.persons}人次 {h.growth_text} {h.score}",
                file=sys.stderr,
            )
    print(f"\n### Hotspots at scale — {label}, 30-day window, district leader (whole tree)\n")
    print(
        B.table(
            [
                "cases in window",
                "both windows",
                "hotspots",
                "in hotspots",
                "load, computing terms ms",
                "cluster+rank ms",
                "first total ms",
                "load, stored terms ms",
                "warm total ms",
                "cached ms",
                "page (cached) ms",
            ],
            rows,
        )
    )
    print(f"\nTotal cases in the database: {Case.objects.count():,}.")


def _timed(fn: Any) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="postgres")
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--steps", default="10000,50000", help="cases in the 30-day window")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--real-only", action="store_true", help="only part 1 (no database)")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    if args.real_only:
        B.setup("sqlite")  # Django's settings (no data is written)
        real_data(args.data)
        return
    scale(args.db, [int(s) for s in args.steps.split(",")], args.seed, args.keep)
    real_data(args.data)


if __name__ == "__main__":
    main()
