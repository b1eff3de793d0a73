"""领导批示 endpoints: list, detail, create, report, close (accept) and send back.

Same services as the case-page panel (``xinfang.instructions.services``). Cases are fetched
through ``cases_visible_to`` and instructions through ``instructions_visible_to``: another
unit's instruction, or one on a case the caller cannot see, is a 404.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema
from ninja.responses import Status as WithStatus

from xinfang.api import access
from xinfang.api.auth import current_user
from xinfang.api.errors import READ_ERRORS, WRITE_ERRORS, with_field_map
from xinfang.api.schemas import DbId
from xinfang.core.errors import DomainError
from xinfang.instructions import services as S
from xinfang.instructions.models import Instruction
from xinfang.instructions.models import InstructionState as St
from xinfang.instructions.views import urgency_order
from xinfang.org.models import Unit

router = Router(tags=["领导批示"])
NOT_FOUND = "未找到该批示（不存在或不在您的权限范围内）"


class InstructionOut(Schema):
    id: int
    case_id: int
    case_number: str
    leader: str = Field(description="批示领导")
    leader_unit: str
    text: str = Field(description="批示内容")
    due_on: dt.date = Field(description="落实期限")
    unit_id: int = Field(description="落实单位 ID")
    unit: str = Field(description="落实单位")
    state: str = Field(description="open 待落实 / reported 已报告 / closed 已办结")
    state_label: str = Field(description="待落实 / 已报告 / 已办结 / 超期 n 天")
    days_overdue: int = Field(description="超期天数（待落实且已过期限时大于 0）")
    created_at: dt.datetime
    report_text: str
    reported_by: str | None
    reported_at: dt.datetime | None
    returned_count: int
    close_note: str
    closed_by: str | None
    closed_at: dt.datetime | None


class InstructionPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[InstructionOut]


class InstructionQuery(Schema):
    state: str = Field("", description="open / reported / closed / overdue（超期）")
    unit_id: int | None = Field(None, ge=1, le=2**62, description="落实单位 ID")
    case_id: int | None = Field(None, ge=1, le=2**62)
    mine: bool = Field(False, description="仅我作出的批示")
    q: str = Field("", max_length=100, description="事项编号、批示或报告内容")
    page: int = Field(1, ge=1, le=100000)
    page_size: int = Field(30, ge=1, le=100)


class InstructIn(Schema):
    text: str = Field(max_length=4000, description="批示内容（2–2000 字）")
    due_on: dt.date = Field(description="落实期限（不早于今天，不超过一年）")
    target_unit_id: DbId | None = Field(
        None, ge=1, le=2**62, description="落实单位：承办单位（默认）或登记单位"
    )


class ReportIn(Schema):
    text: str = Field(max_length=4000, description="落实情况")


class CloseIn(Schema):
    note: str = Field("", max_length=4000, description="办结意见（可空）")


class SendBackIn(Schema):
    note: str = Field(max_length=4000, description="退回意见")
    due_on: dt.date | None = Field(None, description="新的落实期限（可空）")


def _name(user: Any) -> str | None:
    if user is None:
        return None
    return str(user.get_full_name() or user.username)


def out(ins: Instruction, today: dt.date | None = None) -> dict[str, Any]:
    today = today or timezone.localdate()
    return {
        "id": ins.pk,
        "case_id": ins.case_id,
        "case_number": ins.case.number,
        "leader": _name(ins.leader),
        "leader_unit": ins.leader_unit.name,
        "text": ins.text,
        "due_on": ins.due_on,
        "unit_id": ins.target_unit_id,
        "unit": ins.target_unit.name,
        "state": ins.state,
        "state_label": ins.urgency_label(today),
        "days_overdue": ins.days_overdue(today),
        "created_at": ins.created_at,
        "report_text": ins.report_text,
        "reported_by": _name(ins.reported_by),
        "reported_at": ins.reported_at,
        "returned_count": ins.returned_count,
        "close_note": ins.close_note,
        "closed_by": _name(ins.closed_by),
        "closed_at": ins.closed_at,
    }


RELATED = ("case", "leader", "leader_unit", "target_unit", "reported_by", "closed_by")


def _instruction_or_404(request: HttpRequest, pk: int) -> Instruction:
    return access.row_or_404(
        S.instructions_visible_to(current_user(request)).select_related(
            *RELATED, "case__office_unit", "case__handling_unit"
        ),
        pk,
        NOT_FOUND,
    )


@router.get(
    "/instructions",
    response={200: InstructionPage, **READ_ERRORS},
    summary="批示列表",
    operation_id="instructions_list",
    description="您可查看的领导批示：您作出的，或交您所在单位（含下级）落实的；按紧急程度排序"
    "（超期在前，其次待落实按期限，再次已报告、已办结）。",
)
def instructions_list(request: HttpRequest, filters: Query[InstructionQuery]) -> Any:
    user = current_user(request)
    today = timezone.localdate()
    qs = S.instructions_visible_to(user)
    if filters.state == "overdue":
        qs = qs.filter(state=St.OPEN, due_on__lt=today)
    elif filters.state:
        if filters.state not in St.values:
            raise DomainError("状态应为 open、reported、closed 或 overdue", field="state")
        qs = qs.filter(state=filters.state)
    if filters.unit_id:
        qs = qs.filter(target_unit_id=filters.unit_id)
    if filters.case_id:
        qs = qs.filter(case_id=filters.case_id)
    if filters.mine:
        qs = qs.filter(leader_id=user.pk)
    if filters.q.strip():
        q = filters.q.strip()
        qs = qs.filter(
            Q(case__number__icontains=q) | Q(text__icontains=q) | Q(report_text__icontains=q)
        )
    paginator = Paginator(urgency_order(qs, today).select_related(*RELATED), filters.page_size)
    page = paginator.get_page(filters.page)
    return {
        "count": paginator.count,
        "page": page.number,
        "page_size": filters.page_size,
        "items": [out(i, today) for i in page.object_list],
    }


@router.get(
    "/instructions/{instruction_id}",
    response={200: InstructionOut, **READ_ERRORS},
    summary="批示详情",
    operation_id="instructions_detail",
)
def instructions_detail(request: HttpRequest, instruction_id: int) -> Any:
    return out(_instruction_or_404(request, instruction_id))


@router.post(
    "/cases/{case_id}/instructions",
    response={201: InstructionOut, **WRITE_ERRORS},
    summary="作出批示",
    operation_id="instructions_create",
    description="成功时返回 201 与新批示。\n\n" + (S.instruct.__doc__ or ""),
)
def instructions_create(request: HttpRequest, case_id: int, body: InstructIn) -> Any:
    case = access.case_or_404(request, case_id)
    unit = None
    if body.target_unit_id is not None:
        unit = Unit.objects.filter(pk=body.target_unit_id).first()
        if unit is None:
            raise DomainError("所选落实单位不存在", field="target_unit_id")
    ins = with_field_map(
        lambda f: {"target_unit": "target_unit_id"}.get(f, f),
        lambda: S.instruct(
            case=case,
            by=current_user(request),
            text=body.text,
            due_on=body.due_on,
            target_unit=unit,
        ),
    )
    return WithStatus(201, out(_instruction_or_404(request, ins.pk)))


@router.post(
    "/instructions/{instruction_id}/report",
    response={200: InstructionOut, **WRITE_ERRORS},
    summary="报告落实情况",
    operation_id="instructions_report",
    description=S.instruction_report.__doc__ or "",
)
def instructions_report(request: HttpRequest, instruction_id: int, body: ReportIn) -> Any:
    ins = _instruction_or_404(request, instruction_id)
    S.instruction_report(ins=ins, by=current_user(request), text=body.text)
    return out(_instruction_or_404(request, instruction_id))


@router.post(
    "/instructions/{instruction_id}/close",
    response={200: InstructionOut, **WRITE_ERRORS},
    summary="办结批示（采纳报告）",
    operation_id="instructions_close",
    description=S.instruction_close.__doc__ or "",
)
def instructions_close(request: HttpRequest, instruction_id: int, body: CloseIn) -> Any:
    ins = _instruction_or_404(request, instruction_id)
    S.instruction_close(ins=ins, by=current_user(request), note=body.note)
    return out(_instruction_or_404(request, instruction_id))


@router.post(
    "/instructions/{instruction_id}/send_back",
    response={200: InstructionOut, **WRITE_ERRORS},
    summary="退回落实报告",
    operation_id="instructions_send_back",
    description=S.instruction_send_back.__doc__ or "",
)
def instructions_send_back(request: HttpRequest, instruction_id: int, body: SendBackIn) -> Any:
    ins = _instruction_or_404(request, instruction_id)
    S.instruction_send_back(ins=ins, by=current_user(request), note=body.note, due_on=body.due_on)
    return out(_instruction_or_404(request, instruction_id))
