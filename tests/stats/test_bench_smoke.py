"""The statistics bench cannot rot: its seeder writes ~300 cases with events and deadlines on
the test database, the rollups rebuilt from them equal the recomputation (so the set-based SQL
lifecycle and the Python counting rules agree), and every measured query runs once."""

from __future__ import annotations

import datetime as dt
import importlib
import random
import sys
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from tests.conftest import ensure_reference_data
from xinfang.cases.models import Case, CaseEvent, Deadline, Status
from xinfang.stats import rollup
from xinfang.stats.periods import Period
from xinfang.stats.query import Filters, backlog_on, intake_cases, intake_total

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _load(name: str) -> Any:
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    return importlib.import_module(name)


@pytest.fixture
def seeded(db: Any) -> tuple[Any, Any, dict[str, Any]]:
    ensure_reference_data()
    seed_mod = _load("_stats_seed")
    tree = seed_mod.build_tree(streets=3, communities=3, departments=4)
    info = seed_mod.seed(tree, 300, years=2, chunk=120, progress=lambda _m: None)
    rollup.rebuild()
    return seed_mod, tree, info


def test_seeded_lifecycle_is_realistic(seeded: tuple[Any, Any, dict[str, Any]]) -> None:
    _mod, _tree, info = seeded
    assert info["cases"] == Case.objects.count() == 300
    statuses = set(Case.objects.values_list("status", flat=True))
    assert Status.CLOSED in statuses and statuses & {Status.ACCEPTED, Status.SIGNED}
    kinds = set(CaseEvent.objects.values_list("kind", flat=True))
    assert {
        "register",
        "assign",
        "forward",
        "sign_in",
        "accept",
        "reply",
        "evaluate",
        "close",
    } <= kinds
    assert CaseEvent.objects.filter(kind="register").count() == 300
    # open obligations exist, some already past their due date (overdue)
    today = timezone.localdate()
    open_dl = Deadline.objects.filter(met_at__isnull=True, cancelled_at__isnull=True)
    assert open_dl.filter(kind="handle", due_on__lt=today).exists()
    # every event lies in the past and after its case's receipt
    assert not CaseEvent.objects.filter(at__gt=timezone.now()).exists()
    # 积案 today: entries minus exits of the district's subtree
    assert backlog_on(today)[0]["backlog"] > 0
    # the figure and the cases behind it agree
    period = Period(today - dt.timedelta(days=729), today)
    assert intake_total(period)[0] == intake_cases(period, Filters()).count() == 300


def test_rollups_equal_recomputation(seeded: tuple[Any, Any, dict[str, Any]]) -> None:
    report = rollup.check()
    assert report.ok, report.differences[:5]
    assert report.cases == 300


def test_each_measured_query_runs(seeded: tuple[Any, Any, dict[str, Any]]) -> None:
    bench = _load("bench_stats")
    _mod, tree, _info = seeded
    scopes = [
        bench.Scope("district", [tree.district]),
        bench.Scope("street", tree.streets),
    ]
    rows = bench.measure(scopes, 1, random.Random(1), timezone.localdate(), leader=tree.leader)
    names = {r[1] for r in rows}
    assert {n for n, _fn in bench.queries()} <= names
    assert all(not str(r[2]).startswith("skipped") for r in rows if not r[1].startswith("hook"))
    inc = bench.incremental(tree, 3, 2, random.Random(2))
    assert [r[1] for r in inc] == [3, 2, 2]
    assert rollup.check().ok


def test_recent_window_check_is_zero(seeded: tuple[Any, Any, dict[str, Any]]) -> None:
    report = rollup.check(since=timezone.localdate().replace(day=1))
    assert report.ok, report.differences[:5]


def test_fast_rebuild_equals_rebuild(seeded: tuple[Any, Any, dict[str, Any]]) -> None:
    from xinfang.stats.models import CaseFact, HandlingMonth, IntakeDay

    bench = _load("bench_stats")
    before = (IntakeDay.objects.count(), HandlingMonth.objects.count(), CaseFact.objects.count())
    assert bench.fast_rebuild(batch=70) == 300
    after = (IntakeDay.objects.count(), HandlingMonth.objects.count(), CaseFact.objects.count())
    assert before == after
    report = rollup.check()
    assert report.ok, report.differences[:5]


def test_rollups_from_facts_equal_rebuild(seeded: tuple[Any, Any, dict[str, Any]]) -> None:
    bench = _load("bench_stats")
    assert bench.fast_rebuild(batch=70, from_facts=True) == 300
    report = rollup.check()
    assert report.ok, report.differences[:5]


