"""The one working calendar every deadline uses.

Why a single module: a deadline computed one way on the registration form and another way in
the overdue report is worse than either rule. Precedence, highest first:

1. ``CalendarDay`` rows (administrator overrides, e.g. a year the library does not know yet);
2. the ``chinesecalendar`` library's official arrangement for the years it covers;
3. Monday–Friday.

Nothing here raises for years outside the library: callers use ``year_is_known`` /
``unknown_years`` to warn that a deadline is provisional.

Speed: registration computes several deadlines per case and must sustain ≥ 200 cases/s, so
each year's exceptions (library + overrides) are merged once into a dict and every lookup is a
single ``dict.get``. The library's own ``is_workday`` is not used per day because it rescans all
its keys to validate the year on every call.

Cache invalidation: saves and deletes of ``CalendarDay``/``CalendarYear`` clear the cache in
this process (immediately and again on commit, so a concurrent reader cannot re-cache
pre-commit data). Other processes (several web workers) pick changes up after
``CACHE_TTL_SECONDS``; bulk ``update()``/``bulk_create()`` bypass signals and also rely on it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

import chinese_calendar
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from xinfang.core.models import CalendarDay, CalendarYear

__all__ = [
    "CACHE_TTL_SECONDS",
    "LIBRARY_YEARS",
    "add_days",
    "clear_cache",
    "is_workday",
    "unknown_years",
    "workdays_between",
    "year_is_known",
]

CACHE_TTL_SECONDS = 60.0
_ONE_DAY = timedelta(days=1)


def _library_exceptions() -> dict[int, dict[date, bool]]:
    """Per year: the library's days that differ from Mon–Fri (holidays False, 调休 True)."""
    by_year: dict[int, dict[date, bool]] = {}
    for d in chinese_calendar.holidays:
        by_year.setdefault(d.year, {})[d] = False
    for d in chinese_calendar.workdays:
        by_year.setdefault(d.year, {})[d] = True
    return by_year


_LIBRARY = _library_exceptions()
LIBRARY_YEARS: range = range(min(_LIBRARY), max(_LIBRARY) + 1)


class _State:
    """One generation of cached data; replaced wholesale so readers never see a half-clear."""

    __slots__ = ("created", "known_years", "years")

    def __init__(self) -> None:
        self.created = time.monotonic()
        self.years: dict[int, dict[date, bool]] = {}
        self.known_years: frozenset[int] | None = None


_state = _State()


def clear_cache() -> None:
    """Forget all cached overrides (tests, and the signal receivers below)."""
    global _state
    _state = _State()


def _current() -> _State:
    global _state
    state = _state
    if time.monotonic() - state.created > CACHE_TTL_SECONDS:
        state = _state = _State()
    return state


def _year_map(year: int) -> dict[date, bool]:
    state = _current()
    mapping = state.years.get(year)
    if mapping is None:
        mapping = dict(_LIBRARY.get(year, {}))
        overrides = CalendarDay.objects.filter(
            date__gte=date(year, 1, 1), date__lte=date(year, 12, 31)
        ).values_list("date", "is_workday")
        mapping.update(overrides)
        state.years[year] = mapping
    return mapping


def is_workday(d: date) -> bool:
    """True if ``d`` is a working day (override → library → Monday–Friday)."""
    state = _state  # inlined fast path: cached and fresh → one dict lookup, no extra calls
    mapping = state.years.get(d.year)
    if mapping is None or time.monotonic() - state.created > CACHE_TTL_SECONDS:
        mapping = _year_map(d.year)
    return mapping.get(d, d.weekday() < 5)


def year_is_known(year: int) -> bool:
    """True if the year's official holiday arrangement is available (library or admin)."""
    if year in LIBRARY_YEARS:
        return True
    state = _current()
    known = state.known_years
    if known is None:
        known = frozenset(CalendarYear.objects.values_list("year", flat=True))
        state.known_years = known
    return year in known


def unknown_years(years: Iterable[int]) -> list[int]:
    """Sorted distinct years among ``years`` whose arrangement is not known."""
    return sorted({y for y in years if not year_is_known(y)})


def _roll(d: date) -> date:
    while not is_workday(d):
        d += _ONE_DAY
    return d


def add_days(start: date, days: int, *, working_days: bool, roll_to_workday: bool) -> date:
    """Deadline "N days from ``start``" (counting begins the day after ``start``).

    Calendar mode: ``start + days``, moved forward to the next workday if ``roll_to_workday``
    and it falls on a rest day (the usual rule when the last day of a period is a holiday).
    Working-days mode: the ``days``-th workday after ``start`` — always a workday.
    ``days == 0`` returns ``start`` (rolled if ``roll_to_workday``).
    """
    if days < 0:
        raise ValueError(f"期限天数不能为负数（当前为{days}）")
    if days == 0 or not working_days:
        end = start + timedelta(days=days)
        return _roll(end) if roll_to_workday else end
    d = start
    remaining = days
    while remaining:
        d += _ONE_DAY
        if is_workday(d):
            remaining -= 1
    return d


def workdays_between(a: date, b: date) -> int:
    """Number of workdays in the half-open interval (a, b]; 0 if ``b <= a``."""
    count = 0
    d = a + _ONE_DAY
    while d <= b:
        if is_workday(d):
            count += 1
        d += _ONE_DAY
    return count


def _invalidate(using: str | None) -> None:
    clear_cache()
    # Clear again after commit: another thread may have re-read the old rows meanwhile.
    transaction.on_commit(clear_cache, using=using)


@receiver(post_save, sender=CalendarDay, dispatch_uid="workcalendar_day_saved")
@receiver(post_delete, sender=CalendarDay, dispatch_uid="workcalendar_day_deleted")
@receiver(post_save, sender=CalendarYear, dispatch_uid="workcalendar_year_saved")
@receiver(post_delete, sender=CalendarYear, dispatch_uid="workcalendar_year_deleted")
def _calendar_changed(sender: type, **kwargs: Any) -> None:
    """Drop cached overrides whenever an administrator edits the calendar."""
    _invalidate(kwargs.get("using"))


def calendar_warning(today: date | None = None) -> str | None:
    """A Chinese warning when this year or next has no holiday data (deadlines then count
    weekends only), for the admin dashboard and the office work list; None when all is known."""
    from django.utils import timezone

    year = (today or timezone.localdate()).year
    missing = unknown_years([year, year + 1])
    if not missing:
        return None
    years = "、".join(f"{y}年" for y in missing)
    return (
        f"节假日日历缺少{years}的数据：这些年份的期限暂按双休日计算。"
        "请在“管理后台 › 工作日历”中录入国务院公布的放假安排，并标记该年份已录入。"
    )
