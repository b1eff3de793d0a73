"""答复意见书 in the browser: the handler drafts (a missing part keeps what was typed), the unit
head approves, the petition office checks, the unit serves — the case is 已答复."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import login
from xinfang.cases import services as S
from xinfang.cases.models import CaseEvent, Status

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FACTS = "经调查核实，幸福里小区物业公司未经业主大会表决将物业费由每平方米1.2元上调至2元。"
BASIS = "《物业管理条例》第十一条：业主大会决定物业服务收费标准等事项。"
DECISION = "已责令物业公司恢复原收费标准，多收费用于30日内退还业主。"


def panel_step(page: Any, button: str) -> None:
    page.click(f"#reply-panel button:has-text('{button}')")


def draft_approve_check_serve(page: Any, live_server: Any, case: Any, shot: Any = None) -> None:
    """The four people's steps on the case page (used by the main flow too)."""
    url = f"{live_server.url}/cases/{case.pk}/"
    login(page, live_server, "hank")
    page.goto(url)
    page.fill("#reply-panel #id_facts", FACTS)
    page.fill("#reply-panel #id_basis", BASIS)
    page.fill("#reply-panel #id_decision", "太短")
    panel_step(page, "保存")
    page.wait_for_selector("text=答复意见书缺少「处理意见」")
    assert page.input_value("#reply-panel #id_facts") == FACTS  # what was typed stays
    if shot:
        shot("01-missing-part")
    page.fill("#reply-panel #id_decision", DECISION)
    panel_step(page, "保存")
    page.wait_for_selector("#reply-panel .status-reply-draft")
    panel_step(page, "提交审批")
    page.wait_for_selector("#reply-panel .status-reply-submitted")

    login(page, live_server, "uma")
    page.goto(url)
    panel_step(page, "审批同意")
    page.wait_for_selector("#reply-panel .status-reply-approved")

    login(page, live_server, "alice")
    page.goto(url)
    panel_step(page, "审核通过")
    page.wait_for_selector("#reply-panel .status-reply-checked")
    if shot:
        shot("02-checked")

    login(page, live_server, "hank")
    page.goto(url)
    panel_step(page, "答复并送达")
    page.wait_for_selector(".status-replied")


def test_draft_approve_check_serve(page, live_server, world, register, shot):
    case = register()
    S.case_assign(case=case, by=world.alice, unit=world.street)
    S.case_sign_in(case=case, by=world.hank)
    S.case_accept(case=case, by=world.hank, notice_text="经审查，决定受理。")
    draft_approve_check_serve(page, live_server, case, shot)
    page.wait_for_selector("#reply-panel .status-reply-served")
    text = page.inner_text("#reply-panel")
    assert "乌玛" in text and "艾丽" in text  # who approved, who checked
    shot("03-served")
    case.refresh_from_db()
    assert case.status == Status.REPLIED
    reply = CaseEvent.objects.get(case=case, kind="reply")
    assert reply.data["doc"]["review_organ"] == "示范区人民政府"
    assert DECISION in reply.text
