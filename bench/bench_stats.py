"""Statistics (issue 8): seeding, rollup build, the main statistics queries, incremental cost.

    .venv/bin/python bench/bench_stats.py [--db sqlite|pg] [--cases 20000] [--reps 30]
        [--years 5] [--registrations 100] [--threads 4] [--concurrent 200] [--check] [--keep]

1. A throwaway database (``_benchdb``; PostgreSQL ``xf_bench`` unless ``XINFANG_BENCH_DB``),
   the unit tree (示范区, 区信访局, 20 streets × 10 communities, 40 departments) and the real
   (migrated) category tree; ``--cases`` cases **with their events and deadlines** over
   ``--years`` years (``_stats_seed``: PostgreSQL ``INSERT … SELECT generate_series``, SQLite
   ``executemany`` of the random draws then the same portable ``INSERT … SELECT``).
2. ``rollup.rebuild()`` (the Python path: rules.contributions per case) timed, cases/s;
   ``--check``: a full ``rollup.check()`` (must be zero differences) and the recent-window one
   (``--since`` the first of last month).
3. Each query ``--reps`` times over random periods and, at street scope, random streets:
   ``intake_total`` (month / YTD / a full year), ``intake`` by channel_group × kind (YTD), by
   category_l1, by place_id, by month (12 months), ``handling`` by unit_id (YTD),
   ``backlog_on`` (a day of the last year), ``visit_paragraph`` (YTD, 同比); the dashboard and
   bulletin builders when their modules exist (hook: ``HOOKS``). Rows, p50/p95/p99 ms, queries/s,
   SQL statements per call, peak RSS.
4. Incremental cost: ``rollup.refresh`` of one case (per event), a registration
   (``case_register``) with and without the stats receiver, and ``--threads`` threads
   registering ``--concurrent`` cases at once (PostgreSQL), then the recent-window check.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import resource
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("XINFANG_BENCH_DB", "xf_bench")

import _benchdb as B


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- the rollup build paths ----------------------------------------------------------------


def fast_rebuild(
    *,
    batch: int = 5000,
    progress: Callable[[int], Any] | None = None,
    from_facts: bool = False,
) -> int:
    """``from_facts``: the product's bulk rebuild (``stats.bulk.rebuild``: rules → facts, then
    one ``GROUP BY`` per table). Otherwise the same raw-cursor fact computation with each
    batch's cells upserted (``rollup.apply``), as ``rollup.rebuild()`` does — what the leaner
    reads alone gain."""
    from django.db import transaction

    from xinfang.stats import bulk, rollup

    if from_facts:
        return bulk.rebuild(batch=batch, progress=progress)

    def upsert(total: Any) -> None:
        for part in rollup._chunks(total, 500):
            rollup.apply(part)

    with transaction.atomic():
        rollup.clear()
        n = bulk.compute_facts(batch=batch, progress=progress, on_cells=upsert)
        bulk.spots_from_facts()
        return n


def parallel_facts(
    workers: int,
    progress: Callable[[int], Any] | None = None,
    *,
    keep_facts: bool = False,
    only: tuple[int, int] | None = None,
) -> int:
    """``stats.bulk.rebuild`` with the rules run by ``workers`` forked processes, each on its
    own range of case ids and its own connection (PostgreSQL; the 2 cores then run the rules
    and the inserts side by side), then the set-based sums over the facts once.
    ``keep_facts``: the facts already written stay (a bulk load computed part of them while it
    was still seeding); only the cases after the last one with a fact are computed.
    ``only=(lo, hi)``: just the facts of those case ids (no rollups; run alongside a seed)."""
    from django.db import connections, transaction
    from django.db.models import Max, Min

    from xinfang.cases.models import Case
    from xinfang.stats import bulk, rollup
    from xinfang.stats.models import CaseFact

    b = Case.objects.aggregate(lo=Min("id"), hi=Max("id"))
    lo, hi = b["lo"] or 0, b["hi"] or 0
    if only is not None:
        lo, hi = only
    elif keep_facts:
        with transaction.atomic():
            rollup.clear(facts=False)
        lo = (CaseFact.objects.aggregate(m=Max("case_id"))["m"] or lo - 1) + 1
    else:
        with transaction.atomic():
            rollup.clear()
    step = (hi - lo) // workers + 1
    connections.close_all()
    pids = []
    for k in range(workers):
        rng = (lo + k * step, min(hi, lo + (k + 1) * step - 1))
        pid = os.fork()
        if pid == 0:  # the child: its own connection, its own range, then out
            code = 1
            try:
                bulk.compute_facts(progress=progress, id_range=rng)
                code = 0
            except BaseException:
                import traceback

                traceback.print_exc()
            finally:
                os._exit(code)
        pids.append(pid)
    failed = [pid for pid in pids if os.waitpid(pid, 0)[1] != 0]
    if failed:
        raise SystemExit(f"parallel_facts: {len(failed)} worker(s) failed")
    if only is not None:
        return hi - lo + 1
    bulk.rollups_from_facts()
    return Case.objects.count()


# --- the measured queries ------------------------------------------------------------------


@dataclass
class Scope:
    label: str
    units: list[Any]  # the scope units to draw from (district: one; street: all streets)


def _filters(unit: Any) -> Any:
    from xinfang.stats.policy import subtree_ids
    from xinfang.stats.query import Filters

    return Filters(units=subtree_ids(unit))


def _ytd(rng: random.Random, today: dt.date) -> Any:
    from xinfang.stats.periods import Period

    year = today.year - rng.randrange(0, 3)
    month = rng.randint(1, 12) if year < today.year else rng.randint(1, today.month)
    return Period.ytd(year, month)


def _month(rng: random.Random, today: dt.date) -> Any:
    from xinfang.stats.periods import Period

    k = rng.randrange(0, 24)
    idx = today.year * 12 + today.month - 1 - k
    return Period.month(idx // 12, idx % 12 + 1)


def _year(rng: random.Random, today: dt.date) -> Any:
    from xinfang.stats.periods import Period

    return Period.year(today.year - rng.randint(1, 4))


def _twelve(rng: random.Random, today: dt.date) -> Any:
    from xinfang.stats.periods import Period

    k = rng.randrange(0, 24)
    idx = today.year * 12 + today.month - 1 - k
    end = Period.month(idx // 12, idx % 12 + 1).end
    sidx = idx - 11
    return Period(dt.date(sidx // 12, sidx % 12 + 1, 1), end)


def queries() -> list[tuple[str, Callable[[Any, random.Random, dt.date], Any]]]:
    """(name, fn(filters, rng, today) → result) for each measured statistic."""
    from xinfang.stats import query as Q
    from xinfang.stats.narrative import visit_paragraph

    return [
        ("intake_total month", lambda f, r, t: Q.intake_total(_month(r, t), f)),
        ("intake_total YTD", lambda f, r, t: Q.intake_total(_ytd(r, t), f)),
        ("intake_total full year", lambda f, r, t: Q.intake_total(_year(r, t), f)),
        (
            "intake by channel_group×kind YTD",
            lambda f, r, t: Q.intake(_ytd(r, t), f, by=["channel_group", "kind"]),
        ),
        ("intake by category_l1 YTD", lambda f, r, t: Q.intake(_ytd(r, t), f, by=["category_l1"])),
        ("intake by place_id YTD", lambda f, r, t: Q.intake(_ytd(r, t), f, by=["place_id"])),
        ("intake by month (12 months)", lambda f, r, t: Q.intake(_twelve(r, t), f, by=["month"])),
        ("handling by unit_id YTD", lambda f, r, t: Q.handling(_ytd(r, t), f, by=["unit_id"])),
        (
            "backlog_on (a day of the last year)",
            lambda f, r, t: Q.backlog_on(t - dt.timedelta(days=r.randrange(0, 365)), f),
        ),
        ("visit_paragraph YTD 同比", lambda f, r, t: visit_paragraph(_ytd(r, t), f)),
    ]


def _hooks(leader: Any) -> list[tuple[str, Callable[[Any, random.Random, dt.date], Any]]]:
    """HOOKS: the page-level builders of the other helpers' modules (dashboard, KPI ranking,
    bulletin figures), timed like the queries when the module imports. A builder whose
    signature changed is reported as "skipped" with the error, not fatal."""
    import importlib

    out: list[tuple[str, Callable[[Any, random.Random, dt.date], Any]]] = []
    try:
        dash = importlib.import_module("xinfang.stats.dashboard")
        out.append(
            (
                "hook dashboard.build (a month, with 同比/环比/YTD, lists)",
                lambda u, r, t: dash.build(leader, u, _month(r, t), t),
            )
        )
    except ImportError:
        pass
    try:
        kpi = importlib.import_module("xinfang.stats.kpi")
        out.append(("hook kpi.kpi_rows YTD (ranking)", lambda u, r, t: kpi.kpi_rows(_ytd(r, t), u)))
    except ImportError:
        pass
    try:
        bul = importlib.import_module("xinfang.stats.bulletins")
        out.append(
            (
                "hook bulletins.build_figures monthly",
                lambda u, r, t: bul.build_figures("monthly", u, _month(r, t), today=t),
            )
        )
    except ImportError:
        pass
    return out


def live_parts(tree: Any, reps: int, today: dt.date) -> list[list[Any]]:
    """The parts of the pages not read from the rollups: the dashboard's 在办 (cases by status)
    and 超期 counts and lists and the KPI table's pending and overdue counts (``OpenDeadline``,
    the open obligation deadlines kept by triggers), and the cases behind a handling figure of
    a street or the district, this month and last month (``HandlingSpot`` and, for the days of
    a month not whole, the cells on the facts — these need the facts built).
    p50/p95 ms and SQL statements per call."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from xinfang.org.models import Unit
    from xinfang.stats import dashboard, kpi, query
    from xinfang.stats.periods import Period

    ytd = Period(today.replace(month=1, day=1), today)
    month = Period(today.replace(day=1), today)
    last_end = today.replace(day=1) - dt.timedelta(days=1)
    last_month = Period(last_end.replace(day=1), last_end)
    district = dashboard.Scope(tree.district)
    street = dashboard.Scope(tree.streets[0])
    all_ids = tuple(Unit.objects.values_list("pk", flat=True))
    leader = tree.leader
    calls: list[tuple[str, Callable[[], Any]]] = [
        (
            "dashboard 在办/超期 counts, district",
            lambda: dashboard.open_and_overdue(district, today),
        ),
        ("dashboard 在办/超期 counts, street", lambda: dashboard.open_and_overdue(street, today)),
        (
            "dashboard lists (超期, 督办, 批示), district",
            lambda: dashboard.lists(leader, district, today),
        ),
        ("kpi live counts YTD, all units", lambda: kpi._live_counts(ytd, all_ids, today)),
        (
            "cases behind 答复 of a street, this month",
            lambda: query.cases_behind(month, street.filters, "h", "reply_done"),
        ),
        (
            "cases behind 答复 of the district, this month",
            lambda: query.cases_behind(month, district.filters, "h", "reply_done"),
        ),
        (
            "cases behind 答复 of the district, last month",
            lambda: query.cases_behind(last_month, district.filters, "h", "reply_done"),
        ),
    ]
    rows: list[list[Any]] = []
    for name, fn in calls:
        fn()
        times, n_sql = [], 0
        for _ in range(reps):
            with CaptureQueriesContext(connection) as ctx:
                t0 = time.perf_counter()
                fn()
                times.append(time.perf_counter() - t0)
            n_sql = len(ctx.captured_queries)
        ms = B.summary_ms(times)
        rows.append([name, ms["p50"], ms["p95"], ms["max"], n_sql])
    return rows


