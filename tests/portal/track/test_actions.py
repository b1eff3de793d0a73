"""评价 and 复查/复核 requests on the portal: the window, the same services as the staff side,
the 不满意 task, repeated submits, errors in Chinese with what was typed kept."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tests.conftest import World, reply_case
from tests.portal.track.conftest import opened
from xinfang.cases.models import Case, Deadline, Status
from xinfang.core.errors import DomainError
from xinfang.followup.models import OfficeTask
from xinfang.portal import tracking


def _replied(world: World, register: Any) -> Case:
    return Case.objects.get(pk=reply_case(world, register()).pk)


def test_evaluate_in_window_records_the_portal_evaluation(world: World, register: Any) -> None:
    case = _replied(world, register)
    client = opened(Client(), case)
    page = client.get(f"/portal/cases/{case.pk}/").content.decode()
    until = timezone.localdate() + dt.timedelta(days=30)
    assert f"可在 {until.year}年{until.month}月{until.day}日 前评价" in page
    response = client.post(
        f"/portal/cases/{case.pk}/evaluate/",
        {"evaluation": "basically", "comment": "处理及时😀，但𠀀还需跟进"},
    )
    assert response.status_code == 303
    case.refresh_from_db()
    assert case.status == Status.EVALUATED and case.evaluation == "basically"
    ev = case.events.get(kind="evaluate")
    assert ev.actor is None and ev.data["by_petitioner"] == "portal"
    assert ev.data["channel"] == "portal" and ev.text == "处理及时😀，但𠀀还需跟进"
    html = client.get(response["Location"]).content.decode()
    assert "感谢您的评价" in html
    assert "您的评价：基本满意（网上评价）" in html and "处理及时😀，但𠀀还需跟进" in html
    assert 'id="h-evaluate"' not in html  # no longer offered
    assert not OfficeTask.objects.filter(case=case).exists()


def test_second_submit_gets_already_evaluated(world: World, register: Any) -> None:
    case = _replied(world, register)
    client = opened(Client(), case)
    url = f"/portal/cases/{case.pk}/evaluate/"
    assert client.post(url, {"evaluation": "satisfied"}).status_code == 303
    again = client.post(url, {"evaluation": "unsatisfied", "comment": "再评一次"})
    assert again.status_code == 200
    assert "已评价" in again.content.decode()
    assert Case.objects.get(pk=case.pk).evaluation == "satisfied"
    # a stale copy of the case (two tabs): the service's conflict becomes the same message
    stale = Case.objects.get(pk=case.pk)
    stale.status, stale.evaluation = Status.REPLIED, ""
    with pytest.raises(DomainError, match="已评价"):
        tracking.portal_evaluate(stale, "satisfied", "")


def test_unsatisfied_opens_the_office_review_task(world: World, register: Any) -> None:
    case = _replied(world, register)
    client = opened(Client(), case)
    client.post(
        f"/portal/cases/{case.pk}/evaluate/",
        {"evaluation": "unsatisfied", "comment": "物业费还是没有降"},
    )
    task = OfficeTask.objects.get(case=case)
    assert task.office_unit == world.office and "网上评价" in task.summary
    assert "物业费还是没有降" in task.summary


def test_evaluate_out_of_window_names_the_date(world: World, register: Any) -> None:
    case = _replied(world, register)
    served = timezone.localdate() - dt.timedelta(days=31)
    Case.objects.filter(pk=case.pk).update(served_at=served)
    client = opened(Client(), case)
    page = client.get(f"/portal/cases/{case.pk}/").content.decode()
    assert 'id="h-evaluate"' not in page
    response = client.post(
        f"/portal/cases/{case.pk}/evaluate/", {"evaluation": "satisfied", "comment": "好"}
    )
    assert response.status_code == 200
    last = served + dt.timedelta(days=30)
    assert (
        f"网上评价期限已于{last.year}年{last.month}月{last.day}日届满" in response.content.decode()
    )
    assert Case.objects.get(pk=case.pk).status == Status.REPLIED


def test_evaluation_window_falls_back_to_the_reply_date(world: World, register: Any) -> None:
    case = _replied(world, register)
    Case.objects.filter(pk=case.pk).update(served_at=None)
    case.refresh_from_db()
    assert tracking.evaluation_until(case) == timezone.localdate() + dt.timedelta(days=30)
    late = timezone.localdate() + dt.timedelta(days=31)
    with pytest.raises(DomainError, match="届满"):
        tracking.portal_evaluate(case, "satisfied", "", on=late)


def test_evaluate_errors_keep_what_was_typed(world: World, register: Any) -> None:
    case = _replied(world, register)
    client = opened(Client(), case)
    url = f"/portal/cases/{case.pk}/evaluate/"
    long = "长" * 501
    response = client.post(url, {"evaluation": "satisfied", "comment": long})
    html = response.content.decode()
    assert "评价意见不能超过500字（现有501字）" in html and long in html
    assert 'aria-invalid="true"' in html and 'aria-describedby="comment-hint eval-error"' in html
    assert 'value="satisfied" required checked' in html
    missing = client.post(url, {"comment": "没选"}).content.decode()
    assert "请选择评价结果" in missing and "没选" in missing
    assert Case.objects.get(pk=case.pk).status == Status.REPLIED


def test_not_replied_yet_cannot_be_evaluated(world: World, register: Any) -> None:
    case = register()
    client = opened(Client(), case)
    response = client.post(f"/portal/cases/{case.pk}/evaluate/", {"evaluation": "satisfied"})
    assert response.status_code == 200 and "答复送达后才能评价" in response.content.decode()


def test_actions_need_access(world: World, register: Any) -> None:
    case = _replied(world, register)
    anon = Client()
    assert (
        anon.post(f"/portal/cases/{case.pk}/evaluate/", {"evaluation": "satisfied"}).status_code
        == 404
    )
    assert (
        anon.post(
            f"/portal/cases/{case.pk}/review/", {"kind": "review", "reason": "不服答复意见"}
        ).status_code
        == 404
    )
    assert Case.objects.get(pk=case.pk).status == Status.REPLIED


def test_request_review_in_window(world: World, register: Any) -> None:
    case = _replied(world, register)
    client = opened(Client(), case)
    page = client.get(f"/portal/cases/{case.pk}/").content.decode()
    due = Deadline.objects.get(case=case, kind="review_request").due_on
    assert f"{due.year}年{due.month}月{due.day}日" in page and "请求复查" in page
    response = client.post(
        f"/portal/cases/{case.pk}/review/", {"kind": "review", "reason": "答复没有解决实际问题"}
    )
    assert response.status_code == 303
    case.refresh_from_db()
    assert case.status == Status.REVIEW_REQUESTED
    ev = case.events.get(kind="request_review")
    assert ev.actor is None and ev.data["by_petitioner"] == "portal"
    assert ev.text == "答复没有解决实际问题"
    assert case.deadlines.filter(kind="review_decide", met_at__isnull=True).exists()
    html = client.get(response["Location"]).content.decode()
    assert "已收到您的复查请求" in html and 'id="h-review"' not in html
    again = client.post(
        f"/portal/cases/{case.pk}/review/", {"kind": "review", "reason": "再次提交同样的请求"}
    )
    assert again.status_code == 200 and "不必重复提交" in again.content.decode()


def test_request_review_window_closed(world: World, register: Any) -> None:
    case = _replied(world, register)
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    Deadline.objects.filter(case=case, kind="review_request").update(due_on=yesterday)
    client = opened(Client(), case)
    assert 'id="h-review"' not in client.get(f"/portal/cases/{case.pk}/").content.decode()
    response = client.post(
        f"/portal/cases/{case.pk}/review/", {"kind": "review", "reason": "我不服这个答复"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert f"复查申请期限已于{yesterday:%Y年%m月%d日}届满" in html
    assert Case.objects.get(pk=case.pk).status == Status.REPLIED


def test_request_review_reason_errors(world: World, register: Any) -> None:
    case = _replied(world, register)
    client = opened(Client(), case)
    url = f"/portal/cases/{case.pk}/review/"
    short = client.post(url, {"kind": "review", "reason": "不服"}).content.decode()
    assert "至少4个字" in short and ">不服</textarea>" in short
    assert 'aria-describedby="reason-hint review-error" aria-invalid="true"' in short
    bad_kind = client.post(url, {"kind": "appeal", "reason": "不服答复意见"}).content.decode()
    assert "请选择请求复查或复核" in bad_kind
    rereview = client.post(url, {"kind": "rereview", "reason": "不服答复意见"}).content.decode()
    assert "当前状态为「已答复」，不能执行「复核申请」" in rereview


def test_rereview_after_the_review_opinion(world: World, register: Any) -> None:
    from xinfang.cases import services as S
    from xinfang.portal.services import principal

    case = _replied(world, register)
    S.case_request_review(case=case, by=principal(case), reason="答复没有解决问题")
    S.case_decide_review(case=case, by=world.alice, text="经复查，原答复意见事实清楚，予以维持。")
    client = opened(Client(), case)
    response = client.post(
        f"/portal/cases/{case.pk}/review/", {"kind": "rereview", "reason": "复查意见仍未解决"}
    )
    assert response.status_code == 303
    assert Case.objects.get(pk=case.pk).status == Status.REREVIEW_REQUESTED


def test_act_rate_limit_per_address(world: World, register: Any, settings: Any) -> None:
    settings.XINFANG_RATES = dict(settings.XINFANG_RATES) | {"portal_act_ip": "1/1h"}
    case = _replied(world, register)
    client = opened(Client(), case)
    url = f"/portal/cases/{case.pk}/review/"
    assert client.post(url, {"kind": "review", "reason": "不服"}).status_code == 200
    blocked = client.post(url, {"kind": "review", "reason": "不服答复意见"})
    assert blocked.status_code == 429 and int(blocked["Retry-After"]) > 0
    assert "操作过于频繁" in blocked.content.decode()
    assert Case.objects.get(pk=case.pk).status == Status.REPLIED
