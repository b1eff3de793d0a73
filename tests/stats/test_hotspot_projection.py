"""The hotspot projection (``icl``: unit × first-level category × place): kept with every cell,
rebuilt set-based and by its migration from the unit × category × place table, read by the
hotspot sums instead of the second-level table, checked and re-derived after the category tree
changes."""

from __future__ import annotations

import datetime as dt
import importlib
from collections import defaultdict
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import World
from tests.stats.factory import at, bulk_cases
from xinfang.cases.models import Category
from xinfang.stats import query, rollup, rules
from xinfang.stats.models import (
    IntakeCategoryPlaceDay,
    IntakeCategoryPlaceMonth,
    IntakeHotspotDay,
    IntakeHotspotMonth,
)
from xinfang.stats.periods import Period

Rows = dict[tuple[Any, ...], tuple[int, int]]


def _stored(model: Any, time_col: str) -> Rows:
    return {
        (r[0], r[1], r[2], r[3]): (r[4], r[5])
        for r in model.objects.values_list(
            time_col, "office_id", "category_l1", "place_id", "batches", "persons"
        )
        if r[4] or r[5]
    }


def _from_second_level(model: Any, time_col: str) -> Rows:
    """The icp rows summed by first-level category in Python (the tree read now)."""
    l1 = rules.CategoryMap().l1
    acc: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0])
    for t, office, cat, place, b, p in model.objects.values_list(
        time_col, "office_id", "category_id", "place_id", "batches", "persons"
    ):
        a = acc[(t, office, l1(cat), place)]
        a[0] += b
        a[1] += p
    return {k: (v[0], v[1]) for k, v in acc.items() if any(v)}


def _tree() -> tuple[Category, Category, Category, Category]:
    """A third-level category, its second and first levels, and another first level."""
    c3 = Category.objects.filter(level=3).order_by("pk").first()
    assert c3 is not None and c3.parent is not None and c3.parent.parent is not None
    c2, c1 = c3.parent, c3.parent.parent
    other = Category.objects.filter(level=1).exclude(pk=c1.pk).order_by("pk").first()
    assert other is not None
    return c3, c2, c1, other


def _fixture(world: World) -> tuple[Category, Category, Category, Category]:
    c3, c2, c1, other = _tree()
    bulk_cases(
        world,
        [
            (3, {"category": c3, "place_code": "110105001"}),
            (2, {"category": c2, "place_code": "110105001", "headcount": 6}),
            (1, {"category": c1, "place_code": "110105002"}),
            (2, {"category": other, "place_code": "110105002", "office_unit": world.street}),
            (1, {"place_code": ""}),
            (4, {"category": c3, "received_at": at("2026-04-07"), "place_code": "110105002"}),
        ],
    )
    return c3, c2, c1, other


def test_the_hotspot_rows_are_the_second_level_rows_by_first_level(world: World) -> None:
    _c3, _c2, c1, other = _fixture(world)
    day = _stored(IntakeHotspotDay, "day")
    assert day == _from_second_level(IntakeCategoryPlaceDay, "day")
    month = _stored(IntakeHotspotMonth, "month")
    assert month == _from_second_level(IntakeCategoryPlaceMonth, "month")
    march = dt.date(2026, 3, 1)
    # 3 cases at the third level and 2 (6 people each) at the second: one first-level row
    assert month[(march, world.office.pk, c1.pk, world.street.pk)] == (5, 15)
    assert month[(march, world.office.pk, c1.pk, world.sibling.pk)] == (1, 1)
    assert month[(march, world.street.pk, other.pk, world.sibling.pk)] == (2, 2)
    assert month[(march, world.office.pk, 0, 0)] == (1, 1)
    assert month[(dt.date(2026, 4, 1), world.office.pk, c1.pk, world.sibling.pk)] == (4, 4)
    assert rollup.check().ok
    # set-based (a bulk build) and the migration (a deployment with rollups) give the same
    for model in (IntakeHotspotDay, IntakeHotspotMonth):
        model.objects.all().delete()
    rollup.project_all()
    assert _stored(IntakeHotspotDay, "day") == day
    assert _stored(IntakeHotspotMonth, "month") == month
    for model in (IntakeHotspotDay, IntakeHotspotMonth):
        model.objects.all().delete()
    migration = importlib.import_module("xinfang.stats.migrations.0004_hotspot_projection")
    from django.apps import apps

    class Editor:
        pass

    editor: Any = Editor()
    editor.connection = connection
    migration.fill_from_category_place(apps, editor)
    assert _stored(IntakeHotspotDay, "day") == day
    assert _stored(IntakeHotspotMonth, "month") == month


