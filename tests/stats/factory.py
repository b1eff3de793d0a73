"""Fast fixtures for statistics tests: cases written directly (bulk), rollups rebuilt.

Use ``bulk_cases`` for exact-number fixtures of intake figures (hundreds of cases in one
statement); flows that need events go through the services (``tests.conftest`` helpers)."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from django.utils import timezone

from xinfang.cases.models import Case, Status

_seq = itertools.count(1)


def at(day: str, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour)))


def bulk_cases(
    world: Any, specs: list[tuple[int, dict[str, Any]]], *, rebuild: bool = True
) -> list[Case]:
    """``specs``: (how many, field overrides). Defaults: a 来访 of one person received on
    2026-03-02 at the district office, registered by rita, status 已登记."""
    rows = []
    for count, fields in specs:
        for _ in range(count):
            n = next(_seq)
            values: dict[str, Any] = {
                "number": f"T{n:08d}",
                "query_code": f"Q{n:08d}",
                "channel": "visit",
                "purpose": "appeal",
                "summary": "统计测试",
                "received_at": at("2026-03-02"),
                "registered_at": at("2026-03-02"),
                "headcount": 1,
                "status": Status.REGISTERED,
                "office_unit": world.office,
                "registered_by": world.rita,
            }
            values.update(fields)
            if "received_at" in fields and "registered_at" not in fields:
                values["registered_at"] = fields["received_at"]
            rows.append(Case(**values))
    created = Case.objects.bulk_create(rows)
    if rebuild:
        from xinfang.stats import rollup

        rollup.rebuild()
    return created
