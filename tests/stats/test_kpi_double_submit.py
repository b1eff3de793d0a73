"""一票否决: a double submit of the form (double click, retry after a timeout) records one flag
(the form carries an idempotency key)."""

from __future__ import annotations

from typing import Any

from django.test import Client

from xinfang.stats.models import VetoFlag


def test_double_submit_records_one_flag(world: Any) -> None:
    c = Client()
    c.force_login(world.leo)
    page = c.get("/stats/kpi/vetoes/").content.decode()
    data = {
        "v-unit": str(world.street.pk),
        "v-code": "mass_incident",
        "v-period_start": "2026-01-01",
        "v-period_end": "2026-12-31",
        "v-reason": "发生因信访问题引发的重大群体性事件，经区委认定",
    }
    import re

    m = re.search(r'name="idempotency_key" value="([^"]+)"', page)
    if m:
        data["idempotency_key"] = m.group(1)
    c.post("/stats/kpi/vetoes/", data)
    c.post("/stats/kpi/vetoes/", data)
    assert VetoFlag.objects.count() == 1
