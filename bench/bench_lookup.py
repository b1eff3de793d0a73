"""Desk lookup (``people.lookup.lookup``) at scale: server time per query kind.

    .venv/bin/python bench/bench_lookup.py --db sqlite   [--persons 1000000] [--cases 3000000]
    .venv/bin/python bench/bench_lookup.py --db postgres [--persons 1000000] [--cases 3000000]
        [--queries 200] [--generate-only] [--drop]

Unlike the other bench scripts the database is **kept** (generation at full size takes a
while): SQLite ``var/bench/lookup.sqlite3`` (``XINFANG_BENCH_SQLITE`` to move it), PostgreSQL
database ``xf_bench_lookup`` on the server of ``DATABASE_URL`` (default
``postgres://postgres@127.0.0.1:5432``). A second run continues an interrupted generation and
then only times; ``--drop`` starts over. The generator is ``gen_people.py``.

Timed: the whole server-side work of one lookup — classification, the person query, and the
card data (cases, next deadline, last reply, groups, key-person flags) — through
``lookup(user, q)``, not HTTP. ~``--queries`` different queries per kind, sampled from the
generated data, each run once after 20 warm-up queries; for two users: ``bench_office`` (办案员
of 区信访局: sees every case) and ``bench_street`` (承办人 of the first street: sees ~25 %).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
PG_NAME = "xf_bench_lookup"


def setup(db: str, drop: bool) -> str:
    os.environ["XINFANG_ALLOW_DEV_SECRET"] = "1"
    os.environ["DJANGO_SETTINGS_MODULE"] = "xinfang.settings"
    os.environ.setdefault("XINFANG_LOG_LEVEL", "ERROR")
    if db == "sqlite":
        path = Path(os.environ.get("XINFANG_BENCH_SQLITE", ROOT / "var/bench/lookup.sqlite3"))
        path.parent.mkdir(parents=True, exist_ok=True)
        if drop:
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
        os.environ.pop("DATABASE_URL", None)
        os.environ["XINFANG_SQLITE_PATH"] = str(path)
        label = f"SQLite {path}"
    else:
        import psycopg

        parts = urlsplit(os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/x")
        url = urlunsplit(parts._replace(path=f"/{PG_NAME}"))
        admin = urlunsplit(parts._replace(path="/postgres"))
        with psycopg.connect(admin, autocommit=True) as conn:
            if drop:
                conn.execute(f"DROP DATABASE IF EXISTS {PG_NAME}")
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (PG_NAME,)
            ).fetchone()
            if not exists:
                conn.execute(f"CREATE DATABASE {PG_NAME}")
        os.environ["DATABASE_URL"] = url
        label = f"PostgreSQL {PG_NAME}"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return label


def samples(n: int, seed: int = 7) -> dict[str, list[str]]:
    """~n queries per kind, from the generated rows."""
    from gen_people import ROADS, STREETS, query_code

    from xinfang.cases.models import Case
    from xinfang.people.models import Petitioner

    rng = random.Random(seed)
    top = Petitioner.objects.order_by("-id").values_list("id", flat=True).first() or 0
    ids = rng.sample(range(1, top + 1), min(top, n * 3))
    people = list(Petitioner.objects.filter(pk__in=ids))
    rng.shuffle(people)
    with_id = [p for p in people if p.id_number][:n]
    with_phone = [p for p in people if p.phone][:n]
    people = people[:n]
    n_cases = Case.objects.order_by("-id").values_list("id", flat=True).first() or 0
    case_ids = rng.sample(range(1, n_cases + 1), min(n_cases, n))
    numbers = list(Case.objects.filter(pk__in=case_ids).values_list("number", flat=True))

    def phone_spelled(p: str) -> str:
        return f"{p[:3]} {p[3:7]} {p[7:]}" if rng.random() < 0.5 else "+86" + p

    places = [(s, place) for s, ps in STREETS for place in ps]
    return {
        "身份证号（18位）": [p.id_number or "" for p in with_id],
        "身份证后6位": [(p.id_number or "")[-6:] for p in with_id],
        "手机号（带空格/+86）": [phone_spelled(p.phone) for p in with_phone],
        "姓名（全名）": [p.name for p in people],
        "姓名前缀（2字）": [p.name[:2] for p in people],
        "姓氏（1字）": [p.name[:1] for p in people],
        "拼音首字母（3个）": [p.name_initials[:3] for p in people if len(p.name_initials) >= 2],
        "地址（路名，3字）": [rng.choice(ROADS) for _ in range(n)],
        "地址（社区+路名）": [rng.choice(places)[1] + rng.choice(ROADS) for _ in range(n)],
        "姓 + 路名（组合）": [p.name[:1] + " " + rng.choice(ROADS) for p in people],
        "事项编号（全）": numbers,
        "事项编号尾号（年-序号）": ["-".join(x.split("-")[-2:]) for x in numbers],
        "查询码": [query_code(i - 1) for i in case_ids],
    }


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(queries: int, only: set[str] | None = None) -> list[dict[str, Any]]:
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from xinfang.people.lookup import lookup

    users = {
        u.username: u for u in User.objects.filter(username__in=["bench_office", "bench_street"])
    }
    kinds = samples(queries)
    for q in next(iter(kinds.values()))[:20]:  # warm-up (caches, prepared statements, pages)
        lookup(users["bench_office"], q)
    rows = []
    for username in ("bench_office", "bench_street"):
        user = users[username]
        for kind, qs in kinds.items():
            if only and kind not in only:
                continue
            times: list[float] = []
            found = 0
            for q in qs:
                t0 = time.perf_counter()  # timed with no SQL logging (DEBUG stays off)
                result = lookup(user, q)
                times.append((time.perf_counter() - t0) * 1000)
                found += len(result.cards)
            counted = qs[:20]  # statements per lookup: a separate, untimed pass
            with CaptureQueriesContext(connection) as captured:
                for q in counted:
                    lookup(user, q)
            sql = len(captured.captured_queries) * len(qs) / max(1, len(counted))
            times.sort()
            total = sum(times) / 1000

            def pct(p: float, times: list[float] = times) -> float:
                return times[min(len(times) - 1, int(len(times) * p))]

            rows.append(
                {
                    "user": username,
                    "kind": kind,
                    "n": len(times),
                    "persons": found / max(1, len(times)),
                    "p50": statistics.median(times),
                    "p95": pct(0.95),
                    "p99": pct(0.99),
                    "qps": len(times) / total if total else 0.0,
                    "sql": sql / max(1, len(times)),
                }
            )
            print(
                f"  {username:12s} {kind:18s} p50 {rows[-1]['p50']:7.2f} p95 {rows[-1]['p95']:7.2f}"
                f" p99 {rows[-1]['p99']:7.2f} ms  persons/q {rows[-1]['persons']:.1f}",
                flush=True,
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--cases", type=int, default=3_000_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--generate-only", action="store_true")
    parser.add_argument("--drop", action="store_true", help="start over (drop the bench database)")
    parser.add_argument("--kinds", default="", help="comma-separated kinds to time (default all)")
    args = parser.parse_args()
    label = setup(args.db, args.drop)

    from gen_people import generate

    from xinfang.cases.models import Case
    from xinfang.people.models import Petitioner

    print(f"# Desk lookup bench — {label}", flush=True)
    timings = generate(args.persons, args.cases)
    n_persons, n_cases = Petitioner.objects.count(), Case.objects.count()
    print(f"generation: {timings} (persons {n_persons:,}, cases {n_cases:,})", flush=True)
    if args.generate_only:
        return
    rows = run(args.queries, {k for k in args.kinds.split(",") if k} or None)
    print()
    print(
        f"**{label}** — {n_persons:,} persons, {n_cases:,} cases; peak RSS {peak_rss_mb():.0f} MB"
    )
    print()
    print("| user | kind | queries | persons/q | p50 ms | p95 ms | p99 ms | queries/s | SQL/q |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['user']} | {r['kind']} | {r['n']} | {r['persons']:.1f} | {r['p50']:.1f} |"
            f" {r['p95']:.1f} | {r['p99']:.1f} | {r['qps']:.0f} | {r['sql']:.1f} |"
        )


if __name__ == "__main__":
    main()
