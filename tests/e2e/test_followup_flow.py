"""评价与听证 as staff see them: the desk pastes a 不满意 SMS reply and the office's task list
shows the review task; the office schedules a hearing, records the votes and the case page
shows the tally."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.conftest import reply_case
from tests.e2e.conftest import login
from xinfang.followup import hearings as H
from xinfang.followup.models import HearingMember, OfficeTask

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sms_unsatisfied_task_in_office_list(page, live_server, world, register, shot):
    case = reply_case(world, register())
    login(page, live_server, "rita")
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    page.click("#followup-sms summary")
    page.fill("#followup-sms textarea", "随便说说")
    page.click("#followup-sms button[type=submit]")
    page.wait_for_selector("#followup-panel >> text=无法识别短信中的评价")
    assert page.input_value("#followup-sms textarea") == "随便说说"  # kept
    page.fill("#followup-sms textarea", "3 物业费还是没有降下来")
    page.click("#followup-sms button[type=submit]")
    page.wait_for_selector("text=已记录短信评价")
    page.wait_for_selector("#followup-panel >> text=不满意复核")
    assert OfficeTask.objects.filter(case=case).count() == 1
    shot("01-case-after-sms")

    login(page, live_server, "alice")
    page.goto(f"{live_server.url}/followup/tasks/")
    page.wait_for_selector(f"#task-table >> text={case.number}")
    assert page.is_visible("#task-table >> text=物业费还是没有降下来")
    shot("02-office-task-list")


def test_hearing_votes_show_tally(page, live_server, world, register, shot):
    case = reply_case(world, register())
    members = [
        HearingMember.objects.create(name=n, affiliation=a, kind=k)
        for n, a, k in [
            ("王律师", "某律师事务所", "lawyer"),
            ("李代表", "区人大", "deputy"),
            ("赵委员", "区政协", "cppcc"),
            ("钱专家", "某大学", "expert"),
            ("孙大姐", "东湖社区", "public"),
        ]
    ]
    login(page, live_server, "alice")
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    page.click("#hearing-schedule summary")
    when = (timezone.localtime() + dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    page.fill("#hearing-schedule input[name=scheduled_at]", when)
    page.fill("#hearing-schedule input[name=place]", "区信访局三楼听证室")
    for m in members[:4]:  # an even panel is refused
        page.check(f"#hearing-schedule input[value='{m.pk}']")
    page.click("#hearing-schedule button[type=submit]")
    page.wait_for_selector("#hearing-section >> text=当前选择了4人")
    page.check(f"#hearing-schedule input[value='{members[4].pk}']")
    page.click("#hearing-schedule button[type=submit]")
    page.wait_for_selector("text=已安排听证")
    hearing = case.hearings.get()
    page.click(f"#hearing-{hearing.pk} summary")
    form = page.locator(f"#hearing-{hearing.pk} form")
    form.locator("textarea").first.fill("听证会依法举行，信访人陈述诉求，承办单位说明办理情况。")
    votes = ["agree", "agree", "disagree", "agree", "abstain"]
    for m, v in zip(hearing.members.order_by("kind", "name", "id"), votes, strict=True):
        form.locator(f"input[name='h{hearing.pk}-vote_{m.pk}'][value='{v}']").check()
    form.locator("button[type=submit]").click()
    page.wait_for_selector("text=已记录听证及表决")
    page.wait_for_selector("#hearing-section >> text=多数同意")
    t = H.tally(hearing)
    assert (t.agree, t.disagree, t.abstain) == (3, 1, 1)
    assert page.locator("#hearing-section meter").count() == 3
    page.locator("#hearing-section").scroll_into_view_if_needed()
    shot("01-hearing-tally")
