"""The main flow as a person does it: register a visit → route → the unit signs in, accepts and
replies → evaluation → closed; and the bad inputs a clerk will type."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import login
from tests.e2e.test_replies_flow import draft_approve_check_serve
from xinfang.cases.models import Case, CaseEvent, Status

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _fill_visit(page: Any, id_number: str) -> None:
    page.select_option("#id_channel", "visit")
    page.select_option("#id_purpose", "appeal")
    page.fill("#id_p-0-name", "赵建国")
    page.fill("#id_p-0-id_number", id_number)
    page.fill("#id_p-0-phone", "13912345678")
    page.fill("#id_p-0-address", "东湖街道幸福里3号楼")
    page.fill("#id_summary", "反映幸福里小区物业擅自上调物业费")
    page.fill("#id_content", "物业公司未经业主大会表决将物业费由每平方米1.2元上调至2元。")


def _act(page: Any, code: str, fill: dict[str, str] | None = None) -> None:
    page.click(f"#action-{code} > summary")
    for selector, value in (fill or {}).items():
        if selector.startswith("select:"):
            page.select_option(selector[7:], label=value)
        elif selector.startswith("check:"):
            page.check(selector[6:])
        else:
            page.fill(selector, value)
    page.click(f"#action-{code} button[type=submit]")


def test_visit_to_closed(page, live_server, world, shot):
    login(page, live_server, "rita")
    page.goto(f"{live_server.url}/cases/new/")
    _fill_visit(page, "110105194912310021")  # wrong check digit
    page.click("#register-submit")
    page.wait_for_selector("text=第18位校验码应为X")
    assert page.input_value("#id_summary") == "反映幸福里小区物业擅自上调物业费"
    assert page.input_value("#id_p-0-phone") == "13912345678"
    shot("01-bad-id")
    page.fill("#id_p-0-id_number", "11010519491231002X")
    page.click("#register-submit")
    page.wait_for_selector("text=已登记：")
    shot("02-registered")
    case = Case.objects.get()
    assert case.status == Status.REGISTERED

    login(page, live_server, "alice")
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    _act(page, "assign", {"select:#id_a_assign-unit": "东湖街道", "#id_a_assign-note": "请核查"})
    page.wait_for_selector("text=已交办")
    shot("03-assigned")

    login(page, live_server, "hank")
    page.goto(f"{live_server.url}/")
    page.click("text=待签收（交办）")
    page.click(f"text={case.number}")
    _act(page, "sign_in")
    page.wait_for_selector(".status-signed")
    _act(page, "accept", {"#id_a_accept-notice_text": "您反映的问题属于本单位职责范围，决定受理。"})
    page.wait_for_selector(".status-accepted")
    # 答复意见书: hank drafts, uma approves, alice checks, hank serves (test_replies_flow).
    draft_approve_check_serve(page, live_server, case)
    shot("04-replied")

    login(page, live_server, "rita")
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    _act(page, "evaluate", {"check:#id_a_evaluate-evaluation_0": ""})
    page.wait_for_selector(".status-evaluated")
    login(page, live_server, "alice")
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    _act(page, "close")
    page.wait_for_selector(".status-closed")
    shot("05-closed")
    case.refresh_from_db()
    assert case.status == Status.CLOSED
    kinds = list(CaseEvent.objects.filter(case=case).values_list("kind", flat=True))
    assert [k for k in kinds if not k.startswith("reply_")] == [
        "register", "assign", "sign_in", "accept", "reply", "evaluate", "close",
        "followup_plan",  # 回访 planned with the closing (xinfang.followup)
    ]  # fmt: skip


def test_bad_inputs_keep_what_was_typed(page, live_server, world, shot):
    login(page, live_server, "rita")
    page.goto(f"{live_server.url}/cases/new/")
    _fill_visit(page, "11010519990231002X")  # 31 Feb
    page.fill("#id_received_at", "2099-01-01T09:00")
    page.click("#register-submit")
    page.wait_for_selector(".error")
    shot("01-errors")
    text = page.inner_text("main")
    assert "晚于当前时间" in text or "出生日期" in text
    assert page.input_value("#id_p-0-name") == "赵建国"
    page.fill("#id_received_at", "2026-01-05T09:00")
    page.click("#register-submit")
    page.wait_for_selector("text=出生日期19990231不存在")
    # six representatives
    page.fill("#id_p-0-id_number", "11010519491231002X")
    page.fill("#id_headcount", "40")
    for i in range(6):
        page.click("text=＋ 增加代表")
        page.fill(f"#id_r-{i}-name", f"代表{i + 1}")
    page.click("#register-submit")
    page.wait_for_selector("text=最多登记5名代表")
    assert page.input_value("#id_r-5-name") == "代表6"
    shot("02-six-representatives")
    assert Case.objects.count() == 0