def test_a_registration_adds_to_the_hotspot_row(world: World, register: Any) -> None:
    c3, _c2, c1, _other = _tree()
    case = register(category_id=c3.pk, place_code="110105001", headcount=3)
    day = rules.local_day(case.received_at)  # the received day, in the office's time zone
    rows = _stored(IntakeHotspotDay, "day")
    assert rows == {(day, world.office.pk, c1.pk, world.street.pk): (1, 3)}
    assert rollup.check().ok


def _hotspots(period: Period, filters: query.Filters) -> tuple[list[dict[str, Any]], str]:
    with CaptureQueriesContext(connection) as ctx:
        rows = query.intake(period, filters, by=["category_l1", "place_id"])
    sql = " ".join(q["sql"] for q in ctx.captured_queries)
    return sorted(rows, key=lambda r: (r["category_l1"], r["place_id"])), sql


def _by_second_level(period: Period, filters: query.Filters) -> list[dict[str, Any]]:
    l1 = rules.CategoryMap().l1
    acc: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
    for r in query.intake(period, filters, by=["category_id", "place_id"]):
        a = acc[(l1(r["category_id"]), r["place_id"])]
        a[0] += r["batches"]
        a[1] += r["persons"]
    return sorted(
        (
            {"category_l1": c, "place_id": p, "batches": b, "persons": n}
            for (c, p), (b, n) in acc.items()
        ),
        key=lambda r: (r["category_l1"], r["place_id"]),
    )


def test_the_hotspot_sums_read_the_projection_and_agree(world: World) -> None:
    c3, c2, c1, other = _fixture(world)
    district = query.Filters(units=(world.district.pk, world.office.pk, world.street.pk))
    for period in (
        Period(dt.date(2026, 3, 1), dt.date(2026, 3, 31)),  # a whole month
        Period(dt.date(2026, 3, 2), dt.date(2026, 4, 30)),  # days, then a month
        Period(dt.date(2026, 1, 1), dt.date(2026, 12, 31)),
    ):
        rows, sql = _hotspots(period, district)
        assert "stats_intakehotspot" in sql and "stats_intakecategoryplace" not in sql
        assert rows == _by_second_level(period, district)
    year = Period(dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    rows, _ = _hotspots(year, district)
    assert {(r["category_l1"], r["place_id"]): r["batches"] for r in rows} == {
        (c1.pk, world.street.pk): 5,
        (c1.pk, world.sibling.pk): 5,
        (other.pk, world.sibling.pk): 2,
        (0, 0): 1,
    }
    # a category filter needs the second level: the unit × category × place table
    narrowed = district.narrow(categories=(c2.pk,))
    rows, sql = _hotspots(year, narrowed)
    assert "stats_intakecategoryplace" in sql and "stats_intakehotspot" not in sql
    assert [(r["category_l1"], r["place_id"], r["batches"]) for r in rows] == [
        (c1.pk, world.street.pk, 5),
        (c1.pk, world.sibling.pk, 4),
    ]
    # the first level alone: the smaller unit × category table, grouped in SQL
    with CaptureQueriesContext(connection) as ctx:
        by_topic = query.intake(year, district, by=["category_l1"])
    sql = " ".join(q["sql"] for q in ctx.captured_queries)
    assert "stats_intakecategorymonth" in sql and "stats_intakehotspot" not in sql
    assert {r["category_l1"]: r["batches"] for r in by_topic} == {c1.pk: 10, other.pk: 2, 0: 1}
    assert c3.pk not in {r["category_l1"] for r in by_topic}


def test_moving_a_second_level_category_is_reported_and_repaired(world: World) -> None:
    _c3, c2, c1, other = _fixture(world)
    c2.parent = other
    c2.save()
    report = rollup.check()
    wrong = {key[0] for _what, key, _e, _a in report.differences}
    assert not report.ok and wrong == {"icl"}  # the facts keep the second level: still right
    assert rollup.check(repair=True).ok is False  # reported before the repair …
    assert rollup.check().ok  # … and mended by it
    march = dt.date(2026, 3, 1)
    month = _stored(IntakeHotspotMonth, "month")
    assert month[(march, world.office.pk, other.pk, world.street.pk)] == (5, 15)
    assert (march, world.office.pk, c1.pk, world.street.pk) not in month
    year = Period(dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    district = query.Filters(units=(world.district.pk, world.office.pk, world.street.pk))
    rows, _ = _hotspots(year, district)
    assert rows == _by_second_level(year, district)
