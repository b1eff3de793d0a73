"""``HandlingSpot`` — (case, unit, month) of each case's handling cells, the index behind the
cases of a figure: kept with the fact on every event, moved when the case moves, rebuilt in
bulk (and by the migration) from the facts, checked and mended by ``stats_check``."""

from __future__ import annotations

import datetime as dt
import importlib
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from tests.conftest import World
from xinfang.cases import services as S
from xinfang.stats import bulk, rollup
from xinfang.stats.models import HANDLING_MEASURES, CaseFact, HandlingSpot
from xinfang.stats.periods import Period
from xinfang.stats.query import Filters, cases_behind

Row = tuple[int, int, int, dt.date, int]  # case, unit, category, month, measure bits


def _spots() -> set[Row]:
    return set(
        HandlingSpot.objects.values_list("case_id", "unit_id", "category_id", "month", "measures")
    )


def _at(unit: int) -> set[tuple[int, dt.date]]:
    """(case, month) of the spots at ``unit``."""
    return {(case, month) for case, u, _c, month, _b in _spots() if u == unit}


def _from_facts() -> set[Row]:
    out = set()
    for pk, stored in CaseFact.objects.values_list("case_id", "cells"):
        cells = rollup._decode(stored)
        out |= {(pk, u, c, m, bits) for (u, c, m), bits in rollup.spots_of(cells).items()}
    return out


class _Editor:
    """What ``fill_from_facts`` uses of a schema editor (SQLite's cannot open inside the test's
    transaction): its connection, and ``execute(sql, params=())`` as Django's does it."""

    connection = connection

    def execute(self, sql: str, params: Any = ()) -> None:
        with connection.cursor() as cur:
            cur.execute(sql, params)


def _run(*args: str) -> str:
    out = StringIO()
    call_command("stats_check", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_spots_follow_the_case_from_unit_to_unit(world: World, register: Any) -> None:
    case = register()
    month = dt.date.today().replace(day=1)
    S.case_assign(case=case, by=world.alice, unit=world.street)
    assert (case.pk, month) in _at(world.street.pk)
    S.case_return(case=case, by=world.hank, reason="不属于本街道职责范围")
    S.case_assign(case=case, by=world.alice, unit=world.sibling)
    assert (case.pk, month) in _at(world.street.pk) and (case.pk, month) in _at(world.sibling.pk)
    assert _spots() == _from_facts()
    assigned = 1 << HANDLING_MEASURES.index("assigned")
    now = [bits for c, u, _c, m, bits in _spots() if u == world.sibling.pk and m == month]
    assert len(now) == 1 and now[0] & assigned  # (its 积案 day, 90 days on, is another spot)
    today = dt.date.today()
    period = Period(today, today)
    assert cases_behind(period, Filters(units=(world.sibling.pk,)), "h", "assigned") == [case.pk]
    assert cases_behind(period, Filters(units=(world.community.pk,)), "h", "assigned") == []
    assert rollup.check().ok


def test_a_damaged_spot_is_reported_and_mended(world: World, register: Any) -> None:
    case = register()
    S.case_assign(case=case, by=world.alice, unit=world.street)
    assert "一致。" in _run()
    good = _spots()
    HandlingSpot.objects.filter(case=case).delete()
    HandlingSpot.objects.create(
        case=case, unit_id=world.sibling.pk, month=dt.date(2020, 1, 1), measures=1
    )
    report = rollup.check()
    assert not report.ok and report.spots_wrong == 1 and not report.differences
    out = StringIO()
    with pytest.raises(CommandError, match="不一致"):
        call_command("stats_check", stdout=out, stderr=StringIO())
    assert "办理统计索引不符 1 件" in out.getvalue()
    since = dt.date.today().replace(day=1).isoformat()
    assert "已修复，复核一致。" in _run("--since", since, "--repair")
    assert _spots() == good


def test_bulk_and_migration_fill_the_spots_from_the_facts(world: World, register: Any) -> None:
    for unit in (world.street, world.sibling, world.street):
        S.case_assign(case=register(), by=world.alice, unit=unit)
    want = _spots()
    assert len(want) >= 3 and want == _from_facts()
    HandlingSpot.objects.all().delete()
    assert bulk.spots_from_facts() == len(want)
    assert _spots() == want
    HandlingSpot.objects.all().delete()
    migration = importlib.import_module("xinfang.stats.migrations.0003_handling_spots")
    migration.fill_from_facts(None, _Editor())
    assert _spots() == want
    assert rollup.check().ok
