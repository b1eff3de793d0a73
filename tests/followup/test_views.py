"""Pages: the case-page panels, their posts, the task and 回访 lists — who may and who may not."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.conftest import World
from xinfang.cases import services as CS
from xinfang.followup import hearings as H
from xinfang.followup.models import FollowUp, Hearing, OfficeTask


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_action_form_has_channel(world: World, replied: Any) -> None:
    c = _client(world.rita)
    page = c.get(reverse("case_detail", args=[replied.pk])).content.decode()
    assert 'name="a_evaluate-channel"' in page and "电话回访" in page
    assert "记录短信回复" in page
    r = c.post(
        reverse("case_act", args=[replied.pk, "evaluate"]),
        {"a_evaluate-evaluation": "satisfied", "a_evaluate-channel": "phone"},
    )
    assert r.status_code == 200
    assert replied.events.get(kind="evaluate").data["channel"] == "phone"


def test_sms_invalid_keeps_input(world: World, replied: Any) -> None:
    c = _client(world.rita)
    url = reverse("followup_sms", args=[replied.pk])
    r = c.post(url, {"sms_text": "收到了谢谢"}, HTTP_HX_REQUEST="true")
    body = r.content.decode()
    assert r.status_code == 200 and "无法识别短信中的评价" in body
    assert "收到了谢谢" in body and 'id="followup-panel"' in body
    # without HTMX: the form page, input kept
    page = c.post(url, {"sms_text": "收到了谢谢"}).content.decode()
    assert "无法识别" in page and "收到了谢谢" in page
    replied.refresh_from_db()
    assert replied.status == "replied"


def test_sms_unsatisfied_task_in_office_list(world: World, replied: Any) -> None:
    c = _client(world.rita)
    r = c.post(
        reverse("followup_sms", args=[replied.pk]),
        {"sms_text": "3 还是没解决", "idempotency_key": "k" * 32},
        HTTP_HX_REQUEST="true",
    )
    assert r.status_code == 204 and r["HX-Refresh"] == "true"
    # the same form sent again (double click): no second evaluation, no second task
    again = c.post(
        reverse("followup_sms", args=[replied.pk]),
        {"sms_text": "3 还是没解决", "idempotency_key": "k" * 32},
        HTTP_HX_REQUEST="true",
    )
    assert again.status_code == 204
    assert OfficeTask.objects.count() == 1
    ev = replied.events.get(kind="evaluate")
    assert ev.data == {"evaluation": "unsatisfied", "channel": "sms"}
    listing = _client(world.alice).get(reverse("followup_tasks")).content.decode()
    assert replied.number in listing and "还是没解决" in listing
    # bob (another street) sees no such task; the district leader does
    assert replied.number not in _client(world.bob).get(reverse("followup_tasks")).content.decode()
    assert replied.number in _client(world.leo).get(reverse("followup_tasks")).content.decode()


def test_task_list_filters_and_pages(world: World, register: Any) -> None:
    from tests.conftest import reply_case

    for i in range(3):
        case = reply_case(world, register(summary=f"反映问题第{i}件"))
        CS.case_evaluate(case=case, by=world.rita, evaluation="unsatisfied")
    t = OfficeTask.objects.first()
    assert t is not None
    from xinfang.followup.services import office_task_close

    office_task_close(task=t, by=world.alice, outcome="已复核，维持答复")
    c = _client(world.alice)
    assert c.get(reverse("followup_tasks")).content.decode().count("不满意复核</td>") == 2
    done = c.get(reverse("followup_tasks"), {"state": "done"}).content.decode()
    assert "已复核，维持答复" in done
    one = c.get(reverse("followup_tasks"), {"state": "all", "q": t.case.number}).content.decode()
    assert one.count("不满意复核</td>") == 1


def test_task_close_scoping(world: World, replied: Any) -> None:
    CS.case_evaluate(case=replied, by=world.rita, evaluation="unsatisfied")
    task = OfficeTask.objects.get()
    url = reverse("followup_task_close", args=[task.pk])
    data = {f"t{task.pk}-outcome": "已约谈信访人并解释"}
    assert _client(world.bob).post(url, data).status_code == 404
    refused = _client(world.hank).post(url, data, HTTP_HX_REQUEST="true").content.decode()
    assert "只有登记单位的办案员" in refused
    r = _client(world.alice).post(url, data)
    assert r.status_code == 302
    task.refresh_from_db()
    assert task.state == "done"


def test_anonymous_redirected(world: World, replied: Any) -> None:
    for url in (reverse("followup_tasks"), reverse("followup_list")):
        assert Client().get(url).status_code == 302


def test_followup_list_and_record(world: World, replied: Any) -> None:
    CS.case_close(case=replied, by=world.alice)
    fu = FollowUp.objects.get()
    FollowUp.objects.filter(pk=fu.pk).update(due_on=timezone.localdate() - dt.timedelta(days=1))
    c = _client(world.rita)
    listing = c.get(reverse("followup_list"), {"state": "overdue"}).content.decode()
    assert replied.number in listing and "已超期" in listing
    assert replied.number not in _client(world.bob).get(reverse("followup_list")).content.decode()
    url = reverse("followup_record", args=[fu.pk])
    data = {f"f{fu.pk}-method": "phone", f"f{fu.pk}-result": "basically", f"f{fu.pk}-outcome": "x"}
    bad = c.post(url, data, HTTP_HX_REQUEST="true").content.decode()
    assert "请填写回访情况" in bad
    assert _client(world.bob).post(url, data).status_code == 404
    data[f"f{fu.pk}-outcome"] = "电话回访，信访人表示基本满意"
    assert c.post(url, data, HTTP_HX_REQUEST="true").status_code == 204
    fu.refresh_from_db()
    assert fu.result == "basically"
    page = c.get(reverse("case_detail", args=[replied.pk])).content.decode()
    assert "电话回访，信访人表示基本满意" in page


@pytest.mark.parametrize("who", ["alice", "leo"])
def test_hearing_section_on_case_page(
    world: World, replied: Any, pool: list[Any], who: str
) -> None:
    hearing = H.hearing_schedule(
        case=replied,
        by=world.alice,
        scheduled_at=timezone.now() + dt.timedelta(days=2),
        place="区信访局听证室",
        member_ids=[m.pk for m in pool[:3]],
    )
    H.hearing_record(
        hearing=hearing,
        by=world.alice,
        record="听证会依法举行，各方陈述意见。",
        votes=[
            H.VoteInput(m.pk, v)
            for m, v in zip(pool[:3], ["agree", "agree", "disagree"], strict=True)
        ],
    )
    page = _client(getattr(world, who)).get(reverse("case_detail", args=[replied.pk])).content
    text = page.decode()
    assert "多数同意" in text and "<meter" in text and "听证员1" in text


def test_hearing_views(world: World, replied: Any, pool: list[Any]) -> None:
    c = _client(world.alice)
    url = reverse("followup_hearing_new", args=[replied.pk])
    when = (timezone.localtime() + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    data = {"scheduled_at": when, "place": "听证室", "members": [m.pk for m in pool[:4]]}
    bad = c.post(url, data, HTTP_HX_REQUEST="true").content.decode()
    assert "单数" in bad and "听证室" in bad and 'id="hearing-section"' in bad
    assert _client(world.bob).post(url, data).status_code == 404
    assert "只有登记单位的办案员" in _client(world.rita).post(url, data).content.decode()
    data["members"] = [m.pk for m in pool[:3]]
    assert c.post(url, data, HTTP_HX_REQUEST="true").status_code == 204
    hearing = Hearing.objects.get()
    rec = reverse("followup_hearing_record", args=[hearing.pk])
    votes = {f"h{hearing.pk}-vote_{m.pk}": "agree" for m in pool[:3]}
    votes[f"h{hearing.pk}-record"] = "听证会依法举行，各方陈述意见。"
    assert _client(world.bob).post(rec, votes).status_code == 404
    assert c.post(rec, votes, HTTP_HX_REQUEST="true").status_code == 204
    assert H.tally(hearing).agree == 3


def test_home_tiles(world: World, replied: Any) -> None:
    CS.case_evaluate(case=replied, by=world.rita, evaluation="unsatisfied")
    page = _client(world.alice).get(reverse("home")).content.decode()
    assert "不满意复核任务" in page and "待回访" in page
    assert "不满意复核任务" not in _client(world.hank).get(reverse("home")).content.decode()