def profile_hooks(tree: Any, today: dt.date, top: int = 4) -> list[list[Any]]:
    """One call of each page builder at district scope (the current month / YTD): its wall time,
    the SQL statements' total, and its slowest statements — where the time goes."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    rng = random.Random(1)
    rows: list[list[Any]] = []
    for name, fn in _hooks(tree.leader):
        with CaptureQueriesContext(connection) as ctx:
            t0 = time.perf_counter()
            fn(tree.district, rng, today)
            wall = (time.perf_counter() - t0) * 1000
        qs = sorted(ctx.captured_queries, key=lambda q: -float(q["time"]))
        sql_ms = sum(float(q["time"]) for q in qs) * 1000
        rows.append([name, round(wall), round(sql_ms), len(qs), "", ""])
        for q in qs[:top]:
            text = " ".join(q["sql"].split()).replace("|", "¦")
            rows.append(["", "", "", "", round(float(q["time"]) * 1000, 1), text[:150]])
    return rows


def bulletin_generation(tree: Any, reps: int, today: dt.date) -> list[list[Any]]:
    """The bulletin's generation time split: figures, DOCX, PDF, XLSX (hook: the renderers of
    ``bulletin_render``), for a monthly bulletin of the district and a weekly one of a street."""
    from xinfang.stats.periods import Period

    try:
        from xinfang.stats import bulletin_render as R
        from xinfang.stats import bulletins as BL
    except ImportError as exc:
        return [["(bulletins not available)", str(exc), "", "", "", "", ""]]
    last_month = today.replace(day=1) - dt.timedelta(days=1)
    cases = [
        ("monthly", tree.district, Period.month(last_month.year, last_month.month)),
        ("weekly", tree.streets[0], Period.week_of(today - dt.timedelta(days=7))),
    ]
    rows: list[list[Any]] = []
    for kind, unit, period in cases:
        parts: dict[str, list[float]] = {"figures": [], "docx": [], "pdf": [], "xlsx": []}
        sizes: dict[str, int] = {}
        try:
            for _ in range(reps):
                t0 = time.perf_counter()
                figures = BL.build_figures(kind, unit, period, today=today)
                parts["figures"].append(time.perf_counter() - t0)
                for fmt, fn in (
                    ("docx", R.render_docx),
                    ("pdf", R.render_pdf),
                    ("xlsx", R.render_xlsx),
                ):
                    t0 = time.perf_counter()
                    data = fn(figures)
                    parts[fmt].append(time.perf_counter() - t0)
                    sizes[fmt] = len(data)
        except Exception as exc:  # another helper's module in flux: reported, not fatal
            rows.append(
                [
                    f"{kind} {unit.name}",
                    f"failed: {type(exc).__name__}: {exc}"[:80],
                    "",
                    "",
                    "",
                    "",
                    "",
                ]
            )
            continue
        med = {k: B.percentile(v, 50) for k, v in parts.items()}
        rows.append(
            [
                f"{kind} {unit.name} {period.start}–{period.end}",
                len(parts["figures"]),
                med["figures"],
                med["docx"],
                med["pdf"],
                med["xlsx"],
                sum(med.values()),
                " / ".join(f"{k} {v // 1024} KB" for k, v in sizes.items()),
            ]
        )
    return rows


class _Counter:
    def __init__(self) -> None:
        self.n = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.n += 1
        return execute(sql, params, many, context)


def _rows(result: Any) -> int:
    if isinstance(result, list):
        return len(result)
    if isinstance(result, (tuple, dict)):
        return 1
    if isinstance(result, str):
        return 1
    return 1


def measure(
    scopes: list[Scope],
    reps: int,
    rng: random.Random,
    today: dt.date,
    *,
    leader: Any = None,
    hook_reps: int = 10,
) -> list[list[Any]]:
    """Run every query ``reps`` times per scope; rows of the result table."""
    from django.db import connection

    table: list[list[Any]] = []
    items = queries()
    hook_items = _hooks(leader) if leader is not None else []
    for scope in scopes:
        filters = {u.pk: _filters(u) for u in scope.units}
        for name, fn in items + hook_items:
            is_hook = name.startswith("hook ")
            times: list[float] = []
            rows: list[int] = []
            statements = 0
            error = ""
            n = max(1, min(reps, hook_reps)) if is_hook else reps
            try:  # one warm-up call (caches, first compilation), not timed
                unit = rng.choice(scope.units)
                fn(unit if is_hook else filters[unit.pk], rng, today)
            except Exception as exc:
                if not is_hook:
                    raise
                error = f"{type(exc).__name__}: {str(exc)[:60]}"
            for k in range(0 if error else n):
                unit = rng.choice(scope.units)
                arg = unit if is_hook else filters[unit.pk]
                counter = _Counter()
                t0 = time.perf_counter()
                try:
                    if k == 0:
                        with connection.execute_wrapper(counter):
                            result = fn(arg, rng, today)
                        statements = counter.n
                    else:
                        result = fn(arg, rng, today)
                except Exception as exc:  # a hook with another signature: reported, not fatal
                    if not is_hook:
                        raise
                    error = f"{type(exc).__name__}: {str(exc)[:60]}"
                    break
                times.append(time.perf_counter() - t0)
                rows.append(_rows(result))
            if error:
                table.append([scope.label, name, "skipped: " + error, "", "", "", "", "", ""])
                continue
            s = B.summary_ms(times)
            table.append(
                [
                    scope.label,
                    name,
                    round(sum(rows) / len(rows), 1),
                    s["p50"],
                    s["p95"],
                    s["p99"],
                    len(times) / sum(times),
                    statements,
                    round(_rss_mb()),
                ]
            )
    return table


MEASURE_HEADERS = [
    "scope",
    "query",
    "rows",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "queries/s",
    "SQL/call",
    "peak RSS MB",
]


# --- incremental cost ------------------------------------------------------------------------


def _registration(n: int, tag: str) -> Any:
    from django.utils import timezone

    from xinfang.cases.registration import Registration
    from xinfang.people.services import PetitionerInput

    return Registration(
        channel="visit",
        purpose="appeal",
        summary=f"反映小区物业问题（基准{tag}{n}）",
        content="基准测试登记。",
        petitioners=[PetitionerInput(name=f"基准{tag}{n}")],
        received_at=timezone.now() - dt.timedelta(hours=1),
        headcount=1 + n % 7,
    )


def incremental(tree: Any, n_refresh: int, n_reg: int, rng: random.Random) -> list[list[Any]]:
    from django.db.models.signals import post_save

    from xinfang.cases.models import Case, CaseEvent
    from xinfang.cases.registration import case_register
    from xinfang.stats import receivers, rollup

    rows: list[list[Any]] = []
    ids = list(Case.objects.order_by("?").values_list("pk", flat=True)[:n_refresh])
    times = []
    for pk in ids:
        t0 = time.perf_counter()
        rollup.refresh(pk)
        times.append(time.perf_counter() - t0)
    s = B.summary_ms(times)
    rows.append(
        [
            "rollup.refresh(case) — per event",
            len(times),
            s["p50"],
            s["p95"],
            s["p99"],
            len(times) / sum(times),
        ]
    )

    def reg_run(tag: str) -> list[float]:
        out = []
        for i in range(n_reg):
            t0 = time.perf_counter()
            case_register(by=tree.desk, office=tree.office, reg=_registration(i, tag))
            out.append(time.perf_counter() - t0)
        return out

    reg_run("warm")  # caches (categories, rules, calendar)
    with_rx = reg_run("with")
    post_save.disconnect(sender=CaseEvent, dispatch_uid="stats_refresh_on_event")
    try:
        without = reg_run("without")
    finally:
        post_save.connect(
            receivers.refresh_on_event, sender=CaseEvent, dispatch_uid="stats_refresh_on_event"
        )
    # the cases registered without the receiver get their cells now (so the check holds)
    for pk in Case.objects.filter(summary__startswith="反映小区物业问题（基准without").values_list(
        "pk", flat=True
    ):
        rollup.refresh(pk)
    for label, ts in (
        ("case_register with the stats receiver", with_rx),
        ("case_register without it", without),
    ):
        s = B.summary_ms(ts)
        rows.append([label, len(ts), s["p50"], s["p95"], s["p99"], len(ts) / sum(ts)])
    return rows


def concurrent(tree: Any, threads: int, total: int) -> list[Any]:
    from django.db import connection

    from xinfang.cases.registration import case_register

    per = max(1, total // threads)
    barrier = threading.Barrier(threads)
    lat: list[list[float]] = [[] for _ in range(threads)]
    errors: list[str] = []

    def worker(k: int) -> None:
        try:
            barrier.wait()
            for i in range(per):
                t0 = time.perf_counter()
                try:
                    case_register(by=tree.desk, office=tree.office, reg=_registration(i, f"c{k}-"))
                except Exception as exc:
                    errors.append(f"{type(exc).__name__}: {exc}")
                lat[k].append(time.perf_counter() - t0)
        finally:
            connection.close()

    pool = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    t0 = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    wall = time.perf_counter() - t0
    flat = [x for ls in lat for x in ls]
    s = B.summary_ms(flat)
    return [
        f"{threads} threads × {per}",
        len(flat),
        wall,
        len(flat) / wall,
        s["p50"],
        s["p95"],
        s["p99"],
        len(errors),
    ]


# --- main --------------------------------------------------------------------------------------


def _diff_kinds(report: Any) -> str:
    """Which measures the differences of a check are in (e.g. only 积案 entries)."""
    from collections import Counter

    from xinfang.stats.models import HANDLING_MEASURES, INTAKE_MEASURES

    kinds: Counter[str] = Counter()
    for _what, key, expected, actual in report.differences:
        names = INTAKE_MEASURES if key[0] == "i" else HANDLING_MEASURES
        for name, e, a in zip(names, expected, actual, strict=True):
            if e != a:
                kinds[name] += 1
    return ", ".join(f"{k} {v}" for k, v in kinds.most_common()) or "—"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--db", default="sqlite", help="sqlite | pg (postgres)")
    ap.add_argument("--cases", type=int, default=20_000)
    ap.add_argument("--years", type=int, default=5)
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument(
        "--rollup",
        default="python",
        help="python: rollup.rebuild(); fast: fast_rebuild (raw reads, same upserts); facts: "
        "fast_rebuild(from_facts=True) (rollups by SQL GROUP BY over the facts); "
        "both: python then facts; all: the three",
    )
    ap.add_argument("--hook-reps", type=int, default=10, help="repetitions of the page builders")
    ap.add_argument("--bulletin-reps", type=int, default=3)
    ap.add_argument("--refresh", type=int, default=200, help="rollup.refresh calls timed")
    ap.add_argument("--registrations", type=int, default=100)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument(
        "--concurrent", type=int, default=200, help="registrations across the threads (PG)"
    )
    ap.add_argument("--check", action="store_true", help="full rollup.check() (zero differences)")
    ap.add_argument(
        "--check-recent",
        action="store_true",
        help="only rollup.check(since=the first of last month): a full one takes hours at 10 M",
    )
    ap.add_argument(
        "--workers", type=int, default=1, help="--rollup facts: processes running the rules (PG)"
    )
    ap.add_argument(
        "--keep-facts",
        action="store_true",
        help="--rebuild: keep the facts written (by --facts-only); compute the cases after them",
    )
    ap.add_argument(
        "--facts-only", default="", help="LO:HI — with --reuse --rebuild: only those cases' facts"
    )
    ap.add_argument("--seed", type=int, default=20261127)
    ap.add_argument("--keep", action="store_true", help="leave the database behind")
    ap.add_argument(
        "--reuse",
        action="store_true",
        help="measure a database an earlier --keep run left (no seeding, no rollup build)",
    )
    ap.add_argument(
        "--rebuild", action="store_true", help="with --reuse: rebuild the rollups (--rollup) first"
    )
    ap.add_argument(
        "--live-only",
        action="store_true",
        help="with --reuse: only the reads of the live case tables (no rollups needed)",
    )
    ap.add_argument(
        "--reproject",
        action="store_true",
        help="with --reuse: rebuild the projection tables from the i/h rollups first",
    )
    ap.add_argument(
        "--build-only", action="store_true", help="stop after seeding and the rollup build"
    )
    args = ap.parse_args()
    db = {"pg": "postgres", "postgresql": "postgres"}.get(args.db, args.db)
    label = B.setup(db, keep=args.keep or args.build_only, reuse=args.reuse)

    import _stats_seed as S
    from django.db import connection
    from django.utils import timezone

    from xinfang.cases.models import CaseEvent, Deadline
    from xinfang.stats import rollup

    rng = random.Random(args.seed)
    today = timezone.localdate()

    def progress(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    if args.reuse and args.live_only:
        tree = S.load_tree()
        print(f"### bench_stats.py — {label}: live parts only (kept database)\n")
        print(
            B.table(
                ["live read", "p50 ms", "p95 ms", "max ms", "SQL/call"],
                live_parts(tree, args.reps, today),
            )
        )
        return
    if args.reuse:
        tree = S.load_tree()
        steps = _build(args, progress) if args.rebuild else []
        if args.reproject:  # projections added since the build: from the i/h tables, set-based
            t0 = time.perf_counter()
            rollup.project_all()
            steps.append(["rollup.project_all()", "", time.perf_counter() - t0, "", _rss_mb()])
        _reused(label, rng, today, tree, args, steps)
        return
    tree = S.build_tree()
    seeded = S.seed(
        tree,
        args.cases,
        years=args.years,
        seed_value=args.seed,
        progress=progress,
        skip_fk_checks=args.cases > 1_000_000,
    )
    n_events = CaseEvent.objects.count()
    n_dls = Deadline.objects.count()
    print(f"### bench_stats.py — {label}, {args.cases:,} cases over {args.years} years\n")
    steps = _build(args, progress)
    cells = _rollup_rows()
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    print(
        B.table(
            ["step", "rows", "seconds", "rows/s", "peak RSS MB"],
            [
                [
                    "seed (cases + events + deadlines)",
                    f"{seeded['cases']:,} + {n_events:,} + {n_dls:,}",
                    seeded["seconds"],
                    round(seeded["cases"] / seeded["seconds"]),
                    round(_rss_mb()),
                ],
                *steps,
            ],
        )
    )
    print(
        "\nrollup rows: "
        + ", ".join(f"{k} {v:,}" for k, v in cells.items())
        + f"; events per case {n_events / max(1, args.cases):.2f}\n"
    )
    if args.build_only:
        print("(--build-only: the database is kept; measure it with --reuse)")
        return
    _after_build(tree, args, rng, today)


def _build(args: Any, progress: Callable[[str], Any]) -> list[list[Any]]:
    """The rollup build by the ``--rollup`` path(s): one table row per path."""
    from xinfang.stats import rollup

    t0 = time.perf_counter()

    def rb_progress(n: int) -> None:
        if n % 100_000 < 2000:
            progress(f"  rebuilt {n:,} cases ({time.perf_counter() - t0:.0f} s)")

    steps: list[list[Any]] = []
    n = 0
    paths = ("python", "fast", "facts") if args.rollup == "all" else (args.rollup,)
    for path in ("python", "facts") if args.rollup == "both" else paths:
        t0 = time.perf_counter()
        if path == "fast":
            n = fast_rebuild(progress=rb_progress)
            what = "fast_rebuild() (same rules, raw reads)"
        elif path == "facts" and (args.workers > 1 or args.keep_facts or args.facts_only):
            only = None
            if args.facts_only:
                a, b = args.facts_only.split(":")
                only = (int(a), int(b))
            n = parallel_facts(
                args.workers, progress=rb_progress, keep_facts=args.keep_facts, only=only
            )
            what = (
                f"parallel_facts({args.workers}) (rules → facts in {args.workers} processes, "
                "rollups by SQL GROUP BY)"
            )
        elif path == "facts":
            n = fast_rebuild(progress=rb_progress, from_facts=True)
            what = "fast_rebuild(from_facts) (rules → facts, rollups by SQL GROUP BY)"
        else:
            n = rollup.rebuild(progress=rb_progress)
            what = "rollup.rebuild() (Python rules)"
        secs = time.perf_counter() - t0
        steps.append([what, f"{n:,} cases", secs, round(n / secs), round(_rss_mb())])
    return steps


def _rollup_rows() -> dict[str, int]:
    from xinfang.stats import rollup

    return {
        m.__name__: m.objects.count()
        for day_model, month_model, _, _ in rollup.TABLES.values()
        for m in (day_model, month_model)
    }


def _reused(
    label: str, rng: random.Random, today: dt.date, tree: Any, args: Any, steps: list[list[Any]]
) -> None:
    from django.db import connection

    from xinfang.cases.models import Case, CaseEvent, Deadline

    n_cases, n_events, n_dls = (m.objects.count() for m in (Case, CaseEvent, Deadline))
    print(f"### bench_stats.py — {label}, {n_cases:,} cases (kept database)\n")
    if steps:
        print(B.table(["step", "rows", "seconds", "rows/s", "peak RSS MB"], steps) + "\n")
    print(f"{n_events:,} events, {n_dls:,} deadlines; rollup rows: ")
    print(", ".join(f"{k} {v:,}" for k, v in _rollup_rows().items()) + "\n")
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    if args.build_only:
        return
    _after_build(tree, args, rng, today)


def _after_build(tree: Any, args: Any, rng: random.Random, today: dt.date) -> None:
    from django.db import connection

    from xinfang.stats import rollup

    if args.check or args.check_recent:
        rows = []
        recent = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
        for since in (recent,) if args.check_recent else (None, recent):
            rep = rollup.check(since=since)
            rows.append(
                [
                    f"rollup.check(since={since})",
                    rep.cases,
                    rep.cells_checked,
                    len(rep.differences) + rep.facts_wrong + rep.facts_missing,
                    rep.seconds,
                    round(rep.cases / rep.seconds) if rep.seconds else 0,
                    _diff_kinds(rep),
                ]
            )
        print(
            B.table(
                ["check", "cases", "cells", "differences", "seconds", "cases/s", "in measures"],
                rows,
            )
        )
        print()
    streets = tree.streets
    scopes = [Scope("district", [tree.district]), Scope("street", streets)]
    print(
        B.table(
            MEASURE_HEADERS,
            measure(scopes, args.reps, rng, today, leader=tree.leader, hook_reps=args.hook_reps),
        )
    )
    print()
    print(
        B.table(
            ["builder (district, one call)", "wall ms", "SQL ms", "statements", "ms", "slowest"],
            profile_hooks(tree, today),
        )
    )
    print()
    print(
        B.table(
            ["bulletin", "runs", "figures s", "DOCX s", "PDF s", "XLSX s", "total s", "sizes"],
            bulletin_generation(tree, args.bulletin_reps, today),
        )
    )
    print()
    print(
        B.table(
            ["incremental", "calls", "p50 ms", "p95 ms", "p99 ms", "per s"],
            incremental(tree, args.refresh, args.registrations, rng),
        )
    )
    if connection.vendor == "postgresql" and args.concurrent:
        print()
        row = concurrent(tree, args.threads, args.concurrent)
        print(
            B.table(
                [
                    "concurrent registrations",
                    "cases",
                    "wall s",
                    "cases/s",
                    "p50 ms",
                    "p95 ms",
                    "p99 ms",
                    "errors",
                ],
                [row],
            )
        )
    since = today.replace(day=1)
    rep = rollup.check(since=since)
    print(
        f"\nafter the incremental runs: rollup.check(since={since}) — {rep.cases:,} cases, "
        f"{len(rep.differences)} differences, {rep.facts_wrong} wrong / {rep.facts_missing} "
        f"missing facts ({_diff_kinds(rep)}), {rep.seconds:.1f} s; peak RSS {_rss_mb():.0f} MB"
    )


if __name__ == "__main__":
    main()
