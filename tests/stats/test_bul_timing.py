"""通报 generation time over ~2,000 cases (printed, not asserted: benchmarks are tables, not
wall-time assertions). Run with ``-s`` to see the figures."""

from __future__ import annotations

import random
import time
from typing import Any

from xinfang.cases.models import Category
from xinfang.stats.bulletins import build_figures, issue_bulletin
from xinfang.stats.periods import Period

from .factory import at, bulk_cases


def test_generation_time_over_2000_cases(world: Any) -> None:
    rng = random.Random(8)
    cats = list(Category.objects.filter(level=2).values_list("pk", flat=True)[:60])
    specs: list[tuple[int, dict[str, Any]]] = []
    for _ in range(2000):
        month = rng.choice(["2025-03", "2026-02", "2026-03", "2026-03"])
        specs.append(
            (
                1,
                {
                    "received_at": at(f"{month}-{rng.randint(1, 28):02d}", rng.randint(0, 23)),
                    "channel": rng.choice(["visit", "letter", "phone", "online", "email"]),
                    "headcount": rng.choice([1, 1, 1, 2, 3, 6]),
                    "category_id": rng.choice(cats),
                    "place_code": rng.choice(["110105001", "110105002", ""]),
                },
            )
        )
    bulk_cases(world, specs)
    t0 = time.monotonic()
    figures = build_figures("monthly", world.district, Period.month(2026, 3))
    t1 = time.monotonic()
    b = issue_bulletin("monthly", world.district, Period.month(2026, 3))
    print(
        f"\nbulletin over {sum(1 for _ in specs)} cases: figures {t1 - t0:.2f}s, "
        f"issue (figures + PDF + DOCX + XLSX) {b.seconds:.2f}s; "
        f"March: {figures['totals']['batches']} 批次"
    )
    assert b.state == "ready" and b.seconds is not None
    assert figures["totals"]["batches"] == b.figures["totals"]["batches"] > 0
