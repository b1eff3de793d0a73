"""考核排名 as a leader uses it: the ranking for September, a weight changed on the scheme page,
the ranking changes; a 一票否决 recorded puts a street last (screenshots)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import login
from tests.stats.test_kpi_util import build
from xinfang.stats import kpi

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _ranked(page: Any) -> list[str]:
    rows = page.locator(".kpi-table tbody tr.kpi-child")
    return [rows.nth(i).locator("th").inner_text().split()[0] for i in range(rows.count())]


def test_leader_changes_a_weight_and_the_ranking_follows(
    page: Any, live_server: Any, world: Any, shot: Any
) -> None:
    build(world)
    login(page, live_server, "leo")
    page.goto(f"{live_server.url}/stats/kpi/?start=2026-09-01&end=2026-09-30")
    page.wait_for_selector(".kpi-table")
    assert _ranked(page) == ["西山街道", "东湖街道", "区信访局"]
    assert "77.5" in page.inner_text(".kpi-table")
    assert page.locator(".kpi-chart img").count() == 1
    shot("01-ranking")

    page.click("text=考核方案")
    page.wait_for_selector("form.kpi-scheme-form")
    for k in kpi.KPIS:
        page.fill(f"#id_{k.code}", "0")
    page.click("button:has-text('保存考核方案')")  # all zero: the message, input kept
    page.wait_for_selector("text=权重之和须大于0")
    assert page.input_value("#id_participation") == "0"
    shot("01b-scheme-error")
    page.fill("#id_participation", "100")
    page.click("button:has-text('保存考核方案')")
    page.wait_for_selector("text=考核方案已保存")
    page.goto(f"{live_server.url}/stats/kpi/?start=2026-09-01&end=2026-09-30")
    assert _ranked(page) == ["东湖街道", "西山街道", "区信访局"]
    shot("02-reweighted")

    page.goto(f"{live_server.url}/stats/kpi/vetoes/")
    page.select_option("#id_v-unit", label="东湖街道")
    page.select_option("#id_v-code", "abnormal_visit")
    page.fill("#id_v-period_start", "2026-09-01")
    page.fill("#id_v-period_end", "2026-09-30")
    page.fill("#id_v-reason", "9月15日发生赴省集体访一批12人，经核实属实。")
    page.click("button:has-text('记录')")
    page.wait_for_selector("text=已记录一票否决")
    shot("03-vetoes")
    page.goto(f"{live_server.url}/stats/kpi/?start=2026-09-01&end=2026-09-30")
    assert _ranked(page)[-1] == "东湖街道"
    assert page.locator(".badge-veto").count() == 1
    shot("04-vetoed")
