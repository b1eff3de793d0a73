"""预防排查 API: screening rounds (under /api/prevention). Same services as the pages
(``xinfang.prevention.screening``): rounds and reports are fetched through
``rounds_visible_to`` / ``reports_visible_to`` — another unit's round or report is a 404."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest
from ninja import Field, Path, Query, Router, Schema

from xinfang.api import access
from xinfang.api.auth import current_user
from xinfang.api.errors import READ_ERRORS, WRITE_ERRORS, NotFound
from xinfang.api.schemas import ID_MAX
from xinfang.cases.models import Category
from xinfang.core.errors import DomainError
from xinfang.org.models import Unit
from xinfang.prevention import screening as S
from xinfang.prevention.models import Cadence, ScreeningReport, ScreeningRound

router = Router(tags=["预防排查"])
NOT_FOUND = "未找到该排查轮次或报告（不存在或不在您的权限范围内）"


class TallyOut(Schema):
    expected: int = Field(description="应报单位数")
    submitted: int
    nothing_new: int = Field(description="报送“本期无新情况”的单位数")
    late: int = Field(description="逾期（逾期报送或过期未报）单位数")
    new_items: int = Field(description="新发现矛盾纠纷件数")
    changes: int = Field(description="情况变化件数")
    completion: int = Field(description="完成率（%）")


class RoundOut(Schema):
    id: int
    rule_id: int
    rule: str
    cadence: str = Field(description="weekly / half_monthly / monthly")
    label: str = Field(description="轮次，如 2026年第48周")
    period_start: dt.date
    period_end: dt.date
    due_on: dt.date = Field(description="报送期限（工作日）")
    tally: TallyOut = Field(description="您可查看的单位的汇总")


class ReportOut(Schema):
    id: int
    unit_id: int
    unit: str
    unit_active: bool
    parent_unit: str | None
    state: str = Field(description="pending 待报送 / submitted 已报送")
    nothing_new: bool
    note: str
    new_count: int
    changed_count: int
    submitted_by: str | None
    submitted_at: dt.datetime | None
    is_late: bool = Field(description="逾期报送，或已过期限仍未报送")
    remind_count: int
    dispute_ids: list[int] = Field(description="本报告新登记的台账事项")


class RoundDetailOut(RoundOut):
    reports: list[ReportOut]


class RoundPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[RoundOut]


class RoundQuery(Schema):
    rule_id: int | None = Field(None, ge=1, le=2**62)
    cadence: str = Field("", description="weekly / half_monthly / monthly")
    start: dt.date | None = Field(None, description="周期结束不早于此日")
    end: dt.date | None = Field(None, description="周期开始不晚于此日")
    page: int = Field(1, ge=1, le=100000)
    page_size: int = Field(20, ge=1, le=100)


class NewItemIn(Schema):
    title: str = Field(max_length=200)
    parties: str = Field(max_length=2000, description="当事人，每行一方")
    description: str = Field(max_length=10000)
    risk_level: str = Field(description="low / medium / high / critical")
    headcount: int = Field(1, ge=1, le=100000)
    place_unit_id: int | None = Field(None, ge=1, le=2**62, description="发生地：本单位或下属单位")
    category_id: int | None = Field(None, ge=1, le=2**62)


class ChangeIn(Schema):
    dispute_id: int = Field(ge=1, le=2**62)
    text: str = Field(max_length=4000)


class SubmitIn(Schema):
    nothing_new: bool = Field(False, description="本期无新情况（不能与新事项、情况变化同时填写）")
    note: str = Field("", max_length=4000)
    new_items: list[NewItemIn] = Field(default_factory=list, max_length=50)
    changes: list[ChangeIn] = Field(default_factory=list, max_length=200)


def _name(user: Any) -> str | None:
    return None if user is None else str(user.get_full_name() or user.username)


def _tally(rnd: ScreeningRound, user: Any) -> dict[str, Any]:
    agg = S.round_aggregate(rnd, user)
    t = agg["total"]
    return {**t.__dict__, "completion": t.completion}


def _round_out(rnd: ScreeningRound, user: Any) -> dict[str, Any]:
    return {
        "id": rnd.pk,
        "rule_id": rnd.rule_id,
        "rule": rnd.rule.name,
        "cadence": rnd.rule.cadence,
        "label": rnd.label,
        "period_start": rnd.period_start,
        "period_end": rnd.period_end,
        "due_on": rnd.due_on,
        "tally": _tally(rnd, user),
    }


def _report_out(rep: ScreeningReport, today: dt.date) -> dict[str, Any]:
    return {
        "id": rep.pk,
        "unit_id": rep.unit_id,
        "unit": rep.unit.name,
        "unit_active": rep.unit.is_active,
        "parent_unit": rep.unit.parent.name if rep.unit.parent else None,
        "state": rep.state,
        "nothing_new": rep.nothing_new,
        "note": rep.note,
        "new_count": rep.new_count,
        "changed_count": rep.changed_count,
        "submitted_by": _name(rep.submitted_by),
        "submitted_at": rep.submitted_at,
        "is_late": S.is_late(rep, today),
        "remind_count": rep.remind_count,
        "dispute_ids": list(rep.new_disputes.order_by("pk").values_list("pk", flat=True)),
    }


def _round_or_404(request: HttpRequest, round_id: int) -> ScreeningRound:
    return access.row_or_404(
        S.rounds_visible_to(current_user(request)).select_related("rule"), round_id, NOT_FOUND
    )


@router.get(
    "/screening/rounds",
    response={200: RoundPage, **READ_ERRORS},
    summary="排查轮次列表",
    operation_id="screening_rounds_list",
    description="含您所在单位或辖区单位的排查轮次，新近在前；汇总只计您可查看的单位。",
)
def rounds_list(request: HttpRequest, filters: Query[RoundQuery]) -> Any:
    user = current_user(request)
    qs = (
        S.rounds_visible_to(user).select_related("rule").order_by("-period_start", "rule__priority")
    )
    if filters.rule_id:
        qs = qs.filter(rule_id=filters.rule_id)
    if filters.cadence:
        if filters.cadence not in Cadence.values:
            raise DomainError("周期应为 weekly、half_monthly 或 monthly", field="cadence")
        qs = qs.filter(rule__cadence=filters.cadence)
    if filters.start:
        qs = qs.filter(period_end__gte=filters.start)
    if filters.end:
        qs = qs.filter(period_start__lte=filters.end)
    paginator = Paginator(qs, filters.page_size)
    page = paginator.get_page(filters.page)
    return {
        "count": paginator.count,
        "page": page.number,
        "page_size": filters.page_size,
        "items": [_round_out(r, user) for r in page.object_list],
    }


@router.get(
    "/screening/rounds/{round_id}",
    response={200: RoundDetailOut, **READ_ERRORS},
    summary="排查轮次详情（各单位报告）",
    operation_id="screening_round_detail",
)
def round_detail(request: HttpRequest, round_id: int) -> Any:
    user = current_user(request)
    rnd = _round_or_404(request, round_id)
    today = S.beijing_today()
    reports = (
        rnd.reports.filter(unit_id__in=S.visible_unit_ids(user))
        .select_related("unit", "unit__parent", "submitted_by", "round")
        .order_by("unit__path")
    )
    return {**_round_out(rnd, user), "reports": [_report_out(r, today) for r in reports]}


@router.post(
    "/screening/rounds/{round_id}/reports/{unit_id}",
    response={200: ReportOut, **WRITE_ERRORS},
    summary="报送排查报告",
    operation_id="screening_report_submit",
    description=(S.report_submit.__doc__ or "")
    + "\n\n重复报送返回 400，说明由谁于何时报送；非本单位人员返回 403。",
)
def report_submit(
    request: HttpRequest,
    body: SubmitIn,
    round_id: int = Path(..., ge=1, le=ID_MAX),
    unit_id: int = Path(..., ge=1, le=ID_MAX),
) -> Any:
    user = current_user(request)
    report = (
        S.reports_visible_to(user)
        .select_related("round", "round__rule", "unit")
        .filter(round_id=round_id, unit_id=unit_id)
        .first()
    )
    if report is None:
        raise NotFound(NOT_FOUND)
    items: list[S.NewItem] = []
    for i, it in enumerate(body.new_items):
        place = None
        if it.place_unit_id is not None:
            place = Unit.objects.filter(pk=it.place_unit_id).first()
            if place is None:
                raise DomainError(
                    f"第{i + 1}条：发生地单位不存在", field=f"new_items.{i}.place_unit_id"
                )
        category = None
        if it.category_id is not None:
            category = Category.objects.filter(pk=it.category_id).first()
            if category is None:
                raise DomainError(
                    f"第{i + 1}条：纠纷类别不存在", field=f"new_items.{i}.category_id"
                )
        items.append(
            S.NewItem(
                title=it.title,
                parties=it.parties,
                description=it.description,
                risk_level=it.risk_level,
                headcount=it.headcount,
                place_unit=place,
                category=category,
            )
        )
    changes: dict[int, str] = {}
    for ch in body.changes:
        changes[ch.dispute_id] = ch.text
    try:
        S.report_submit(
            user,
            report,
            nothing_new=body.nothing_new,
            note=body.note,
            new_items=items,
            changes=changes,
        )
    except DomainError as exc:
        if exc.field and exc.field.startswith("n-"):
            _, idx, name = exc.field.split("-", 2)
            exc.field = f"new_items.{idx}.{name}"
        elif exc.field and exc.field.startswith("change-"):
            exc.field = "changes"
        raise
    report = ScreeningReport.objects.select_related(
        "unit", "unit__parent", "submitted_by", "round"
    ).get(pk=report.pk)
    return _report_out(report, S.beijing_today())
