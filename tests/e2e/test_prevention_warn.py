"""预警 as people use it: the leader opens the alert list, acknowledges a spike alert, closes it
with an outcome; the weekly 预测预报 renders (screenshots) and prints on A4."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import login
from tests.prevention._warn_util import TZ
from xinfang.prevention.alerts import alert_raise
from xinfang.prevention.models import Alert

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_leader_acknowledges_and_closes_a_spike_alert_and_reads_the_forecast(
    page: Any, live_server: Any, world: Any, shot: Any
) -> None:
    from tests.prevention.test_warn_rules import AS_OF, _only, _weekly_baseline_then
    from xinfang.prevention.warning import warning_sweep

    _only("spike_place")
    _weekly_baseline_then(world, 9)
    warning_sweep(AS_OF)
    spike = Alert.objects.get(rule="spike_place")
    alert_raise(
        rule="informant_urgent",
        severity="red",
        unit=world.community,
        title="进京/赴省上访苗头：东湖社区 拆迁户拟赴京",
        dedupe_key="e2e-red",
        at=dt.datetime(2026, 6, 12, 9, tzinfo=TZ),
    )

    login(page, live_server, "leo")
    page.goto(f"{live_server.url}/prevention/alerts/")
    rows = page.locator(".warn-alerts tbody tr")
    assert "拆迁户拟赴京" in rows.nth(0).inner_text()  # open red first
    shot("01-list")
    page.select_option("select[name=severity]", "yellow")
    expect(rows).to_have_count(1)  # the HTMX swap (no string eval: the CSP forbids it)
    assert "东湖街道近7天信访量异常增长" in rows.nth(0).inner_text()

    page.click("text=东湖街道近7天信访量异常增长")
    page.wait_for_selector("text=预警依据")
    assert "您可查看的 9 件" in page.inner_text("main")
    page.click("button:has-text('确认预警')")
    page.wait_for_selector("text=已确认预警")
    page.click("button:has-text('办结预警')")  # no outcome: the message, nothing lost
    page.wait_for_selector("text=请填写处置结果")
    page.fill("#id_outcome", "街道已逐户走访，系同一小区物业问题集中反映，已约谈物业公司。")
    page.click("button:has-text('办结预警')")
    page.wait_for_selector("text=预警已办结")
    shot("02-closed")
    spike.refresh_from_db()
    assert spike.state == "closed"

    # the sweep ran "today"; date its alert back into the week summarised
    Alert.objects.filter(pk=spike.pk).update(raised_at=dt.datetime(2026, 6, 14, 7, tzinfo=TZ))
    page.goto(f"{live_server.url}/prevention/forecast/?week=2026-W24")
    page.wait_for_selector(".warn-narrative")
    narrative = page.inner_text(".warn-narrative")
    assert narrative.startswith("示范区6月8日至6月14日：本周共发出预警2条，其中红色1条、黄色1条")
    shot("03-forecast")
    page.emulate_media(media="print")
    assert not page.is_visible("nav.prevention-nav")
    shot("04-forecast-print")
    pdf = page.pdf(format="A4")
    assert pdf[:4] == b"%PDF"
