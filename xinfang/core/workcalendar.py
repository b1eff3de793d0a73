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

from collections.abc import Iterable
from datetime import date, timedelta

import chinese_calendar

from xinfang.core.models import CalendarDay, CalendarYear
from xinfang.core.refcache import ReferenceCache

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
    """One generation of cached overrides (see ``xinfang.core.refcache``)."""

    __slots__ = ("known_years", "years")

    def __init__(self) -> None:
        self.years: dict[int, dict[date, bool]] = {}
        self.known_years: frozenset[int] | None = None


_cache: ReferenceCache[_State] = ReferenceCache(
    _State, name="workcalendar", watch=[CalendarDay, CalendarYear], ttl=CACHE_TTL_SECONDS
)


def clear_cache() -> None:
    """Forget all cached overrides (tests; edits through the ORM clear it themselves)."""
    _cache.clear()


def _current() -> _State:
    return _cache.get()


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
    mapping = _cache.get().years.get(d.year)
    if mapping is None:
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
