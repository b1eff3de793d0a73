"""进展告知 from the case page, and the unread badge in the top bar: the office assigns a case,
the unit's handler sees the badge, sends a progress notice, and the inbox lists the message."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import login
from xinfang.cases.models import CaseEvent
from xinfang.cases.services import case_assign
from xinfang.notify.models import Notification, OutboundMessage

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_progress_notice_and_badge(page, live_server, world, register, shot):
    case = register()
    case_assign(case=case, by=world.alice, unit=world.street)  # → assignment notifications
    assert Notification.objects.filter(recipient=world.hank, kind="assignment").exists()

    login(page, live_server, "hank")
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    badge = page.locator("#notify-badge")
    badge.wait_for()
    assert badge.inner_text() == "1"
    page.click("#progress-notice summary")
    page.select_option("#id_pn-opening", "investigating")
    page.fill("#id_pn-text", "预计本月底前书面答复。")
    page.select_option("#id_pn-channel", "sms")
    shot("01-form")
    page.click("#notify-progress button[type=submit]")
    page.wait_for_selector("text=已发送进展告知")
    page.wait_for_selector(".timeline >> text=进展告知")
    ev = CaseEvent.objects.get(case=case, kind="progress_notice")
    assert ev.data["channel"] == "sms"
    msg = OutboundMessage.objects.get(event=ev)
    assert msg.status == "sent"  # the database backend, after the commit
    assert page.is_visible("#notify-progress >> text=已发送")
    shot("02-sent")

    page.click("a.notify-link")
    page.wait_for_selector(f"text=新交办事项：{case.number}")
    shot("03-inbox")
    page.click("#inbox button:has-text('全部标为已读')")
    page.wait_for_selector("text=没有未读消息")
    page.locator("#notify-badge").wait_for(state="detached")
    assert Notification.objects.get(recipient=world.hank).read_at is not None
