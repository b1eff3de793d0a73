"""Periods (统计期) and the periods they are compared with (同比, 环比).

A period is a closed range of local dates. 同比 is the same dates one year earlier (29 February
maps to 28 February; a range ending on 28 Feb of a leap year's following year stays 28 Feb). 环比
is the period of the same kind just before: the previous week, month, quarter or year; for a
year-to-date period (1月至N月) it is the previous N months ending where this one starts — rarely
quoted, so bulletins use 同比 for year-to-date figures, 环比 for weeks and months.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass


def _minus_year(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def month_end(day: dt.date) -> dt.date:
    """The last day of ``day``'s month."""
    return _month_end(day.year, day.month)


def _add_months(year: int, month: int, n: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + n
    return index // 12, index % 12 + 1


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date  # inclusive
    kind: str = "custom"  # week | month | quarter | year | ytd | custom

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("统计期的结束日期不能早于开始日期")

    # --- constructors ---------------------------------------------------------------------

    @classmethod
    def week_of(cls, day: dt.date) -> Period:
        start = day - dt.timedelta(days=day.weekday())
        return cls(start, start + dt.timedelta(days=6), "week")

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        return cls(dt.date(year, month, 1), _month_end(year, month), "month")

    @classmethod
    def quarter(cls, year: int, q: int) -> Period:
        first = 3 * (q - 1) + 1
        return cls(dt.date(year, first, 1), _month_end(year, first + 2), "quarter")

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(dt.date(year, 1, 1), dt.date(year, 12, 31), "year")

    @classmethod
    def ytd(cls, year: int, through_month: int) -> Period:
        """1月至N月 (year to the end of month N)."""
        return cls(dt.date(year, 1, 1), _month_end(year, through_month), "ytd")

    @classmethod
    def parse(cls, start: str, end: str) -> Period:
        """From form input; a Chinese ``ValueError`` on bad dates."""
        try:
            a = dt.date.fromisoformat(start)
            b = dt.date.fromisoformat(end)
        except ValueError as exc:
            raise ValueError("请输入有效日期，格式如 2026-01-31") from exc
        return cls(a, b, _guess_kind(a, b))

    # --- comparisons ------------------------------------------------------------------------

    def same_last_year(self) -> Period:
        start = _minus_year(self.start)
        if self.end == _month_end(self.end.year, self.end.month):
            # a period ending with its month ends with the month a year earlier (29 Feb ↔ 28 Feb)
            end = _month_end(self.end.year - 1, self.end.month)
        else:  # a month or year to date (1 Jan – 15 Mar): the same dates
            end = _minus_year(self.end)
        return Period(start, end, self.kind)

    def previous(self) -> Period:
        if self.kind == "week":
            return Period(
                self.start - dt.timedelta(days=7), self.start - dt.timedelta(days=1), "week"
            )
        if self.kind == "month":
            y, m = _add_months(self.start.year, self.start.month, -1)
            return Period.month(y, m)
        if self.kind == "quarter":
            y, m = _add_months(self.start.year, self.start.month, -3)
            return Period(dt.date(y, m, 1), _month_end(*_add_months(y, m, 2)), "quarter")
        if self.kind == "year":
            return Period.year(self.start.year - 1)
        if self.kind == "ytd":
            n = self.end.month
            y, m = _add_months(self.start.year, self.start.month, -n)
            return Period(dt.date(y, m, 1), self.start - dt.timedelta(days=1), "custom")
        length = (self.end - self.start).days + 1
        return Period(
            self.start - dt.timedelta(days=length), self.start - dt.timedelta(days=1), "custom"
        )

    # --- words ------------------------------------------------------------------------------

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def label(self, today: dt.date | None = None) -> str:
        """As a bulletin writes it: 今年1至10月份, 2025年10月份, 第47周（11月16日至22日）…"""
        this_year = (today or dt.date.today()).year
        year = "今年" if self.start.year == this_year else f"{self.start.year}年"
        if self.kind == "ytd":
            if self.end.month == 1:
                return f"{year}1月份"
            return f"{year}1至{self.end.month}月份"
        if self.kind == "month":
            return f"{year}{self.start.month}月份"
        if self.kind == "quarter":
            return f"{year}第{(self.start.month - 1) // 3 + 1}季度"
        if self.kind == "year":
            return f"{self.start.year}年"
        return self.range_label()

    def range_label(self) -> str:
        a, b = self.start, self.end
        if a.year != b.year:
            return f"{a.year}年{a.month}月{a.day}日至{b.year}年{b.month}月{b.day}日"
        if a.month != b.month:
            return f"{a.year}年{a.month}月{a.day}日至{b.month}月{b.day}日"
        if a == b:
            return f"{a.year}年{a.month}月{a.day}日"
        return f"{a.year}年{a.month}月{a.day}日至{b.day}日"

    def months(self) -> list[tuple[int, int]]:
        out = []
        y, m = self.start.year, self.start.month
        while (y, m) <= (self.end.year, self.end.month):
            out.append((y, m))
            y, m = _add_months(y, m, 1)
        return out


def _guess_kind(a: dt.date, b: dt.date) -> str:
    if a.day == 1 and b == _month_end(b.year, b.month):
        if a.year == b.year and a.month == b.month:
            return "month"
        if a.year == b.year and a.month == 1 and b.month == 12:
            return "year"
        if a.year == b.year and a.month == 1:
            return "ytd"
        if a.year == b.year and a.month % 3 == 1 and b.month == a.month + 2:
            return "quarter"
    if a.weekday() == 0 and (b - a).days == 6:
        return "week"
    return "custom"


def split_months(period: Period) -> tuple[list[dt.date], list[tuple[dt.date, dt.date]]]:
    """The whole months inside ``period`` (their first days) and the day ranges left over at
    either end — what the month and day rollups are summed over."""
    whole: list[dt.date] = []
    ranges: list[tuple[dt.date, dt.date]] = []
    for y, m in period.months():
        first, last = dt.date(y, m, 1), _month_end(y, m)
        lo, hi = max(first, period.start), min(last, period.end)
        if lo == first and hi == last:
            whole.append(first)
        else:
            ranges.append((lo, hi))
    return whole, ranges
