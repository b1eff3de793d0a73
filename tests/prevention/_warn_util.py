"""Helpers of the 预警 tests (helper E): cases in bulk at chosen times and places."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from django.utils import timezone

from xinfang.cases.models import Case, Status

_seq = itertools.count(1)
TZ = dt.timezone(dt.timedelta(hours=8))


def noon(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12, 0), TZ)


def bulk_cases(world: Any, days: list[dt.date], **fields: Any) -> list[Case]:
    """One case per entry of ``days`` (at noon, Beijing), registered by rita at 区信访局;
    ``fields`` (place_code, category, group, status, closed_at …) on all of them."""
    rows = []
    for day in days:
        n = next(_seq)
        at = noon(day)
        values: dict[str, Any] = {
            "number": f"XF-TEST-W-{n:07d}",
            "query_code": f"W{n:09d}",
            "channel": "visit",
            "purpose": "appeal",
            "summary": f"测试事项{n}",
            "received_at": at,
            "registered_at": at,
            "office_unit": world.office,
            "registered_by": world.rita,
            "status": Status.REGISTERED,
        }
        values.update(fields)
        rows.append(Case(**values))
    return Case.objects.bulk_create(rows)


def spread(start: dt.date, days: int, per_day: float) -> list[dt.date]:
    """``per_day`` cases a day (fractions: every k-th day) over ``days`` days from ``start``."""
    out: list[dt.date] = []
    if per_day >= 1:
        for i in range(days):
            out += [start + dt.timedelta(days=i)] * int(per_day)
    else:
        step = round(1 / per_day)
        out = [start + dt.timedelta(days=i) for i in range(0, days, step)]
    return out


def today() -> dt.date:
    return timezone.localtime().date()
