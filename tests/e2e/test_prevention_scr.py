"""排查轮次 as people do it: 东湖社区's handler reports one new dispute and one change; a second
submit from a stale tab is refused naming who and when; 东湖街道 sees the aggregate."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from tests.e2e.conftest import login
from tests.prevention._scr_util import add_community, cora, open_dispute
from xinfang.prevention import screening as S
from xinfang.prevention.models import Dispute, ScreeningReport

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_community_reports_street_sees_aggregate(
    page: Any, live_server: Any, world: Any, shot: Any
) -> None:
    add_community(world, "东湖二社区", "dan")
    rnd = next(r for r in S.open_rounds(timezone.localdate()) if r.rule.cadence == "weekly")
    d = open_dispute(world, cora())

    login(page, live_server, "cora")
    page.goto(f"{live_server.url}/prevention/rounds/mine/")
    page.click("text=填报")
    page.wait_for_selector("text=本期无新情况")
    stale = page.context.new_page()
    stale.goto(page.url)

    page.click("#scr-add-row")  # JS adds a row in place
    page.wait_for_selector("#n-1-title")
    page.fill("#n-0-title", "幸福里小区停车位收费纠纷")
    page.fill("#n-0-parties", "业主代表李四\n幸福里物业公司")
    page.fill("#n-0-headcount", "12")
    page.select_option("#n-0-risk_level", "medium")
    page.fill("#n-0-description", "物业拟对地面停车位收费，12户业主反对，已在业主群聚集讨论。")
    page.fill(f"#change-{d.pk}", "已组织双方调解一次，约定下周再谈。")
    shot("01-form")
    page.click("text=报送排查报告")
    page.wait_for_selector("text=排查报告已报送")
    shot("02-submitted")
    rep = ScreeningReport.objects.get(round=rnd, unit=world.community)
    assert (rep.state, rep.new_count, rep.changed_count) == ("submitted", 1, 1)
    assert Dispute.objects.filter(round_report=rep).count() == 1

    stale.check("#nothing_new")
    stale.click("text=报送排查报告")
    stale.wait_for_selector("#scr-error")
    assert "本单位本轮排查已由柯拉于" in stale.inner_text("#scr-error")
    assert "不能重复报送" in stale.inner_text("#scr-error")
    stale.close()

    login(page, live_server, "uma")
    page.goto(f"{live_server.url}/prevention/rounds/{rnd.pk}/")
    page.wait_for_selector("text=东湖街道")
    body = page.inner_text("main") if page.query_selector("main") else page.inner_text("body")
    assert "应报 2，已报 1" in body and "新发现 1" in body and "东湖二社区" in body
    shot("03-street-aggregate")
