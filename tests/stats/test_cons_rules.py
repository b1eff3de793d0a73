"""The counting rules at their edges, cell by cell, through the real services: back-dated and
new-year/leap-day receipts, a case moved between units, 积案 in and out (and in again after a
复查 request), a merged duplicate, a correction after the month closed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from tests.conftest import World, serve_reply
from tests.stats.factory import at
from xinfang.cases import services as S
from xinfang.cases.deadlines import local_date
from xinfang.cases.handling import case_merge, case_transfer
from xinfang.cases.models import Case
from xinfang.stats import rollup
from xinfang.stats.models import HandlingDay, IntakeDay
from xinfang.stats.periods import Period
from xinfang.stats.query import Filters, backlog_on, intake_total


def handling_cells(measure: str) -> dict[tuple[dt.date, int], int]:
    """{(day, unit): n} of one handling measure (non-zero cells only)."""
    out: dict[tuple[dt.date, int], int] = {}
    for day, unit, n in HandlingDay.objects.values_list("day", "unit_id", measure):
        if n:
            out[(day, unit)] = out.get((day, unit), 0) + n
    return out


def intake_days() -> dict[dt.date, tuple[int, int]]:
    out: dict[dt.date, tuple[int, int]] = {}
    for day, b, p in IntakeDay.objects.values_list("day", "batches", "persons"):
        ob, op = out.get(day, (0, 0))
        out[day] = (ob + b, op + p)
    return {d: v for d, v in out.items() if any(v)}


def assert_consistent() -> None:
    report = rollup.check()
    assert report.ok, report.differences[:10]


def test_back_dated_new_year_and_leap_day(world: World, register: Any) -> None:
    # local time (Asia/Shanghai): 00:30 on 1 January is still 31 December in UTC
    register(received_at=at("2026-01-01", 0).replace(minute=30), headcount=2)
    register(received_at=at("2025-12-31", 23).replace(minute=59))
    register(received_at=at("2024-02-29", 16), headcount=5)
    assert intake_days() == {
        dt.date(2026, 1, 1): (1, 2),
        dt.date(2025, 12, 31): (1, 1),
        dt.date(2024, 2, 29): (1, 5),
    }
    office = Filters(units=(world.office.pk,))
    assert intake_total(Period.month(2026, 1), office) == (1, 2)
    assert intake_total(Period.year(2025), office) == (1, 1)
    assert intake_total(Period(dt.date(2025, 12, 1), dt.date(2026, 1, 31)), office) == (2, 3)
    # February 2025's same period last year runs to the 29th of 2024
    assert intake_total(Period.month(2025, 2).same_last_year(), office) == (1, 5)
    assert intake_total(Period.month(2024, 3), office) == (0, 0)
    assert_consistent()


def test_back_dated_registration_is_backlog_from_day_ninety(world: World, register: Any) -> None:
    """Received 100 days ago, registered today and still open: open from its receipt, so 积案
    from received + 90 days, like its intake that lands 100 days back."""
    received = timezone.now() - dt.timedelta(days=100)
    case = register(received_at=received)
    today = local_date(timezone.now())
    day90 = local_date(received) + dt.timedelta(days=90)
    assert intake_days() == {local_date(received): (1, 1)}
    assert handling_cells("backlog_in") == {(day90, world.office.pk): 1}
    assert backlog_on(today, Filters(units=(world.office.pk,))) == [{"backlog": 1}]
    assert case.is_open
    assert_consistent()


def test_transfer_counts_at_each_unit(world: World, register: Any) -> None:
    case = register()
    d0 = timezone.now()
    t = [d0 + dt.timedelta(days=i, hours=1) for i in range(6)]
    days = [local_date(x) for x in t]
    S.case_assign(case=case, by=world.alice, unit=world.street, at=t[0])
    S.case_sign_in(case=case, by=world.hank, at=t[1])
    S.case_accept(case=case, by=world.hank, notice_text="经审查，决定受理。", at=t[1])
    case_transfer(case=case, by=world.alice, unit=world.sibling, reason="属西山街道管辖", at=t[2])
    case = Case.objects.get(pk=case.pk)
    S.case_sign_in(case=case, by=world.bob, at=t[3])
    S.case_accept(case=case, by=world.bob, notice_text="经审查，决定受理。", at=t[3])
    street, sibling = world.street.pk, world.sibling.pk
    assert handling_cells("assigned") == {(days[0], street): 1, (days[2], sibling): 1}
    assert handling_cells("accept_done") == {(days[1], street): 1, (days[3], sibling): 1}
    assert handling_cells("accepted") == {(days[1], street): 1, (days[3], sibling): 1}
    assert handling_cells("accept_timely") == {(days[1], street): 1, (days[3], sibling): 1}
    # the intake stays at the registering office
    assert intake_total(Period.year(days[0].year), Filters(units=(world.office.pk,)))[0] == 1
    assert intake_total(Period.year(days[0].year), Filters(units=(street, sibling))) == (0, 0)
    assert_consistent()


def test_backlog_in_on_day_90_out_on_reply_in_again_on_review(world: World, register: Any) -> None:
    now = timezone.now()
    case = register(received_at=now - dt.timedelta(minutes=5))
    received = local_date(case.received_at)

    def on(days: int) -> dt.datetime:
        return timezone.make_aware(
            dt.datetime.combine(received + dt.timedelta(days=days), dt.time(10))
        )

    S.case_assign(case=case, by=world.alice, unit=world.street, at=on(1))
    S.case_sign_in(case=case, by=world.hank, at=on(1))
    S.case_accept(case=case, by=world.hank, notice_text="经审查，决定受理。", at=on(2))
    street = world.street.pk
    threshold = received + dt.timedelta(days=90)
    # still open: it becomes 积案 on day 90 (in the future)
    assert handling_cells("backlog_in") == {(threshold, street): 1}
    assert handling_cells("backlog_out") == {}
    serve_reply(world, case, at=on(95), served_on=(received + dt.timedelta(days=95)))
    assert handling_cells("backlog_out") == {(received + dt.timedelta(days=95), street): 1}
    assert backlog_on(threshold, Filters(units=(street,))) == [{"backlog": 1}]
    assert backlog_on(received + dt.timedelta(days=95), Filters(units=(street,))) == [
        {"backlog": 0}
    ]
    case = Case.objects.get(pk=case.pk)
    S.case_request_review(case=case, by=world.rita, reason="对答复不服，申请复查", at=on(100))
    assert handling_cells("backlog_in") == {
        (threshold, street): 1,
        (received + dt.timedelta(days=100), street): 1,
    }
    case = Case.objects.get(pk=case.pk)
    S.case_decide_review(case=case, by=world.alice, text="经复查，维持原答复意见。", at=on(110))
    assert handling_cells("backlog_out") == {
        (received + dt.timedelta(days=95), street): 1,
        (received + dt.timedelta(days=110), street): 1,
    }
    assert backlog_on(received + dt.timedelta(days=120), Filters()) == [{"backlog": 0}]
    assert_consistent()


def test_backlog_moves_with_a_transfer(world: World, register: Any) -> None:
    case = register(received_at=timezone.now() - dt.timedelta(minutes=5))
    received = local_date(case.received_at)

    def on(days: int) -> dt.datetime:
        return timezone.make_aware(
            dt.datetime.combine(received + dt.timedelta(days=days), dt.time(10))
        )

    S.case_assign(case=case, by=world.alice, unit=world.street, at=on(1))
    case_transfer(case=case, by=world.alice, unit=world.sibling, reason="属西山街道管辖", at=on(93))
    d93 = received + dt.timedelta(days=93)
    threshold = received + dt.timedelta(days=90)
    assert handling_cells("backlog_in") == {
        (threshold, world.street.pk): 1,
        (d93, world.sibling.pk): 1,
    }
    assert handling_cells("backlog_out") == {(d93, world.street.pk): 1}
    assert backlog_on(d93, Filters()) == [{"backlog": 1}]  # the district total is unchanged
    assert_consistent()


def test_merged_duplicate_leaves_every_cell(world: World, register: Any) -> None:
    keep = register(headcount=2)
    dup = register(headcount=3)
    S.case_assign(case=dup, by=world.alice, unit=world.street)
    assert handling_cells("assigned") == {(local_date(timezone.now()), world.street.pk): 1}
    case_merge(case=Case.objects.get(pk=dup.pk), by=world.alice, into=keep, note="重复登记")
    assert handling_cells("assigned") == {}
    received = local_date(keep.received_at)  # an hour ago: yesterday just after midnight
    assert intake_days() == {received: (1, 2)}
    assert_consistent()
