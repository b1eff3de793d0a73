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


# --- a faster bulk rebuild (the same rules, leaner I/O) ----------------------------------------


def _parse_dt(v: Any) -> Any:
    if v is None:
        return v
    if not isinstance(v, dt.datetime):
        v = dt.datetime.fromisoformat(str(v))
    return v if v.tzinfo is not None else v.replace(tzinfo=dt.UTC)  # SQLite: naive UTC


def _parse_date(v: Any) -> Any:
    if v is None or isinstance(v, dt.date):
        return v
    return dt.date.fromisoformat(str(v))


_CASE_COLS = (
    "id",
    "status",
    "received_at",
    "headcount",
    "channel",
    "purpose",
    "category_id",
    "place_code",
    "office_unit_id",
    "is_repeat",
    "is_skip_level",
)


def fast_rebuild(
    *,
    batch: int = 5000,
    progress: Callable[[int], Any] | None = None,
    from_facts: bool = False,
) -> int:
    """``rollup.rebuild()`` with the same counting rules (``rules.contributions`` per case, the
    same maps, the same ``rollup.apply``) but raw-cursor reads by case-id range (no ORM row
    conversion, one range scan per table instead of ``IN (ids)``), raw fact inserts and larger
    batches. What a bulk path gains; ``rollup.check()`` afterwards proves the result equal."""
    import json

    from django.db import connection, transaction
    from django.utils import timezone

    from xinfang.cases.models import Case, CaseEvent, Deadline, DeadlineKind
    from xinfang.stats import rollup, rules
    from xinfang.stats.models import CaseFact

    categories, places = rules.CategoryMap(), rules.PlaceMap()
    qn = connection.ops.quote_name
    case_t, ev_t, dl_t = (qn(m._meta.db_table) for m in (Case, CaseEvent, Deadline))
    fact_t = qn(CaseFact._meta.db_table)
    cells_field = CaseFact._meta.get_field("cells")
    kinds = sorted(rules.COUNTED_KINDS)
    marks = ", ".join(["%s"] * len(kinds))
    n = 0
    with transaction.atomic():
        for day_model, month_model, _, _ in rollup.TABLES.values():
            day_model.objects.all().delete()
            month_model.objects.all().delete()
        CaseFact.objects.all().delete()
        now_db = CaseFact._meta.get_field("computed_at").get_db_prep_save(
            timezone.now(), connection
        )
        last = 0
        with connection.cursor() as cur:
            while True:
                cur.execute(
                    f"SELECT {', '.join(qn(c) for c in _CASE_COLS)} FROM {case_t} "
                    "WHERE id > %s ORDER BY id LIMIT %s",
                    [last, batch],
                )
                rows = cur.fetchall()
                if not rows:
                    break
                lo, hi = rows[0][0], rows[-1][0]
                last = hi
                cases = [
                    rules.CaseRow(
                        r[0],
                        r[1],
                        _parse_dt(r[2]),
                        r[3],
                        r[4],
                        r[5],
                        r[6],
                        r[7],
                        r[8],
                        bool(r[9]),
                        bool(r[10]),
                    )
                    for r in rows
                ]
                events: dict[int, list[rules.EventRow]] = {c.pk: [] for c in cases}
                cur.execute(
                    f"SELECT case_id, kind, at, to_status, actor_unit_id, data FROM {ev_t} "
                    f"WHERE case_id BETWEEN %s AND %s AND (kind IN ({marks}) "
                    "OR to_status <> '') ORDER BY case_id, at, id",
                    [lo, hi, *kinds],
                )
                for cid, kind, at, to_status, unit, data in cur.fetchall():
                    if cid in events:
                        if isinstance(data, str):
                            data = json.loads(data)
                        events[cid].append(
                            rules.EventRow(kind, _parse_dt(at), to_status, unit, data or {})
                        )
                dls: dict[int, list[rules.DeadlineRow]] = {c.pk: [] for c in cases}
                cur.execute(
                    f"SELECT case_id, kind, started_on, due_on, cancelled_at FROM {dl_t} "
                    "WHERE case_id BETWEEN %s AND %s AND kind IN (%s, %s)",
                    [lo, hi, DeadlineKind.ACCEPT, DeadlineKind.HANDLE],
                )
                for cid, kind, started, due, cancelled in cur.fetchall():
                    if cid in dls:
                        dls[cid].append(
                            rules.DeadlineRow(
                                kind, _parse_date(started), _parse_date(due), _parse_dt(cancelled)
                            )
                        )
                total: rules.Cells = {}
                facts = []
                for c in cases:
                    cells = rules.contributions(
                        c, events[c.pk], dls[c.pk], categories=categories, places=places
                    )
                    facts.append(
                        (
                            c.pk,
                            cells_field.get_db_prep_save(rollup._encode(cells), connection),
                            now_db,
                            rules.RULES_VERSION,
                        )
                    )
                    for key, values in cells.items():
                        acc = total.setdefault(key, [0] * len(values))
                        for j, v in enumerate(values):
                            acc[j] += v
                cur.executemany(
                    f"INSERT INTO {fact_t} (case_id, cells, computed_at, rules_version) "
                    "VALUES (%s, %s, %s, %s)",
                    facts,
                )
                if not from_facts:
                    for part in rollup._chunks(total, 500):
                        rollup.apply(part)
                n += len(cases)
                if progress:
                    progress(n)
        if from_facts:
            rollups_from_facts()
    return n