def test_stats_rebuild_bulk_equals_rebuild(seeded: tuple[Any, Any, dict[str, Any]]) -> None:
    """``manage.py stats_rebuild --bulk`` (stats.bulk) gives the rollups ``rollup.rebuild()``
    gave, table by table, projections included; and the check finds nothing."""
    from io import StringIO

    from django.core.management import call_command

    def snapshot() -> dict[str, set[tuple[Any, ...]]]:
        out = {}
        for day_model, month_model, _dims, _measures in rollup.TABLES.values():
            for m in (day_model, month_model):
                out[m.__name__] = set(
                    m.objects.values_list(*[f.attname for f in m._meta.fields][1:])
                )
        out["spots"] = set(HandlingSpot.objects.values_list("case_id", "unit_id", "month"))
        return out

    from xinfang.stats.models import HandlingSpot

    before = snapshot()
    assert sum(len(v) for v in before.values()) > 1000
    assert len(before["spots"]) > 300  # more than one (unit, month) for many cases
    out = StringIO()
    call_command("stats_rebuild", "--bulk", stdout=out)
    assert "已重建：300 件事项" in out.getvalue()
    assert snapshot() == before
    report = rollup.check()
    assert report.ok, report.differences[:5]


def test_cases_behind_equal_a_brute_force_over_every_cell(
    seeded: tuple[Any, Any, dict[str, Any]],
) -> None:
    """The cases behind a handling figure (``HandlingSpot`` bits for whole months, stored cells
    for the days at either end) are exactly the cases whose recomputed cells hold the measure
    in the period at the units and categories asked — over random periods (days, across
    month ends and a new year, whole years), measures, unit sets and categories."""
    from xinfang.stats import rules
    from xinfang.stats.models import HANDLING_MEASURES
    from xinfang.stats.query import cases_behind

    _mod, tree, _info = seeded
    cells = rollup.compute(list(Case.objects.values_list("pk", flat=True)))
    rng = random.Random(7)
    today = timezone.localdate()
    units = [None, (tree.district.pk,), tuple(u.pk for u in tree.streets[:2]), (tree.office.pk,)]
    cats = sorted({k[3] for c in cells.values() for k in c if k[0] == rules.HANDLING})
    for _ in range(40):
        start = today - dt.timedelta(days=rng.randrange(0, 700))
        span = rng.choice([0, 6, 30, 45, 120, 365])
        if rng.random() < 0.3:
            start = start.replace(day=1)
        period = Period(start, min(start + dt.timedelta(days=span), today))
        measure = rng.choice(HANDLING_MEASURES)
        k = HANDLING_MEASURES.index(measure)
        f = Filters(
            units=rng.choice(units),
            categories=tuple(rng.sample(cats, 2)) if cats and rng.random() < 0.3 else None,
        )
        lo, hi = period.start.isoformat(), period.end.isoformat()
        want = sorted(
            pk
            for pk, c in cells.items()
            if any(
                key[0] == rules.HANDLING
                and lo <= key[1] <= hi
                and v[k]
                and (f.units is None or key[2] in f.units)
                and (f.categories is None or key[3] in f.categories)
                for key, v in c.items()
            )
        )
        assert cases_behind(period, f, "h", measure) == want, (period, measure, f)


def test_sums_over_partial_months_equal_the_days(seeded: tuple[Any, Any, dict[str, Any]]) -> None:
    """A range covering most of its month is read as the month row minus the days outside it:
    the sums (grouped or not, intake and handling, with projections) equal the plain sum of
    the day rows of the period, over random periods (month to date, across month ends)."""
    from collections import Counter

    from django.db.models import Sum

    from xinfang.stats.models import HandlingDay, IntakeCategoryDay, IntakeDay
    from xinfang.stats.query import handling, intake

    _mod, _tree, _info = seeded
    rng = random.Random(11)
    today = timezone.localdate()
    for _ in range(25):
        start = today - dt.timedelta(days=rng.randrange(0, 600))
        if rng.random() < 0.5:
            start = start.replace(day=rng.choice([1, 2, 3]))
        end = min(start + dt.timedelta(days=rng.choice([20, 26, 27, 29, 40, 58, 75])), today)
        period = Period(start, end)
        days = {"day__gte": start, "day__lte": end}
        want_cat = Counter(
            {
                r["category_id"]: r["b"]
                for r in IntakeCategoryDay.objects.filter(**days)
                .values("category_id")
                .annotate(b=Sum("batches"))
                if r["b"]
            }
        )
        got_cat = Counter(
            {r["category_id"]: r["batches"] for r in intake(period, by=["category_id"])}
        )
        assert +got_cat == want_cat, period
        want_h = HandlingDay.objects.filter(**days).aggregate(
            r=Sum("reply_done"), b=Sum("backlog_in")
        )
        got_h = handling(period)
        got = (
            sum(r["reply_done"] for r in got_h),
            sum(r["backlog_in"] for r in got_h),
        )
        assert got == ((want_h["r"] or 0), (want_h["b"] or 0)), period
        t = IntakeDay.objects.filter(**days).aggregate(b=Sum("batches"), p=Sum("persons"))
        assert intake_total(period) == ((t["b"] or 0), (t["p"] or 0)), period
