"""The 一票否决 list shows the linked case's number (HTML, and ``case_id`` in the API) only to
readers who may see the case — not to the flagged unit's readers when it is a 检举控告件."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.test import Client

from tests.stats.factory import at, bulk_cases
from xinfang.cases.policy import cases_visible_to
from xinfang.stats import kpi


def test_veto_list_hides_a_case_number_the_reader_may_not_see(world: Any) -> None:
    (case,) = bulk_cases(
        world,
        [
            (
                1,
                {
                    "purpose": "accusation",
                    "received_at": at("2026-03-02"),
                    "number": "XF-SECRET-1",
                },
            )
        ],
    )
    assert cases_visible_to(world.leo).filter(pk=case.pk).exists()
    assert not cases_visible_to(world.uma).filter(pk=case.pk).exists()
    kpi.veto_add(
        scheme=kpi.ensure_default_scheme(),
        by=world.leo,
        unit=world.street,
        code="concealment",
        start=dt.date(2026, 1, 1),
        end=dt.date(2026, 12, 31),
        reason="瞒报重大信访信息，经核查属实，依规一票否决",
        case=case,
    )
    c = Client()
    c.force_login(world.uma)  # 单位负责人 of 东湖街道: a statistics reader of the street
    page = c.get("/stats/kpi/vetoes/").content.decode()
    api = c.get("/api/stats/kpi/vetoes").json()
    assert "XF-SECRET-1" not in page
    assert all(v["case_id"] is None for v in api)
