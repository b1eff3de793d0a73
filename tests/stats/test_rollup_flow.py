"""The rollups follow the lifecycle services, in the same transaction, and agree with a
recomputation from the events."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from tests.conftest import World, reply_case
from xinfang.cases import services as S
from xinfang.cases.deadlines import local_date
from xinfang.stats import rollup
from xinfang.stats.periods import Period
from xinfang.stats.query import Filters, handling_total, intake_total


def test_registration_to_close_counts_and_checks(world: World, register: Any) -> None:
    today = local_date(timezone.now())
    period = Period(today.replace(day=1), today)
    case = register(headcount=6)
    assert intake_total(period, Filters(units=(world.office.pk,))) == (1, 6)
    reply_case(world, case)
    S.case_evaluate(case=case, by=world.rita, evaluation="satisfied")
    S.case_close(case=case, by=world.alice)
    h = handling_total(period, Filters(units=(world.street.pk,)))
    assert h["assigned"] == 1 and h["accept_done"] == 1 and h["accept_timely"] == 1
    assert h["reply_done"] == 1 and h["reply_timely"] == 1
    assert h["evaluated"] == 1 and h["satisfied"] == 1
    assert h["closed"] == 1 and h["closed_once"] == 1
    report = rollup.check()
    assert report.ok, report.differences
    # a merged duplicate leaves the counts
    keep, dup = register(), register()
    assert intake_total(period, Filters(units=(world.office.pk,))) == (3, 8)
    from xinfang.cases.handling import case_merge

    case_merge(case=dup, by=world.alice, into=keep, note="同一事项重复登记")
    assert intake_total(period, Filters(units=(world.office.pk,))) == (2, 7)
    assert rollup.check().ok
