"""接待台 and 领导接待日 as the clerks and the leader see them: two walk-ins take tickets, one is
called and finished (counts and the average wait on the board); a reception day is planned, a
person booked, signed in, linked to their case, and the leader's record reaches the timeline."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from tests.conftest import VALID_ID
from tests.e2e.conftest import login
from xinfang.cases.models import CaseEvent
from xinfang.reception.models import DeskVisit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_desk_queue(page: Any, live_server: Any, world: Any, shot: Any) -> None:
    login(page, live_server, "rita")
    page.click("nav >> text=接待台")
    page.wait_for_selector("#checkin-form")
    for name in ("王五", "赵六"):
        page.fill("#id_visitor_name", name)
        page.click("#checkin-form button[type=submit]")
        page.wait_for_selector(f"#desk-board >> text={name}")
    assert "等候中（2）" in page.inner_text("#desk-board")
    # the first arrived ten minutes ago: the average wait is then about ten minutes
    first = DeskVisit.objects.get(visitor_name="王五")
    DeskVisit.objects.filter(pk=first.pk).update(
        arrived_at=timezone.now() - dt.timedelta(minutes=10)
    )
    page.reload()
    shot("01-two-waiting")
    page.click(f"#visit-{first.pk} button:has-text('叫号接待')")
    page.wait_for_url(f"**/reception/visits/{first.pk}/")
    assert "登记新事项" in page.inner_text("main")
    shot("02-visit")
    page.select_option("#id_outcome", "answered")
    page.fill("#id_note", "当场解释政策")
    page.click("#finish-form button[type=submit]")
    page.wait_for_selector("#desk-stats")
    stats = page.inner_text("#desk-stats")
    assert "已完成 1" in stats and "等候 1" in stats
    assert page.inner_text("#avg-wait").startswith("10")
    assert "当场答复" in page.inner_text("#col-done + ol")
    shot("03-one-done")


def test_leader_day_record(
    page: Any, live_server: Any, world: Any, register: Any, shot: Any
) -> None:
    case = register()
    login(page, live_server, "rita")
    page.click("nav >> text=领导接待日")
    page.click("text=安排接待日")
    page.select_option("#id_leader", str(world.leo.pk))
    page.fill("#id_date", (timezone.localdate() + dt.timedelta(days=1)).isoformat())
    page.fill("#id_start_time", "09:00")
    page.fill("#id_end_time", "11:30")
    page.fill("#id_place", "区信访局一楼接待室")
    page.fill("#id_topics", "物业管理")
    page.fill("#id_capacity", "5")
    page.click("#day-form button[type=submit]")
    page.wait_for_selector("#booking-form")
    page.fill("#id_name", "张三")
    page.fill("#id_id_number", VALID_ID)
    page.fill("#id_topic", "物业费上涨")
    page.click("#booking-form button[type=submit]")
    page.wait_for_selector("#bookings >> text=物业费上涨")
    assert VALID_ID not in page.inner_text("main")
    page.click("#bookings button:has-text('签到')")
    page.wait_for_selector("#bookings >> text=已签到")
    page.fill("#bookings input[name=case_number]", case.number)
    page.click("#bookings button:has-text('关联事项')")
    page.wait_for_selector(f"#bookings >> text={case.number}")
    shot("01-day-queue")

    login(page, live_server, "leo")
    page.goto(live_server.url + "/")
    assert "近期领导接待日" in page.inner_text("main")
    page.click("#home-days a")
    page.click("#bookings a:has-text('记录领导接待')")
    page.fill("#id_record", "请东湖街道十个工作日内核实并答复信访人。")
    page.fill("#id_attendees", "区信访局 艾丽")
    page.click("#record-form button[type=submit]")
    page.wait_for_selector("#record-print")
    assert "请东湖街道十个工作日内核实" in page.inner_text("#record-print")
    shot("02-record-print")
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    assert "领导接待" in page.inner_text("main")
    assert "请东湖街道十个工作日内核实" in page.inner_text("main")
    shot("03-case-timeline")
    assert CaseEvent.objects.filter(case=case, kind="leader_reception").count() == 1
