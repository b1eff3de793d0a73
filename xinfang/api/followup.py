"""Evaluation by SMS, the office's review tasks, 回访 and 听证 (``xinfang.followup``).

Same services as the case page; tasks, 回访 and hearings exist for a user only through a case
they may see (``cases_visible_to``), otherwise 404.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.responses import Status as WithStatus

from xinfang.api import access
from xinfang.api import serialize as out
from xinfang.api.auth import current_user
from xinfang.api.errors import READ_ERRORS, WRITE_ERRORS, NotFound
from xinfang.api.schemas import DbId
from xinfang.cases.confidential import PLACEHOLDER
from xinfang.followup import hearings as H
from xinfang.followup import selectors
from xinfang.followup import services as S
from xinfang.followup.models import (
    FollowUp,
    FollowUpMethod,
    FollowUpResult,
    Hearing,
    HearingMember,
    OfficeTask,
    Vote,
)

router = Router(tags=["评价回访与听证"])


class SmsIn(Schema):
    text: str = Field(
        max_length=1000, description="信访人回复的短信原文：1/2/3 或 满意/基本满意/不满意 开头"
    )


class EventOut(Schema):
    event: dict[str, Any]


class TaskOut(Schema):
    id: int
    case_id: int
    case_number: str
    kind: str
    state: str
    summary: str
    outcome: str
    created_at: dt.datetime
    done_at: dt.datetime | None


class TaskCloseIn(Schema):
    outcome: str = Field(max_length=4000, description="处理结果")


class FollowUpOut(Schema):
    id: int
    case_id: int
    case_number: str
    due_on: dt.date
    method: str
    unit: str
    result: str
    outcome: str
    done_at: dt.datetime | None


class FollowUpIn(Schema):
    result: FollowUpResult = Field(description="satisfied/basically/unsatisfied/unreached")
    method: FollowUpMethod = FollowUpMethod.PHONE
    outcome: str = Field(max_length=4000, description="回访情况")


class MemberOut(Schema):
    id: int
    name: str
    affiliation: str
    kind: str


class HearingIn(Schema):
    scheduled_at: dt.datetime
    place: str = Field(max_length=200)
    member_ids: list[DbId] = Field(description="听证员 ID，3–9 人且为单数")
    parties: str = Field("", max_length=4000)


class VoteIn(Schema):
    member_id: DbId
    vote: Vote
    opinion: str = Field("", max_length=1000)


class HearingRecordIn(Schema):
    record: str = Field(max_length=20000)
    votes: list[VoteIn]


class TallyOut(Schema):
    agree: int
    disagree: int
    abstain: int
    panel: int
    result: str = Field(description="agree=多数同意；disagree=多数不同意；none=未形成多数意见")
    result_label: str


class HearingOut(Schema):
    id: int
    case_id: int
    scheduled_at: dt.datetime
    place: str
    state: str
    members: list[MemberOut]
    record: str
    tally: TallyOut


def _task(t: OfficeTask) -> dict[str, Any]:
    return {
        "id": t.pk,
        "case_id": t.case_id,
        "case_number": t.case.number,
        "kind": t.kind,
        "state": t.state,
        # 检举控告件: the petitioner's words may repeat the accusation (lists mask, rule 3)
        "summary": PLACEHOLDER if t.case.is_confidential else t.summary,
        "outcome": t.outcome,
        "created_at": t.created_at,
        "done_at": t.done_at,
    }


def _followup(f: FollowUp) -> dict[str, Any]:
    return {
        "id": f.pk,
        "case_id": f.case_id,
        "case_number": f.case.number,
        "due_on": f.due_on,
        "method": f.method,
        "unit": f.unit.name,
        "result": f.result,
        "outcome": f.outcome,
        "done_at": f.done_at,
    }


def _member(m: HearingMember) -> dict[str, Any]:
    return {"id": m.pk, "name": m.name, "affiliation": m.affiliation, "kind": m.kind}


def _hearing(h: Hearing) -> dict[str, Any]:
    return {
        "id": h.pk,
        "case_id": h.case_id,
        "scheduled_at": h.scheduled_at,
        "place": h.place,
        "state": h.state,
        "members": [_member(m) for m in h.members.all()],
        "record": h.record,
        "tally": H.tally(h).as_dict(),
    }


@router.post(
    "/cases/{case_id}/evaluation/sms",
    response={200: EventOut, **WRITE_ERRORS},
    summary="记录短信回复的满意度评价",
    operation_id="case_evaluate_sms",
    description=S.evaluate_by_sms.__doc__ or "",
)
def evaluate_sms(request: HttpRequest, case_id: int, body: SmsIn) -> Any:
    case = access.case_or_404(request, case_id)
    event = S.evaluate_by_sms(case=case, by=current_user(request), sms_text=body.text)
    return {"event": out.event(event, show_repeat_of=False)}


@router.get(
    "/followup/tasks",
    response={200: list[TaskOut], **READ_ERRORS},
    summary="复核任务列表",
    operation_id="followup_tasks",
)
def tasks(
    request: HttpRequest,
    state: str = Query("open", description="open/done/all"),
    q: str = Query("", max_length=40),
    limit: int = Query(50, ge=1, le=200),
    offset: int = Query(0, ge=0, le=1_000_000),
) -> Any:
    qs = selectors.tasks_for(current_user(request), state=state, q=q)
    return [_task(t) for t in qs[offset : offset + limit]]


@router.post(
    "/followup/tasks/{task_id}/close",
    response={200: TaskOut, **WRITE_ERRORS},
    summary="办结复核任务",
    operation_id="followup_task_close",
    description=S.office_task_close.__doc__ or "",
)
def task_close(request: HttpRequest, task_id: int, body: TaskCloseIn) -> Any:
    task = selectors.task_visible(current_user(request), task_id)
    if task is None:
        raise NotFound("未找到该任务（不存在或不在您的权限范围内）")
    S.office_task_close(task=task, by=current_user(request), outcome=body.outcome)
    task.refresh_from_db()
    return _task(task)


@router.get(
    "/followup/followups",
    response={200: list[FollowUpOut], **READ_ERRORS},
    summary="回访列表",
    operation_id="followup_list",
)
def followups(
    request: HttpRequest,
    state: str = Query("due", description="due（3日内到期及超期）/overdue/open/done"),
    limit: int = Query(50, ge=1, le=200),
    offset: int = Query(0, ge=0, le=1_000_000),
) -> Any:
    qs = selectors.followups_for(current_user(request), state=state)
    return [_followup(f) for f in qs[offset : offset + limit]]


@router.post(
    "/followup/followups/{followup_id}/record",
    response={200: FollowUpOut, **WRITE_ERRORS},
    summary="记录回访",
    operation_id="followup_record",
    description=S.followup_record.__doc__ or "",
)
def followup_record(request: HttpRequest, followup_id: int, body: FollowUpIn) -> Any:
    fu = selectors.followup_visible(current_user(request), followup_id)
    if fu is None:
        raise NotFound("未找到该回访（不存在或不在您的权限范围内）")
    S.followup_record(
        followup=fu,
        by=current_user(request),
        result=body.result.value,
        method=body.method.value,
        outcome=body.outcome,
    )
    fu.refresh_from_db()
    return _followup(fu)


@router.get(
    "/hearings/members",
    response={200: list[MemberOut], **READ_ERRORS},
    summary="听证员库（可选人员）",
    operation_id="hearing_members",
)
def members(request: HttpRequest) -> Any:
    return [_member(m) for m in HearingMember.objects.filter(is_active=True)]


@router.get(
    "/cases/{case_id}/hearings",
    response={200: list[HearingOut], **READ_ERRORS},
    summary="事项的听证及表决结果",
    operation_id="case_hearings",
)
def case_hearings(request: HttpRequest, case_id: int) -> Any:
    case = access.case_or_404(request, case_id)
    return [_hearing(h) for h in case.hearings.prefetch_related("members")]


@router.post(
    "/cases/{case_id}/hearings",
    response={201: HearingOut, **WRITE_ERRORS},
    summary="安排听证",
    operation_id="hearing_schedule",
    description=H.hearing_schedule.__doc__ or "",
)
def hearing_schedule(request: HttpRequest, case_id: int, body: HearingIn) -> Any:
    case = access.case_or_404(request, case_id)
    hearing = H.hearing_schedule(
        case=case,
        by=current_user(request),
        scheduled_at=body.scheduled_at,
        place=body.place,
        member_ids=body.member_ids,
        parties=body.parties,
    )
    return WithStatus(201, _hearing(hearing))


@router.post(
    "/hearings/{hearing_id}/record",
    response={200: HearingOut, **WRITE_ERRORS},
    summary="记录听证及表决",
    operation_id="hearing_record",
    description=H.hearing_record.__doc__ or "",
)
def hearing_record(request: HttpRequest, hearing_id: int, body: HearingRecordIn) -> Any:
    hearing = selectors.hearing_visible(current_user(request), hearing_id)
    if hearing is None:
        raise NotFound("未找到该听证（不存在或不在您的权限范围内）")
    H.hearing_record(
        hearing=hearing,
        by=current_user(request),
        record=body.record,
        votes=[H.VoteInput(v.member_id, v.vote.value, v.opinion) for v in body.votes],
    )
    hearing.refresh_from_db()
    return _hearing(hearing)
