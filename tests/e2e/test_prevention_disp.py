"""矛盾纠纷台账 as people do it: 东湖街道 registers an item, logs a visit, uploads the
mediation agreement and asks for 销号; the district office (the level above) strikes it off;
the item stays in the register as 已销号 with its history."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import login
from xinfang.prevention.models import Dispute, DisputeState

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_register_contact_evidence_strike(
    page: Any, live_server: Any, world: Any, shot: Any, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    login(page, live_server, "hank")
    page.goto(f"{live_server.url}/prevention/disputes/new/")
    page.fill("#id_title", "幸福里小区物业费纠纷")
    page.select_option("#id_source", "screening")
    page.fill("#id_description", "物业公司上调物业费，部分业主拒缴，双方多次发生争执。")
    page.fill("#id_parties", "业主代表 王某 138****1234\n幸福物业公司")
    page.fill("#id_headcount", "8")
    page.select_option("#id_place_unit", str(world.community.pk))
    page.select_option("#id_risk_level", "low")
    page.select_option("#id_unit", str(world.street.pk))
    page.wait_for_selector("text=按评定标准建议：中风险")  # the live suggestion (8 people)
    shot("01-new")
    page.click("#dispute-form button[type=submit]")
    # Below the rubric without a reason: refused, input kept.
    page.wait_for_selector("text=选择更低等级须说明理由")
    assert page.input_value("#id_title") == "幸福里小区物业费纠纷"
    page.select_option("#id_risk_level", "medium")
    page.click("#dispute-form button[type=submit]")
    page.wait_for_selector("text=已登记台账事项")
    d = Dispute.objects.get()

    page.click("#contact-new > summary")
    page.select_option("#id_method", "visit")
    page.fill("#id_person", "王某")
    page.fill("#id_note", "上门走访业主代表，说明物业费调整程序，情绪平稳。")
    page.click("#contact-form button[type=submit]")
    page.wait_for_selector("text=已记录联系情况")

    # 报请销号 without a file: refused with the evidence message, text kept.
    page.fill("#id_resolution", "经街道调解，物业公司同意暂缓上调，业主补缴欠费。")
    page.fill("#id_evidence", "调解协议一份，双方签字；回访业主三户，均表示满意。")
    page.click("#strike-form button[type=submit]")
    page.wait_for_selector("text=申请销号须提交化解佐证")
    assert "回访业主三户" in page.input_value("#id_evidence")

    page.set_input_files(
        "#file-form input[type=file]",
        files=[
            {
                "name": "调解协议.txt",
                "mimeType": "text/plain",
                "buffer": "调解协议：物业公司暂缓上调物业费，业主补缴欠费。".encode(),
            }
        ],
    )
    page.click("#file-form button[type=submit]")
    page.wait_for_selector("text=已上传1个材料")
    page.fill("#id_resolution", "经街道调解，物业公司同意暂缓上调，业主补缴欠费。")
    page.fill("#id_evidence", "调解协议一份，双方签字；回访业主三户，均表示满意。")
    page.click("#strike-form button[type=submit]")
    page.wait_for_selector("text=已报请销号，等待上一级单位审核")
    shot("02-requested")
    d.refresh_from_db()
    assert d.state == DisputeState.PENDING

    login(page, live_server, "alice")
    page.goto(f"{live_server.url}/prevention/disputes/{d.pk}/")
    page.fill("#id_note", "材料齐全，回访满意，同意销号。")
    page.click("#decide-form button[value=approve]")
    page.wait_for_selector("text=已销号：区信访局")
    timeline = page.inner_text("#timeline")
    assert "审核通过，已销号" in timeline and "报请销号" in timeline and "上门走访" in timeline
    shot("03-struck")
    d.refresh_from_db()
    assert d.state == DisputeState.STRUCK and d.struck_by == world.alice

    page.goto(f"{live_server.url}/prevention/disputes/?state=struck")
    page.wait_for_selector(f"text={d.number}")
    assert "已销号 1" in page.inner_text(".disp-counts")
    shot("04-list")
