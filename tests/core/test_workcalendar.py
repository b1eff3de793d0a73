"""Working calendar: real 2025/2026 arrangements, fallback years, admin overrides, properties."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pytest_django import DjangoAssertNumQueries, DjangoCaptureOnCommitCallbacks

from xinfang.core import workcalendar as wc
from xinfang.core.models import CalendarDay, CalendarYear

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    # Test transactions are rolled back without signals, so cached overrides must not leak.
    wc.clear_cache()
    yield
    wc.clear_cache()


# --- real arrangements -------------------------------------------------------------------------


def test_national_day_2025() -> None:
    for day in range(1, 9):
        assert not wc.is_workday(date(2025, 10, day)), f"2025-10-{day:02d} 应为假期"
    assert wc.is_workday(date(2025, 9, 28))  # Sunday, 调休上班
    assert wc.is_workday(date(2025, 10, 11))  # Saturday, 调休上班
    assert wc.is_workday(date(2025, 10, 9))
    assert not wc.is_workday(date(2025, 10, 12))  # ordinary Sunday


def test_add_days_over_national_day_2025() -> None:
    assert wc.add_days(date(2025, 9, 30), 1, working_days=True, roll_to_workday=False) == date(
        2025, 10, 9
    )
    # Calendar mode: 09-25 + 7 = 10-02 (holiday) → next workday 10-09.
    assert wc.add_days(date(2025, 9, 25), 7, working_days=False, roll_to_workday=True) == date(
        2025, 10, 9
    )
    assert wc.add_days(date(2025, 9, 25), 7, working_days=False, roll_to_workday=False) == date(
        2025, 10, 2
    )
    # 15 working days from 09-26: 9/28, 9/29, 9/30, 10/9, 10/10, 10/11, then 10/13 … 10/23.
    assert wc.add_days(date(2025, 9, 26), 15, working_days=True, roll_to_workday=True) == date(
        2025, 10, 23
    )


def test_workdays_between_national_day_2025() -> None:
    assert wc.workdays_between(date(2025, 9, 26), date(2025, 10, 12)) == 6
    assert wc.workdays_between(date(2025, 10, 12), date(2025, 9, 26)) == 0
    assert wc.workdays_between(date(2025, 10, 1), date(2025, 10, 1)) == 0


def test_spring_festival_2026() -> None:
    for day in range(15, 24):
        assert not wc.is_workday(date(2026, 2, day))
    assert wc.is_workday(date(2026, 2, 14))  # Saturday, 调休上班
    assert wc.is_workday(date(2026, 2, 28))  # Saturday, 调休上班
    assert wc.add_days(date(2026, 2, 13), 1, working_days=True, roll_to_workday=True) == date(
        2026, 2, 14
    )
    assert wc.add_days(date(2026, 2, 14), 1, working_days=True, roll_to_workday=True) == date(
        2026, 2, 24
    )


def test_days_zero() -> None:
    holiday = date(2025, 10, 3)
    assert wc.add_days(holiday, 0, working_days=False, roll_to_workday=False) == holiday
    assert wc.add_days(holiday, 0, working_days=False, roll_to_workday=True) == date(2025, 10, 9)
    assert wc.add_days(holiday, 0, working_days=True, roll_to_workday=True) == date(2025, 10, 9)


def test_negative_days_rejected() -> None:
    with pytest.raises(ValueError, match="不能为负数"):
        wc.add_days(date(2025, 1, 1), -1, working_days=False, roll_to_workday=False)


# --- years without data ------------------------------------------------------------------------


def test_year_without_data_falls_back_to_weekends() -> None:
    assert not wc.year_is_known(2031)
    assert wc.year_is_known(2025) and wc.year_is_known(2026)
    assert wc.is_workday(date(2031, 1, 1))  # a Wednesday; New Year unknown without data
    assert not wc.is_workday(date(2031, 1, 4))  # Saturday
    assert wc.add_days(date(2031, 1, 3), 1, working_days=True, roll_to_workday=True) == date(
        2031, 1, 6
    )
    assert wc.unknown_years([2031, 2025, 2031, 2030]) == [2030, 2031]


def test_far_years_never_raise() -> None:
    assert wc.is_workday(date(1999, 10, 1))  # before the library: a Friday counts as workday
    # Thu 2099-12-31 → Fri 01-01, Mon 01-04, Tue 01-05 (no holiday data that far ahead).
    assert wc.add_days(date(2099, 12, 31), 3, working_days=True, roll_to_workday=True) == date(
        2100, 1, 5
    )


# --- admin overrides and cache -----------------------------------------------------------------


def test_override_takes_effect_and_cache_invalidates() -> None:
    new_year = date(2031, 1, 1)
    assert wc.is_workday(new_year)  # warms the cache for 2031
    day = CalendarDay.objects.create(date=new_year, is_workday=False, name="元旦")
    assert not wc.is_workday(new_year)
    day.is_workday = True
    day.save()
    assert wc.is_workday(new_year)
    day.is_workday = False
    day.save()
    day.delete()
    assert wc.is_workday(new_year)


def test_override_beats_library() -> None:
    adjusted = date(2025, 10, 11)
    assert wc.is_workday(adjusted)
    CalendarDay.objects.create(date=adjusted, is_workday=False, name="测试：取消调休")
    assert not wc.is_workday(adjusted)
    CalendarDay.objects.create(date=date(2025, 10, 3), is_workday=True, name="测试")
    assert wc.is_workday(date(2025, 10, 3))


def test_calendar_year_makes_year_known() -> None:
    assert not wc.year_is_known(2031)
    row = CalendarYear.objects.create(year=2031, note="测试")
    assert wc.year_is_known(2031)
    assert wc.unknown_years([2031, 2032]) == [2032]
    row.delete()
    assert not wc.year_is_known(2031)


def test_cached_lookups_make_no_queries(django_assert_num_queries: DjangoAssertNumQueries) -> None:
    wc.is_workday(date(2031, 6, 1))
    wc.year_is_known(2031)
    with django_assert_num_queries(0):
        for offset in range(200):
            wc.is_workday(date(2031, 1, 1) + timedelta(days=offset))
        wc.year_is_known(2031)


def test_cache_cleared_again_on_commit(
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    # Another thread may re-cache pre-commit rows between save() and COMMIT; the on-commit
    # clear discards whatever was cached in between.
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        CalendarDay.objects.create(date=date(2031, 1, 1), is_workday=False)
        wc.is_workday(date(2031, 1, 1))
        cached_state = wc._cache.get()
    assert callbacks
    assert wc._cache.get() is not cached_state


def test_bulk_update_is_seen_after_clear_cache() -> None:
    # update() sends no signals: documented to rely on the TTL (or an explicit clear_cache()).
    CalendarDay.objects.create(date=date(2031, 1, 1), is_workday=False)
    assert not wc.is_workday(date(2031, 1, 1))
    CalendarDay.objects.filter(date=date(2031, 1, 1)).update(is_workday=True)
    wc.clear_cache()
    assert wc.is_workday(date(2031, 1, 1))


def test_other_processes_catch_up_after_ttl(monkeypatch: pytest.MonkeyPatch) -> None:
    # Signals only reach this process; other web workers rely on the TTL.
    CalendarDay.objects.create(date=date(2031, 1, 1), is_workday=False)
    assert not wc.is_workday(date(2031, 1, 1))
    CalendarDay.objects.filter(date=date(2031, 1, 1)).update(is_workday=True)
    assert not wc.is_workday(date(2031, 1, 1))  # still cached
    monkeypatch.setattr(wc._cache, "ttl", -1.0)
    assert wc.is_workday(date(2031, 1, 1))


def test_warm_calendar_needs_no_queries(
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    # Registration opens several deadlines per case; once a year is loaded, counting days must
    # not touch the database (speed itself is measured in bench/bench_register.py).
    start = date(2025, 9, 1)
    wc.add_days(start, 250, working_days=True, roll_to_workday=True)  # warm 2025 and 2026
    with django_assert_num_queries(0):
        for i in range(100):
            d = start + timedelta(days=i)
            wc.add_days(d, 15, working_days=False, roll_to_workday=True)
            wc.add_days(d, 60, working_days=True, roll_to_workday=True)


# --- properties --------------------------------------------------------------------------------

starts = st.dates(min_value=date(2003, 6, 1), max_value=date(2032, 12, 31))
day_counts = st.integers(min_value=0, max_value=120)


@settings(max_examples=200, deadline=None)
@given(starts, st.integers(min_value=1, max_value=120))
def test_working_mode_lands_on_workday(start: date, days: int) -> None:
    result = wc.add_days(start, days, working_days=True, roll_to_workday=False)
    assert wc.is_workday(result)
    assert result > start
    assert wc.workdays_between(start, result) == days


@settings(max_examples=200, deadline=None)
@given(starts, day_counts)
def test_calendar_mode_with_roll(start: date, days: int) -> None:
    result = wc.add_days(start, days, working_days=False, roll_to_workday=True)
    assert wc.is_workday(result)
    assert start + timedelta(days=days) <= result < start + timedelta(days=days + 30)


@settings(max_examples=200, deadline=None)
@given(starts, day_counts, st.booleans(), st.booleans())
def test_monotonic_in_days(start: date, days: int, working: bool, roll: bool) -> None:
    this = wc.add_days(start, days, working_days=working, roll_to_workday=roll)
    following = wc.add_days(start, days + 1, working_days=working, roll_to_workday=roll)
    assert this <= following


@settings(max_examples=100, deadline=None)
@given(starts, st.integers(0, 60), st.integers(0, 60))
def test_workdays_between_is_additive(a: date, gap1: int, gap2: int) -> None:
    b = a + timedelta(days=gap1)
    c = b + timedelta(days=gap2)
    assert wc.workdays_between(a, b) + wc.workdays_between(b, c) == wc.workdays_between(a, c)
