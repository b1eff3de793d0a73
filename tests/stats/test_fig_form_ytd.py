"""信访情况统计表: 1月至本期累计 of a mid-month period is compared with the same dates a year
earlier (it was compared with last year's whole month)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.stats.factory import at, bulk_cases
from xinfang.stats import forms, policy
from xinfang.stats.table_views import Scope, national_table


def test_ytd_same_last_year_of_mid_month_period(world: Any) -> None:
    bulk_cases(
        world,
        [
            (1, {"received_at": at("2026-03-10")}),
            (1, {"received_at": at("2025-03-10")}),
            (3, {"received_at": at("2025-03-25")}),  # after 15 March: outside 去年同期累计
        ],
    )
    p = forms.parse({"start": "2026-03-01", "end": "2026-03-15"}, today=dt.date(2026, 3, 16))
    t = national_table(p, Scope(world.district, policy.subtree_ids(world.district)))
    assert t.ytd == type(t.ytd)(dt.date(2026, 1, 1), dt.date(2026, 3, 15), t.ytd.kind)
    total = next(r for r in t.rows if r.label == "合计")
    # 本期 1, 去年同期 1 (10 March), 累计 1, 去年同期累计 must be 1 (1 Jan – 15 Mar 2025)
    assert [c.value for c in total.cells[::2]] == [1, 1, 1, 1], t.ytd_last_year