def rollups_from_facts() -> None:
    """The set-based half of a bulk load: the day and month rollups as one ``INSERT … SELECT …
    GROUP BY`` each over the cells stored on the facts (PostgreSQL ``jsonb_array_elements``,
    SQLite ``json_each``) — the cells themselves come from ``rules.contributions``, so the
    counting rules stay in one place. The rollup tables must be empty."""
    from django.db import connection

    from xinfang.stats import rollup
    from xinfang.stats.models import CaseFact

    pg = connection.vendor == "postgresql"
    qn = connection.ops.quote_name
    fact_t = qn(CaseFact._meta.db_table)
    if pg:
        source = f"{fact_t} f CROSS JOIN LATERAL jsonb_array_elements(f.cells) AS j(v)"

        def el(k: int, cast: str) -> str:
            return f"(j.v->>{k})::{cast}"

        def month(expr: str) -> str:
            return f"date_trunc('month', {expr})::date"

        tab = "(j.v->>0)"
    else:
        source = f"{fact_t} f, json_each(f.cells) AS j"

        def el(k: int, cast: str) -> str:
            return f"json_extract(j.value, '$[{k}]')"

        def month(expr: str) -> str:
            return f"strftime('%Y-%m-01', {expr})"

        tab = "json_extract(j.value, '$[0]')"
    for code in rollup.FACT_TABLES:
        day_model, month_model, dims, measures = rollup.TABLES[code]
        types = []
        for d in dims:
            f = day_model._meta.get_field(d)
            types.append(f.get_internal_type())
        dim_exprs = []
        for k, (_d, t) in enumerate(zip(dims, types, strict=True), start=2):
            if t == "BooleanField":
                dim_exprs.append(f"({el(k, 'int')} = 1)" if pg else el(k, "int"))
            elif t == "CharField":
                dim_exprs.append(el(k, "text"))
            else:
                dim_exprs.append(el(k, "int"))
        base = 2 + len(dims)
        sums = [f"SUM({el(base + m, 'int')})" for m in range(len(measures))]
        day_expr = el(1, "date")
        for model, time_col, texpr in (
            (day_model, "day", day_expr),
            (month_model, "month", month(day_expr)),
        ):
            cols = ", ".join(qn(c) for c in (time_col, *dims, *measures))
            keys = ", ".join([texpr, *dim_exprs])
            sql = (
                f"INSERT INTO {qn(model._meta.db_table)} ({cols}) "
                f"SELECT {keys}, {', '.join(sums)} FROM {source} "
                f"WHERE {tab} = %s GROUP BY {keys}"
            )
            with connection.cursor() as cur:
                cur.execute(sql.replace("%Y", "%%Y").replace("%m", "%%m"), [code])
    rollup.project_all()  # the projections (it/ic/ip/ht) from the tables just written


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
    ap.add_argument("--seed", type=int, default=20261127)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    db = {"pg": "postgres", "postgresql": "postgres"}.get(args.db, args.db)
    label = B.setup(db, keep=args.keep)

    import _stats_seed as S
    from django.db import connection
    from django.utils import timezone

    from xinfang.cases.models import CaseEvent, Deadline
    from xinfang.stats import rollup

    rng = random.Random(args.seed)
    today = timezone.localdate()
    tree = S.build_tree()

    def progress(msg: str) -> None:
        print(msg, file=sys.stderr)

    seeded = S.seed(tree, args.cases, years=args.years, seed_value=args.seed, progress=progress)
    n_events = CaseEvent.objects.count()
    n_dls = Deadline.objects.count()
    print(f"### bench_stats.py — {label}, {args.cases:,} cases over {args.years} years\n")
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
        elif path == "facts":
            n = fast_rebuild(progress=rb_progress, from_facts=True)
            what = "fast_rebuild(from_facts) (rules → facts, rollups by SQL GROUP BY)"
        else:
            n = rollup.rebuild(progress=rb_progress)
            what = "rollup.rebuild() (Python rules)"
        secs = time.perf_counter() - t0
        steps.append([what, f"{n:,} cases", secs, round(n / secs), round(_rss_mb())])
    from xinfang.stats.models import HandlingDay, HandlingMonth, IntakeDay, IntakeMonth

    cells = {
        m.__name__: m.objects.count() for m in (IntakeDay, IntakeMonth, HandlingDay, HandlingMonth)
    }
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
    if args.check:
        rows = []
        for since in (None, (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)):
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
