"""Page time of the dashboard on ~5,000 bulk cases (a measurement, printed; no wall-time
assertion). Run: DASH_PERF=1 pytest tests/stats/test_dash_perf.py -s"""

from __future__ import annotations

import os
import statistics
import time
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.conftest import World
from tests.stats.factory import at, bulk_cases
from xinfang.cases.models import Category

pytestmark = pytest.mark.skipif(not os.environ.get("DASH_PERF"), reason="measurement: DASH_PERF=1")


def test_dashboard_time_on_5000_cases(client: Client, world: World) -> None:
    cats = list(Category.objects.filter(level=2).values_list("pk", flat=True)[:60])
    places = ("110105001", "110105002", "110105", "")
    channels = ("visit", "letter", "phone", "online", "email", "from_above")
    specs: list[tuple[int, dict[str, Any]]] = []
    for i in range(1000):
        month = 1 + i % 11
        specs.append(
            (
                5,
                {
                    "received_at": at(f"2026-{month:02d}-{1 + i % 28:02d}"),
                    "category_id": cats[i % len(cats)],
                    "place_code": places[i % 4],
                    "channel": channels[i % 6],
                    "headcount": 1 + (i % 7),
                    "is_repeat": i % 5 == 0,
                    "is_skip_level": i % 9 == 0,
                },
            )
        )
    t0 = time.perf_counter()
    bulk_cases(world, specs)
    load = time.perf_counter() - t0
    client.force_login(world.leo)
    url = reverse("stats_dashboard")
    params = {"start": "2026-10-01", "end": "2026-10-31"}
    times = []
    for _ in range(6):
        with CaptureQueriesContext(connection) as ctx:
            t = time.perf_counter()
            assert client.get(url, params).status_code == 200
            times.append(time.perf_counter() - t)
    import datetime as dt

    from xinfang.stats import dashboard as D
    from xinfang.stats.periods import Period

    builds = []
    for _ in range(5):
        t = time.perf_counter()
        D.build(world.leo, world.district, Period.month(2026, 10), dt.date(2026, 11, 27))
        builds.append(time.perf_counter() - t)
    vendor = connection.vendor
    if os.environ.get("DASH_PERF") == "2":
        slow = sorted(ctx.captured_queries, key=lambda q: -float(q["time"]))[:8]
        for q in slow:
            print(q["time"], q["sql"][:300])
    print(
        f"\n[{vendor}] 5000 cases (load+rollup {load:.1f}s): first {times[0] * 1000:.0f} ms "
        f"(charts drawn), warm median {statistics.median(times[1:]) * 1000:.0f} ms, "
        f"max {max(times[1:]) * 1000:.0f} ms, {len(ctx.captured_queries)} queries; "
        f"data only (dashboard.build) median {statistics.median(builds) * 1000:.0f} ms"
    )
