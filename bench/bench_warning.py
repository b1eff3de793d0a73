"""Early warning (issue 10): (a) how well the spike detector finds injected spikes, (b) how long
the whole rule sweep takes at 1,000,000 cases.

(a) ``--eval`` (pure Python, no database): ``--series`` daily count series (place × topic) over
``--days`` (730) days — Poisson with a base rate drawn from ``--rates``, weekly seasonality
(weekends 40 %), a slow trend (+20 % over the two years) — with spikes injected at random
(+50 %, +100 %, +200 % over 3–7 days, no overlap, after the first 91 days). The SAME function
the sweep uses (``warning.detect_series`` → ``spike_test``, with the sweep's "once per window"
suppression) runs day by day. Printed: detection rate per spike size (and per base rate),
median detection delay (days from the spike's first day to the alert), false alerts per
series-month (alerts not within a spike or the window after it), for ``--alphas``.

(b) ``--sweep`` (PostgreSQL, database ``xf_warn_bench``, dropped at exit): ``--cases``
(1,000,000) cases over two years by ``INSERT … SELECT`` (220 place units with division codes,
the seeded categories, 500 groups on 2 % of cases, 600,000 petitioners, one per case, recent
cases open with a 办理 deadline (5 % still unmet), older ones closed), 5,000 disputes
(10 % overdue); then
``warning_sweep`` for a fixed day: per-rule ms (from ``WarningSweep.stats``), alerts raised,
total, SQL statements, peak RSS, and the idempotent second run.

    .venv/bin/python bench/bench_warning.py --eval [--series 200] [--alphas 0.001,0.01]
    nice -n 10 .venv/bin/python bench/bench_warning.py --sweep [--cases 1000000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import random
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("XINFANG_BENCH_DB", "xf_warn_bench")

from _benchdb import table

SIZES = (0.5, 1.0, 2.0)  # +50 %, +100 %, +200 %
AS_OF = dt.date(2026, 6, 30)


# --- (a) evaluation -------------------------------------------------------------------------


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 50:  # normal approximation, rounded (fast, fine for this purpose)
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _series(
    rng: random.Random, days: int, rate: float, spikes_per_series: int
) -> tuple[list[int], list[tuple[int, int, float]]]:
    """Daily counts and the injected spikes (start, end inclusive, size)."""
    spikes: list[tuple[int, int, float]] = []
    tries = 0
    while len(spikes) < spikes_per_series and tries < 1000:
        tries += 1
        length = rng.randint(3, 7)
        start = rng.randint(91, days - length - 1)
        # keep 28 clear days between spikes (each is judged alone; the baseline is 84 days)
        if any(start <= e + 28 and s <= start + length + 28 for s, e, _ in spikes):
            continue
        spikes.append((start, start + length - 1, rng.choice(SIZES)))
    counts = []
    for d in range(days):
        lam = rate * (0.4 if d % 7 in (5, 6) else 1.0) * (1 + 0.2 * d / days)
        for s, e, size in spikes:
            if s <= d <= e:
                lam *= 1 + size
        counts.append(_poisson(rng, lam))
    return counts, sorted(spikes)


def evaluate(args: argparse.Namespace) -> None:
    from xinfang.prevention.warning import detect_series

    rates = [float(x) for x in args.rates.split(",")]
    alphas = [float(x) for x in args.alphas.split(",")]
    rng = random.Random(args.seed)
    data = []
    for i in range(args.series):
        rate = rates[i % len(rates)]
        counts, spikes = _series(rng, args.days, rate, args.spikes)
        data.append((rate, counts, spikes))
    months = (args.days - 91) / 30.44
    print(
        f"### bench_warning.py --eval — {args.series} series × {args.days} days, "
        f"base rates {rates}/day, weekends 40 %, trend +20 %, "
        f"{sum(len(s) for _r, _c, s in data)} injected spikes (3–7 days), seed {args.seed}\n"
    )
    for alpha in alphas:
        found: dict[tuple[float, float], list[int]] = {}
        delays: dict[float, list[int]] = {s: [] for s in SIZES}
        false_alerts = 0
        t0 = time.perf_counter()
        for rate, counts, spikes in data:
            alerts = detect_series(
                counts,
                window_days=7,
                baseline_days=84,
                alpha=alpha,
                min_count=args.min_count,
            )
            days_alerted = [d for d, _r in alerts]
            for s, e, size in spikes:
                hit = [d for d in days_alerted if s <= d <= e + 6]
                found.setdefault((size, rate), []).append(1 if hit else 0)
                if hit:
                    delays[size].append(hit[0] - s)
            for d in days_alerted:
                if not any(s <= d <= e + 6 for s, e, _ in spikes):
                    false_alerts += 1
        secs = time.perf_counter() - t0
        rows = []
        for size in SIZES:
            cells = [f"+{size:.0%}"]
            all_hits = [h for (sz, _r), v in found.items() if sz == size for h in v]
            for rate in rates:
                v = found.get((size, rate), [])
                cells.append(f"{sum(v) / len(v):.0%} ({len(v)})" if v else "—")
            cells.append(f"{sum(all_hits) / len(all_hits):.0%}" if all_hits else "—")
            cells.append(f"{statistics.median(delays[size]):.0f}" if delays[size] else "—")
            rows.append(cells)
        print(f"alpha = {alpha}, min_count = {args.min_count}:\n")
        print(
            table(
                ["spike", *[f"rate {r}/day" for r in rates], "all", "median delay (days)"],
                rows,
            )
        )
        per_rate_false = false_alerts / (args.series * months)
        print(
            f"\nfalse alerts: {false_alerts} in {args.series} series × {months:.1f} months "
            f"= **{per_rate_false:.3f} per series-month** "
            f"({per_rate_false * 220:.1f}/month for 220 place units); "
            f"{args.series * (args.days - 90):,} detector days in {secs:.2f} s\n"
        )


# --- (b) the sweep at 1,000,000 cases -------------------------------------------------------


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _insert_select(model: Any, explicit: dict[str, str], source: str, params: list[Any]) -> None:
    """INSERT INTO model (every column) SELECT explicit expressions / defaults FROM source."""
    from django.db import connection

    cols: list[str] = []
    exprs: list[str] = []
    values: list[Any] = []
    for f in model._meta.concrete_fields:
        if f.primary_key:
            continue
        col = f.column
        cols.append(connection.ops.quote_name(col))
        if col in explicit:  # literal SQL (no placeholders): escape % for the driver
            exprs.append(explicit[col].replace("%", "%%"))
        elif f.has_default() or (not f.null and f.empty_strings_allowed):
            exprs.append("%s")
            values.append(f.get_db_prep_save(f.get_default(), connection))
        elif f.null:
            exprs.append("NULL")
        elif f.get_internal_type() == "DateTimeField":  # auto_now(_add)
            exprs.append("now()")
        else:
            raise SystemExit(f"bench_warning: no value for {model._meta.db_table}.{col}")
    t = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {t} ({', '.join(cols)}) SELECT {', '.join(exprs)} "
            f"FROM {source.replace('%', '%%')}",
            values + params,
        )


def _fill(n_cases: int) -> dict[str, Any]:
    from django.contrib.auth.models import User
    from django.db import connection
    from django.utils import timezone

    from xinfang.cases.models import Case, CasePetitioner, Category, Deadline
    from xinfang.org import roles as R
    from xinfang.org.models import Membership, Role, Unit, UnitType
    from xinfang.people.models import Petitioner, PetitionerGroup
    from xinfang.prevention.models import Dispute
    from xinfang.prevention.seeds import ensure_rules

    ensure_rules()
    t0 = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute("SELECT setseed(0.42)")
    district = Unit.objects.create(
        name="示范区", unit_type=UnitType.DISTRICT, division_code="110105"
    )
    office = Unit.objects.create(
        name="区信访局", unit_type=UnitType.DEPARTMENT, parent=district, is_petition_office=True
    )
    clerk = User.objects.create_user("clerk", password="x")
    Membership.objects.create(user=clerk, unit=office, role=Role.objects.get(code=R.CASE_OFFICER))
    leader = User.objects.create_user("leader", password="x")
    Membership.objects.create(user=leader, unit=district, role=Role.objects.get(code=R.LEADER))
    streets = []
    for s in range(1, 21):
        street = Unit.objects.create(
            name=f"街道{s}",
            unit_type=UnitType.STREET,
            parent=district,
            division_code=f"110105{s:03d}",
        )
        streets.append(street)
        for c in range(1, 11):
            Unit.objects.create(
                name=f"街道{s}社区{c}",
                unit_type=UnitType.COMMUNITY,
                parent=street,
                division_code=f"110105{s:03d}{c:03d}",
            )
    groups = PetitionerGroup.objects.bulk_create(
        [PetitionerGroup(name=f"群体{i}") for i in range(500)]
    )
    g0 = groups[0].pk
    cats = list(
        Category.objects.filter(parent__isnull=False).order_by("id").values_list("pk", flat=True)
    )
    cat_array = "ARRAY[" + ",".join(str(c) for c in cats) + "]"
    s0 = streets[0].pk
    end = f"TIMESTAMPTZ '{AS_OF.isoformat()} 04:00:00+00'"
    # Random (seeded) day in the two years (~1,370 a day), place, category and group: counts per
    # place-week are then Poisson-like, as in life. The 60 newest days are open.
    recv = f"({end} - (k * INTERVAL '1 day') - ((i % 10) * INTERVAL '1 hour'))"
    is_open = "k < 60"
    _insert_select(
        Case,
        {
            "number": "'W-' || i",
            "query_code": "'Q' || i",
            "channel": "'letter'",
            "purpose": "'appeal'",
            "summary": "'反映问题（基准测试）'",
            "content": "''",
            "received_at": recv,
            "registered_at": recv,
            "updated_at": recv,
            "closed_at": f"CASE WHEN {is_open} THEN NULL ELSE {recv} + INTERVAL '40 days' END",
            "status": f"CASE WHEN {is_open} THEN 'accepted' ELSE 'closed' END",
            "place_code": "'110105' || lpad((st + 1)::text, 3, '0') "
            "|| lpad((cm + 1)::text, 3, '0')",
            "category_id": f"({cat_array})[1 + cat]",
            "group_id": f"CASE WHEN g < 0.02 THEN {g0} + (i / 50) % 500 ELSE NULL END",
            "office_unit_id": str(office.pk),
            "handling_unit_id": f"({s0} + st * 11)",
            "registered_by_id": str(clerk.pk),
            "headcount": "1",
        },
        "(SELECT i, floor(random() * 730)::int AS k, floor(random() * 20)::int AS st, "
        "floor(random() * 10)::int AS cm, "
        f"floor(random() * {len(cats)})::int AS cat, random() AS g "
        f"FROM generate_series(1, {n_cases}) AS s(i)) AS r",
        [],
    )
    n_people = max(1, n_cases * 6 // 10)
    _insert_select(
        Petitioner,
        {"name": "'某' || i"},
        f"generate_series(1, {n_people}) AS s(i)",
        [],
    )
    p0 = Petitioner.objects.order_by("id").values_list("pk", flat=True).first()
    case_t = connection.ops.quote_name(Case._meta.db_table)
    _insert_select(
        CasePetitioner,
        {
            "case_id": "c.id",
            "petitioner_id": f"{p0} + (c.id * 7) % {n_people}",
            "role": "'principal'",
            "order": "0",
        },
        f"{case_t} c",
        [],
    )
    _insert_select(
        Deadline,
        {
            "case_id": "c.id",
            "kind": "'handle'",
            "started_on": "(c.received_at AT TIME ZONE 'Asia/Shanghai')::date",
            "due_on": "(c.received_at AT TIME ZONE 'Asia/Shanghai')::date + 60",
            # most offices answer well before the last days: 95 % already met
            "met_at": "CASE WHEN c.id % 97 < 5 THEN NULL "
            "ELSE c.received_at + INTERVAL '20 days' END",
            "paused": "false",
        },
        f"{case_t} c WHERE c.status = 'accepted'",
        [],
    )
    # a spike: 200 extra cases in one community last week
    _insert_select(
        Case,
        {
            "number": "'S-' || i",
            "query_code": "'S' || i",
            "channel": "'visit'",
            "purpose": "'appeal'",
            "summary": "'集中反映（基准测试）'",
            "content": "''",
            "received_at": f"({end} - ((i % 6 + 1) * INTERVAL '1 day'))",
            "registered_at": f"({end} - ((i % 6 + 1) * INTERVAL '1 day'))",
            "updated_at": end,
            "status": "'accepted'",
            "place_code": "'110105003004'",
            "category_id": str(cats[0]),
            "office_unit_id": str(office.pk),
            "handling_unit_id": str(streets[2].pk),
            "registered_by_id": str(clerk.pk),
            "headcount": "1",
        },
        "generate_series(1, 200) AS s(i)",
        [],
    )
    now = timezone.now()
    Dispute.objects.bulk_create(
        [
            Dispute(
                number=f"MD2026-{i:05d}",
                title=f"纠纷{i}",
                description="基准测试",
                source="screening",
                parties="甲\n乙",
                place_unit=streets[i % 20],
                unit=streets[i % 20],
                risk_level=("low", "medium", "high", "critical")[i % 4],
                due_on=AS_OF - dt.timedelta(days=5) if i % 10 == 0 else AS_OF + dt.timedelta(30),
                state="open",
                created_by=clerk,
                created_at=now,
            )
            for i in range(1, 5001)
        ],
        batch_size=1000,
    )
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    return {"fill_s": time.perf_counter() - t0, "cases": Case.objects.count()}


class _Counter:
    def __init__(self) -> None:
        self.n = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.n += 1
        return execute(sql, params, many, context)


def sweep_bench(args: argparse.Namespace) -> None:
    from _benchdb import setup

    label = setup("postgres")
    from django.db import connection

    from xinfang.prevention.warning import warning_sweep

    filled = _fill(args.cases)
    print(f"filled {filled['cases']:,} cases in {filled['fill_s']:.0f} s", file=sys.stderr)
    runs = []
    for _ in range(2):
        counter = _Counter()
        t0 = time.perf_counter()
        with connection.execute_wrapper(counter):
            sweep = warning_sweep(AS_OF)
        runs.append((sweep, time.perf_counter() - t0, counter.n))
    rss = _rss_mb()
    first, secs, queries = runs[0]
    second, secs2, queries2 = runs[1]
    print(f"### bench_warning.py --sweep — {label}, {filled['cases']:,} cases, as of {AS_OF}\n")
    rows = []
    for code, entry in first.stats.items():
        e2 = second.stats.get(code, {})
        rows.append(
            [
                code,
                entry.get("candidates", 0),
                entry.get("raised", 0),
                entry.get("ms", 0.0),
                e2.get("raised", 0),
                e2.get("ms", 0.0),
                entry.get("error", ""),
            ]
        )
    print(
        table(
            ["rule", "candidates", "raised", "ms", "2nd run raised", "2nd run ms", "error"],
            rows,
        )
    )
    print(
        f"\ntotal: first run {secs:.2f} s, {queries:,} SQL statements, {first.raised} alerts; "
        f"second run {secs2:.2f} s, {queries2:,} statements, {second.raised} alerts; "
        f"peak RSS {rss:,.0f} MB; fill {filled['fill_s']:.0f} s"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--eval", action="store_true", help="(a) detection evaluation, no database")
    ap.add_argument("--sweep", action="store_true", help="(b) the sweep on PostgreSQL")
    ap.add_argument("--series", type=int, default=200)
    ap.add_argument("--days", type=int, default=730)
    ap.add_argument("--rates", default="0.5,2,5,20")
    ap.add_argument("--spikes", type=int, default=6, help="injected spikes per series")
    ap.add_argument("--alphas", default="0.001,0.01")
    ap.add_argument("--min-count", type=int, default=5)
    ap.add_argument("--seed", type=int, default=20261127)
    ap.add_argument("--cases", type=int, default=1_000_000)
    args = ap.parse_args()
    if args.eval and args.sweep:
        raise SystemExit("run --eval and --sweep separately (the sweep sets Django up itself)")
    if not args.sweep:
        args.eval = True
    if args.eval:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinfang.settings")
        os.environ.setdefault("XINFANG_ALLOW_DEV_SECRET", "1")
        import django

        django.setup()  # the detector module imports models; no database is opened
        evaluate(args)
    if args.sweep:
        sweep_bench(args)


if __name__ == "__main__":
    main()
