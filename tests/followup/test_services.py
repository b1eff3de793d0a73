"""Evaluation channels, SMS parsing, the 不满意 review task, 回访 scheduling and recording."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from tests.conftest import World
from xinfang.cases import services as CS
from xinfang.cases.models import CaseEvent, Status
from xinfang.core import workcalendar
from xinfang.core.errors import (
    ConcurrentChange,
    DomainError,
    PermissionDenied,
    TransitionNotAllowed,
)
from xinfang.followup import services as S
from xinfang.followup.models import FollowUp, OfficeTask
from xinfang.notify.models import Notification


def test_channel_default_in_person(world: World, replied: Any) -> None:
    ev = CS.case_evaluate(case=replied, by=world.rita, evaluation="satisfied")
    assert ev.data == {"evaluation": "satisfied", "channel": "in_person"}


def test_channel_recorded(world: World, replied: Any) -> None:
    ev = CS.case_evaluate(case=replied, by=world.rita, evaluation="basically", channel="phone")
    assert ev.data["channel"] == "phone"


def test_channel_unknown_refused(world: World, replied: Any) -> None:
    with pytest.raises(DomainError) as exc:
        CS.case_evaluate(case=replied, by=world.rita, evaluation="satisfied", channel="fax")
    assert exc.value.field == "channel"
    assert not replied.events.filter(kind="evaluate").exists()


@pytest.mark.parametrize(
    "text,value,comment",
    [
        ("1", "satisfied", ""),
        ("2 还行吧", "basically", "还行吧"),
        ("３，问题没有解决", "unsatisfied", "问题没有解决"),
        ("满意，谢谢", "satisfied", "谢谢"),
        ("基本满意", "basically", ""),
        ("不满意：物业费还是没降", "unsatisfied", "物业费还是没降"),
        ("【回复】1", "satisfied", ""),
        ("我对处理结果不满意", "unsatisfied", "我对处理结果不满意"),
    ],
)
def test_sms_parse_valid(text: str, value: str, comment: str) -> None:
    assert S.parse_sms_reply(text) == (value, comment)


@pytest.mark.parametrize("text", ["", "   ", "4", "13812345678", "好的收到", "不太满意", "12"])
def test_sms_parse_invalid(text: str) -> None:
    with pytest.raises(DomainError) as exc:
        S.parse_sms_reply(text)
    assert exc.value.field == "sms_text"
    assert exc.value.message.startswith("请粘贴") or "无法识别" in exc.value.message


def test_evaluate_by_sms_records_channel_sms(world: World, replied: Any) -> None:
    ev = S.evaluate_by_sms(case=replied, by=world.rita, sms_text="2 基本解决了")
    assert ev.data == {"evaluation": "basically", "channel": "sms"}
    assert "2 基本解决了" in ev.text
    replied.refresh_from_db()
    assert replied.status == Status.EVALUATED and replied.evaluation == "basically"


def test_unsatisfied_creates_exactly_one_task(world: World, replied: Any) -> None:
    ev = S.evaluate_by_sms(case=replied, by=world.rita, sms_text="3 没解决")
    task = OfficeTask.objects.get(case=replied)
    assert task.state == "open" and task.source_event == ev
    assert task.office_unit == world.office and "短信回复" in task.summary
    marker = replied.events.get(kind="dissatisfied_task")
    assert marker.data["task_id"] == task.pk
    # the office's 办案员 (alice), not the desk clerk who recorded it
    notes = Notification.objects.filter(kind="dissatisfied_task")
    assert [n.recipient_id for n in notes] == [world.alice.pk]
    # A second submission: the case is already evaluated; no second task.
    with pytest.raises(TransitionNotAllowed):
        CS.case_evaluate(case=replied, by=world.rita, evaluation="unsatisfied")
    # Replaying the receiver for the same event is idempotent too.
    assert S.office_task_open(case=replied, source=ev, by=world.rita, summary="x") == task
    assert OfficeTask.objects.filter(case=replied).count() == 1
    assert replied.events.filter(kind="dissatisfied_task").count() == 1
    assert Notification.objects.filter(kind="dissatisfied_task").count() == 1


def test_satisfied_creates_no_task(world: World, replied: Any) -> None:
    CS.case_evaluate(case=replied, by=world.rita, evaluation="satisfied")
    assert not OfficeTask.objects.exists()


def test_task_close_records_outcome(world: World, replied: Any) -> None:
    CS.case_evaluate(case=replied, by=world.rita, evaluation="unsatisfied", comment="没解决")
    task = OfficeTask.objects.get()
    with pytest.raises(PermissionDenied):
        S.office_task_close(task=task, by=world.rita, outcome="已电话解释清楚")
    with pytest.raises(DomainError) as exc:
        S.office_task_close(task=task, by=world.alice, outcome="好")
    assert exc.value.field == "outcome"
    ev = S.office_task_close(task=task, by=world.alice, outcome="已约谈信访人，解释政策")
    task.refresh_from_db()
    assert task.state == "done" and task.done_by == world.alice
    assert ev.kind == "office_task_done" and ev.data == {"task_id": task.pk}
    with pytest.raises(ConcurrentChange):
        S.office_task_close(task=task, by=world.alice, outcome="再次办结一次")


def _close(world: World, case: Any, at: dt.datetime | None = None) -> CaseEvent:
    return CS.case_close(case=case, by=world.alice, note="已答复", at=at)


def test_followup_planned_on_close_once(world: World, replied: Any, settings: Any) -> None:
    settings.FOLLOWUP_AFTER_CLOSE_WORKDAYS = 10
    at = timezone.now()
    close = _close(world, replied, at)
    fu = FollowUp.objects.get(case=replied)
    start = timezone.localtime(at).date()
    assert fu.close_event == close
    assert fu.due_on == workcalendar.add_days(start, 10, working_days=True, roll_to_workday=True)
    assert fu.unit == world.office
    plan = replied.events.get(kind="followup_plan")
    assert plan.data["followup_id"] == fu.pk
    # the receiver run again for the same closing does nothing
    assert S.followup_plan(case=replied, close_event=close) == fu
    assert FollowUp.objects.count() == 1
    assert replied.events.filter(kind="followup_plan").count() == 1


def test_followup_days_setting(world: World, replied: Any, settings: Any) -> None:
    settings.FOLLOWUP_AFTER_CLOSE_WORKDAYS = 3
    close = _close(world, replied)
    start = timezone.localtime(close.at).date()
    expected = workcalendar.add_days(start, 3, working_days=True, roll_to_workday=True)
    assert FollowUp.objects.get().due_on == expected


def test_failed_close_plans_nothing(world: World, register: Any) -> None:
    case = register()
    with pytest.raises(TransitionNotAllowed):
        _close(world, case)
    assert not FollowUp.objects.exists()


def test_record_followup(world: World, replied: Any) -> None:
    _close(world, replied)
    fu = FollowUp.objects.get()
    with pytest.raises(PermissionDenied):
        S.followup_record(followup=fu, by=world.hank, result="satisfied", outcome="电话回访满意")
    with pytest.raises(DomainError) as exc:
        S.followup_record(followup=fu, by=world.rita, result="great", outcome="电话回访满意")
    assert exc.value.field == "result"
    ev = S.followup_record(
        followup=fu, by=world.rita, result="satisfied", outcome="电话回访，信访人表示满意"
    )
    fu.refresh_from_db()
    assert fu.result == "satisfied" and fu.done_by == world.rita and fu.done_at is not None
    assert ev.kind == "followup_done"
    assert ev.data["followup_id"] == fu.pk and ev.data["outcome"] == "satisfied"
    assert ev.data["method"] == "phone"
    with pytest.raises(ConcurrentChange):
        S.followup_record(followup=fu, by=world.rita, result="satisfied", outcome="再记录一次")


def test_unsatisfied_followup_opens_task(world: World, replied: Any) -> None:
    _close(world, replied)
    fu = FollowUp.objects.get()
    ev = S.followup_record(
        followup=fu, by=world.alice, result="unsatisfied", outcome="回访时仍不满意", method="visit"
    )
    task = OfficeTask.objects.get()
    assert task.source_event == ev and "回访不满意" in task.summary
