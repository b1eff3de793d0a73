"""预防排查 API: informants and their reports (under /api/prevention). Same services as the
pages (``xinfang.prevention.informants``).

Reports are fetched through ``policy.informant_reports_visible_to``: an informant sees their
own, staff the reports of units in their scope; anything else is a 404. Submitting with the same
``client_key`` returns the first report (201 the first time, 200 after).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.responses import Status as WithStatus

from xinfang.api import access
from xinfang.api.auth import current_user
from xinfang.api.errors import READ_ERRORS, WRITE_ERRORS
from xinfang.api.schemas import DbId
from xinfang.core.errors import DomainError
from xinfang.org.models import Unit
from xinfang.prevention import informants as I
from xinfang.prevention import policy
from xinfang.prevention.models import (
    Informant,
    InformantReport,
    InformantReportState,
    Signal,
    Urgency,
)

router = Router(tags=["预防排查"])
NOT_FOUND = "未找到该信息员报告（不存在或不在您的权限范围内）"


class ReportOut(Schema):
    id: int
    unit_id: int
    unit: str = Field(description="涉及单位")
    urgency: str = Field(description="routine 日常 / urgent 紧急")
    signal: str = Field(
        description="紧急情形：" + "、".join(f"{v} {label}" for v, label in Signal.choices)
    )
    signal_label: str
    title: str
    text: str
    place_text: str
    headcount: int | None
    expected_at: dt.datetime | None
    destination: str
    created_at: dt.datetime
    state: str = Field(description="new 待确认 / acknowledged 已确认处置中 / closed 已办结")
    state_label: str
    informant: str = Field(description="信息员")
    acknowledged_by: str | None
    acknowledged_at: dt.datetime | None
    closed_at: dt.datetime | None
    handling: str = Field(description="处置结果（信息员本人看不到内部处置记录）")


class ReportPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[ReportOut]


class ReportQuery(Schema):
    mine: bool = Field(False, description="仅我报送的")
    urgency: str = Field("", description="routine / urgent")
    signal: str = Field("", description="紧急情形")
    state: str = Field("", description="new / acknowledged / closed")
    unit_id: int | None = Field(None, ge=1, le=2**62, description="单位（含下级）")
    q: str = Field("", max_length=100, description="标题、内容、地点")
    page: int = Field(1, ge=1, le=100000)
    page_size: int = Field(30, ge=1, le=100)


class ReportIn(Schema):
    unit_id: DbId = Field(description="涉及村（社区）/单位 ID：须是您担任信息员的单位或其下级")
    urgency: str = Field(description="routine 日常报告 / urgent 紧急报告")
    signal: str = Field("", description="紧急情形（紧急报告必填，日常报告留空）")
    title: str = Field(max_length=200)
    text: str = Field(max_length=6000)
    place_text: str = Field("", max_length=400)
    headcount: int | None = Field(None, ge=1, le=100000)
    expected_at: dt.datetime | None = None
    destination: str = Field("", max_length=200)
    client_key: str | None = Field(
        None, max_length=64, description="客户端生成的提交标识：重复提交返回第一次的报告"
    )


class CloseIn(Schema):
    outcome: str = Field(max_length=4000, description="处置结果")


class NoteIn(Schema):
    text: str = Field(max_length=4000, description="处置情况")


class InformantOut(Schema):
    id: int
    user_id: int
    name: str
    username: str
    unit_id: int
    unit: str
    since: dt.date
    is_active: bool
    ended_at: dt.datetime | None


class InformantPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[InformantOut]


class InformantQuery(Schema):
    unit_id: int | None = Field(None, ge=1, le=2**62, description="单位（含下级）")
    active: bool = Field(True, description="仅在岗")
    q: str = Field("", max_length=100, description="姓名、用户名或单位名称")
    page: int = Field(1, ge=1, le=100000)
    page_size: int = Field(50, ge=1, le=100)


def _name(user: Any) -> str | None:
    if user is None:
        return None
    return str(user.get_full_name() or user.username)


def out(r: InformantReport, *, staff: bool) -> dict[str, Any]:
    return {
        "id": r.pk,
        "unit_id": r.unit_id,
        "unit": r.unit.name,
        "urgency": r.urgency,
        "signal": r.signal,
        "signal_label": r.get_signal_display() if r.signal else "",
        "title": r.title,
        "text": r.text,
        "place_text": r.place_text,
        "headcount": r.headcount,
        "expected_at": r.expected_at,
        "destination": r.destination,
        "created_at": r.created_at,
        "state": r.state,
        "state_label": r.get_state_display(),
        "informant": _name(r.informant.user),
        "acknowledged_by": _name(r.acknowledged_by),
        "acknowledged_at": r.acknowledged_at,
        "closed_at": r.closed_at,
        "handling": r.handling if staff else "",
    }


RELATED = ("unit", "informant__user", "acknowledged_by")


def _report_or_404(request: HttpRequest, pk: int) -> InformantReport:
    return access.row_or_404(
        policy.informant_reports_visible_to(current_user(request)).select_related(*RELATED),
        pk,
        NOT_FOUND,
    )


def _staff(request: HttpRequest) -> bool:
    return policy.may_use_prevention(current_user(request))


@router.get(
    "/informant-reports",
    response={200: ReportPage, **READ_ERRORS},
    summary="信息员报告列表",
    operation_id="prevention_informant_reports_list",
    description="信息员：本人报送的；工作人员：辖区内的。紧急待确认在前，其次按时间倒序。",
)
def reports_list(request: HttpRequest, filters: Query[ReportQuery]) -> Any:
    user = current_user(request)
    qs = policy.informant_reports_visible_to(user)
    if filters.mine:
        qs = qs.filter(informant__user_id=user.pk)
    if filters.urgency:
        if filters.urgency not in Urgency.values:
            raise DomainError("类别应为 routine 或 urgent", field="urgency")
        qs = qs.filter(urgency=filters.urgency)
    if filters.signal:
        if filters.signal not in Signal.values:
            raise DomainError("紧急情形取值无效", field="signal")
        qs = qs.filter(signal=filters.signal)
    if filters.state:
        if filters.state not in InformantReportState.values:
            raise DomainError("状态应为 new、acknowledged 或 closed", field="state")
        qs = qs.filter(state=filters.state)
    if filters.unit_id:
        unit = Unit.objects.filter(pk=filters.unit_id).first()
        qs = qs.filter(unit__path__startswith=unit.path) if unit else qs.none()
    q = filters.q.strip()
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(text__icontains=q) | Q(place_text__icontains=q))
    paginator = Paginator(I.urgent_first(qs).select_related(*RELATED), filters.page_size)
    page = paginator.get_page(filters.page)
    staff = _staff(request)
    return {
        "count": paginator.count,
        "page": page.number,
        "page_size": filters.page_size,
        "items": [out(r, staff=staff) for r in page.object_list],
    }


@router.get(
    "/informant-reports/{report_id}",
    response={200: ReportOut, **READ_ERRORS},
    summary="信息员报告详情",
    operation_id="prevention_informant_reports_detail",
)
def reports_detail(request: HttpRequest, report_id: int) -> Any:
    return out(_report_or_404(request, report_id), staff=_staff(request))


@router.post(
    "/informant-reports",
    response={201: ReportOut, 200: ReportOut, **WRITE_ERRORS},
    summary="报送信息（信息员）",
    operation_id="prevention_informant_reports_submit",
    description="成功时返回 201；同一 client_key 再次提交返回 200 与第一次的报告。\n\n"
    + (I.report_submit.__doc__ or ""),
)
def reports_submit(request: HttpRequest, body: ReportIn) -> Any:
    user = current_user(request)
    unit = Unit.objects.filter(pk=body.unit_id, is_active=True).first()
    if unit is None:
        raise DomainError("所选单位不存在或已停用", field="unit_id")
    existed = bool(
        body.client_key
        and InformantReport.objects.filter(
            client_key=body.client_key.strip(), informant__user_id=user.pk
        ).exists()
    )
    try:
        report = I.report_submit(
            user,
            unit=unit,
            urgency=body.urgency,
            signal=body.signal,
            title=body.title,
            text=body.text,
            place_text=body.place_text,
            headcount=body.headcount,
            expected_at=body.expected_at,
            destination=body.destination,
            client_key=body.client_key,
        )
    except DomainError as exc:
        if exc.field == "unit":
            exc.field = "unit_id"
        raise
    data = out(_report_or_404(request, report.pk), staff=_staff(request))
    return WithStatus(200 if existed else 201, data)


@router.post(
    "/informant-reports/{report_id}/acknowledge",
    response={200: ReportOut, **WRITE_ERRORS},
    summary="确认收到信息员报告",
    operation_id="prevention_informant_reports_acknowledge",
    description=I.report_acknowledge.__doc__ or "",
)
def reports_acknowledge(request: HttpRequest, report_id: int) -> Any:
    report = _report_or_404(request, report_id)
    I.report_acknowledge(current_user(request), report)
    return out(_report_or_404(request, report_id), staff=True)


@router.post(
    "/informant-reports/{report_id}/note",
    response={200: ReportOut, **WRITE_ERRORS},
    summary="记录处置情况",
    operation_id="prevention_informant_reports_note",
    description=I.report_note.__doc__ or "",
)
def reports_note(request: HttpRequest, report_id: int, body: NoteIn) -> Any:
    report = _report_or_404(request, report_id)
    I.report_note(current_user(request), report, body.text)
    return out(_report_or_404(request, report_id), staff=True)


@router.post(
    "/informant-reports/{report_id}/close",
    response={200: ReportOut, **WRITE_ERRORS},
    summary="办结信息员报告",
    operation_id="prevention_informant_reports_close",
    description=I.report_close.__doc__ or "",
)
def reports_close(request: HttpRequest, report_id: int, body: CloseIn) -> Any:
    report = _report_or_404(request, report_id)
    I.report_close(current_user(request), report, body.outcome)
    return out(_report_or_404(request, report_id), staff=True)


@router.get(
    "/informants",
    response={200: InformantPage, **READ_ERRORS},
    summary="信息员网络",
    operation_id="prevention_informants_list",
    description="辖区内各单位的信息员（工作人员）。",
)
def informants_list(request: HttpRequest, filters: Query[InformantQuery]) -> Any:
    user = current_user(request)
    ids = policy.scope_ids(user)
    qs = Informant.objects.filter(unit_id__in=ids).select_related("user", "unit")
    if filters.active:
        qs = qs.filter(is_active=True)
    if filters.unit_id:
        unit = Unit.objects.filter(pk=filters.unit_id).first()
        qs = qs.filter(unit__path__startswith=unit.path) if unit else qs.none()
    q = filters.q.strip()
    if q:
        qs = qs.filter(
            Q(user__first_name__icontains=q)
            | Q(user__username__icontains=q)
            | Q(unit__name__icontains=q)
        )
    paginator = Paginator(qs.order_by("unit__path", "id"), filters.page_size)
    page = paginator.get_page(filters.page)
    return {
        "count": paginator.count,
        "page": page.number,
        "page_size": filters.page_size,
        "items": [
            {
                "id": i.pk,
                "user_id": i.user_id,
                "name": _name(i.user),
                "username": i.user.username,
                "unit_id": i.unit_id,
                "unit": i.unit.name,
                "since": i.since,
                "is_active": i.is_active,
                "ended_at": i.ended_at,
            }
            for i in page.object_list
        ],
    }
