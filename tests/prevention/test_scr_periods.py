"""排查周期: periods, labels and due dates (ISO weeks across the new year, leap years, half-month
ends, the 2026 National Day / Mid-Autumn holidays and the adjusted workdays)."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import World
from xinfang.core import workcalendar
from xinfang.org.models import Unit, UnitType
from xinfang.prevention.models import ScreeningRule
from xinfang.prevention.screening import due_on, period_of, rule_for

D = dt.date


def test_weekly_period_and_iso_label() -> None:
    assert period_of("weekly", D(2026, 11, 27)) == (
        D(2026, 11, 23),
        D(2026, 11, 29),
        "2026年第48周",
    )
    assert period_of("weekly", D(2026, 11, 23))[0] == D(2026, 11, 23)
    assert period_of("weekly", D(2026, 11, 29))[1] == D(2026, 11, 29)


def test_week_across_new_year_carries_its_iso_year() -> None:
    # 2026 has 53 ISO weeks; its last week runs into 2027.
    assert period_of("weekly", D(2026, 12, 31)) == (D(2026, 12, 28), D(2027, 1, 3), "2026年第53周")
    assert period_of("weekly", D(2027, 1, 2))[2] == "2026年第53周"
    assert period_of("weekly", D(2027, 1, 4))[2] == "2027年第1周"
    # 2024-12-30 already belongs to ISO week 1 of 2025.
    assert period_of("weekly", D(2024, 12, 31)) == (D(2024, 12, 30), D(2025, 1, 5), "2025年第1周")


def test_half_month_ends() -> None:
    assert period_of("half_monthly", D(2026, 11, 15)) == (
        D(2026, 11, 1),
        D(2026, 11, 15),
        "2026年11月上半月",
    )
    assert period_of("half_monthly", D(2026, 11, 16)) == (
        D(2026, 11, 16),
        D(2026, 11, 30),
        "2026年11月下半月",
    )
    assert period_of("half_monthly", D(2026, 12, 31))[1] == D(2026, 12, 31)
    assert period_of("half_monthly", D(2027, 2, 20))[1] == D(2027, 2, 28)


def test_leap_year_february() -> None:
    assert period_of("half_monthly", D(2028, 2, 29)) == (
        D(2028, 2, 16),
        D(2028, 2, 29),
        "2028年2月下半月",
    )
    assert period_of("monthly", D(2028, 2, 1)) == (D(2028, 2, 1), D(2028, 2, 29), "2028年2月")
    assert period_of("monthly", D(2027, 2, 1))[1] == D(2027, 2, 28)


def test_unknown_cadence() -> None:
    with pytest.raises(ValueError):
        period_of("daily", D(2026, 1, 1))


def _rule(n: int) -> ScreeningRule:
    return ScreeningRule(name="x", cadence="weekly", unit_types=[], due_workdays=n)


@pytest.mark.django_db
def test_due_dates_roll_over_the_2026_holidays() -> None:
    # 2026: Mid-Autumn 09-25 (Fri) off, 09-20 (Sun) worked; National Day 10-01…10-07 off,
    # 10-10 (Sat) worked — as the chinesecalendar library says.
    assert not workcalendar.is_workday(D(2026, 9, 25))
    assert workcalendar.is_workday(D(2026, 9, 20))
    assert not workcalendar.is_workday(D(2026, 10, 7))
    assert workcalendar.is_workday(D(2026, 10, 10))
    # The holiday week (09-28…10-04): one working day after → 10-08.
    assert due_on(_rule(1), D(2026, 10, 4)) == D(2026, 10, 8)
    # The month of September, two working days after → 10-09.
    assert due_on(_rule(2), D(2026, 9, 30)) == D(2026, 10, 9)
    # October ends on a Saturday: 11-02, 11-03.
    assert due_on(_rule(1), D(2026, 10, 31)) == D(2026, 11, 2)
    assert due_on(_rule(2), D(2026, 10, 31)) == D(2026, 11, 3)
    # 0 = the period's last working day: the holiday week's is 09-30; the week of 09-14 ends on
    # an adjusted working Sunday (09-20), which is its own last working day.
    assert due_on(_rule(0), D(2026, 10, 4), D(2026, 9, 28)) == D(2026, 9, 30)
    assert due_on(_rule(0), D(2026, 9, 20), D(2026, 9, 14)) == D(2026, 9, 20)
    # A period with no working day at all: the next working day.
    assert due_on(_rule(0), D(2026, 10, 7), D(2026, 10, 1)) == D(2026, 10, 8)


@pytest.mark.django_db
def test_due_dates_are_always_workdays_over_two_years() -> None:
    day = D(2025, 1, 1)
    while day < D(2027, 1, 1):
        for cadence in ("weekly", "half_monthly", "monthly"):
            start, end, _ = period_of(cadence, day)
            for n in (0, 1, 2):
                assert workcalendar.is_workday(due_on(_rule(n), end, start)), (cadence, day, n)
        day += dt.timedelta(days=5)


def test_rule_for_follows_seeded_priority(world: World) -> None:
    names = {u.pk: (r.name if (r := rule_for(u)) else None) for u in Unit.objects.all()}
    assert names[world.office.pk] == "区信访办月度排查"  # department + petition office
    assert names[world.street.pk] == "街道、部门半月排查"
    assert names[world.sibling.pk] == "街道、部门半月排查"
    assert names[world.community.pk] == "社区、辖区单位每周排查"
    assert names[world.district.pk] is None  # not a petition office
    plain_dept = Unit.objects.create(
        name="区住建委", unit_type=UnitType.DEPARTMENT, parent=world.district
    )
    company = Unit.objects.create(
        name="某物业公司", unit_type=UnitType.COMPANY, parent=world.community
    )
    assert rule_for(plain_dept).name == "街道、部门半月排查"  # type: ignore[union-attr]
    assert rule_for(company).name == "社区、辖区单位每周排查"  # type: ignore[union-attr]
    ScreeningRule.objects.filter(priority=1).update(is_active=False)
    assert rule_for(Unit.objects.get(pk=world.office.pk)).name == "街道、部门半月排查"  # type: ignore[union-attr]
