"""领导批示 as people do it: the leader instructs on the case page, 东湖街道 reports back, the
leader's workbench shows the state; then the leader accepts the report."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from tests.e2e.conftest import login
from xinfang.cases import services as CS
from xinfang.instructions.models import Instruction
from xinfang.instructions.models import InstructionState as St

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_leader_instructs_unit_reports_home_shows_state(
    page: Any, live_server: Any, world: Any, register: Any, shot: Any
) -> None:
    case = register(summary="反映幸福里小区物业擅自上调物业费")
    CS.case_assign(case=case, by=world.alice, unit=world.street)
    due = timezone.localdate() + dt.timedelta(days=7)

    login(page, live_server, "leo")
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    page.click("#instruction-new > summary")
    page.fill("#id_ins-text", "请")  # too short: the form keeps what was typed
    page.fill("#id_ins-due_on", due.isoformat())
    page.click("#instruction-new button[type=submit]")
    page.wait_for_selector("text=请填写批示内容（至少 2 个字）")
    assert page.input_value("#id_ins-due_on") == due.isoformat()
    page.fill("#id_ins-text", "请东湖街道三日内约谈物业公司，核实收费依据，结果报我。")
    page.click("#instruction-new button[type=submit]")
    page.wait_for_selector("text=已批示，并已通知落实单位")
    shot("01-instructed")
    ins = Instruction.objects.get()
    assert ins.target_unit == world.street and ins.due_on == due

    login(page, live_server, "hank")
    page.goto(f"{live_server.url}/")
    page.wait_for_selector("text=待落实的领导批示")
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    page.click(f"#instruction-report-{ins.pk} > summary")
    page.fill(f"#id_r{ins.pk}-text", "已约谈物业公司，涨价决定暂停执行，待业主大会表决。")
    page.click(f"#instruction-report-{ins.pk} button[type=submit]")
    page.wait_for_selector("text=已报告批示落实情况")
    shot("02-reported")

    login(page, live_server, "leo")
    page.goto(f"{live_server.url}/")
    page.wait_for_selector("#home-instructions-h")
    row = page.locator(".home-instructions tbody tr").first
    assert "已报告" in row.inner_text() and case.number in row.inner_text()
    shot("03-leader-home")

    page.goto(f"{live_server.url}/cases/{case.pk}/")
    page.click(f"#instruction-close-{ins.pk} > summary")
    page.fill(f"#id_c{ins.pk}-note", "同意，继续跟进。")
    page.click(f"#instruction-close-{ins.pk} button[value=close]")
    page.wait_for_selector("text=已办结该批示")
    ins.refresh_from_db()
    assert ins.state == St.CLOSED
    page.goto(f"{live_server.url}/instructions/")
    page.wait_for_selector("text=共 1 件")
    shot("04-list")
