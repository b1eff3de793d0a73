"""统计考核 API (/api/stats) — KPIs, ranking, the 考核 scheme and 一票否决.

Same functions as the pages (``stats.kpi``). A unit outside the reader's statistics scope is a
404; changing the scheme or the flags without ``policy.may_manage_assessment`` is a 403.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema
from ninja.responses import Status as WithStatus

from xinfang.api.auth import current_user
from xinfang.api.errors import READ_ERRORS, WRITE_ERRORS, ErrorOut, NotFound
from xinfang.core.errors import DomainError
from xinfang.org.models import Unit
from xinfang.stats import kpi, policy
from xinfang.stats.kpi_forms import default_period
from xinfang.stats.models import VetoFlag
from xinfang.stats.periods import Period

router = Router(tags=["统计考核"])
VETO_NOT_FOUND = "未找到该一票否决记录（不存在或不在您的权限范围内）"


class RateOut(Schema):
    num: int = Field(description="分子")
    den: int = Field(description="分母（0：无比率）")
    rate: float | None = Field(description="百分比，一位小数；分母为0时为 null")


class KpiRowOut(Schema):
    unit_id: int
    unit: str
    role: str = Field(description="child 下一级单位（参与排名）/ self 本级 / total 合计")
    rank: int | None
    score: float | None = Field(description="考核得分（0–100，一位小数）；无考核数据为 null")
    grade: str = Field(description="优秀 / 良好 / 合格 / 不合格 / —")
    veto: bool
    veto_reasons: list[str]
    rates: dict[str, RateOut] = Field(description="指标代码 → 分子、分母、比率")
    overdue: int = Field(description="当前超期件数（实时）")
    backlog_start: int
    backlog_end: int
    backlog_in: int
    backlog_out: int
    backlog_reduced: int


class KpiDefOut(Schema):
    code: str
    name: str
    formula: str
    lower_is_better: bool
    weight: int


class KpiOut(Schema):
    unit_id: int
    unit: str
    start: dt.date
    end: dt.date
    scheme: str
    kpis: list[KpiDefOut]
    rows: list[KpiRowOut]


class KpiQuery(Schema):
    unit: int | None = Field(
        None, ge=1, le=2**62, description="统计单位（默认：您职责范围的最高一级）"
    )
    start: dt.date | None = Field(None, description="默认本月1日")
    end: dt.date | None = Field(None, description="默认本月末")


class VetoRuleIO(Schema):
    code: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]{1,39}$")
    label: str = Field(min_length=2, max_length=100)


class SchemeOut(Schema):
    id: int
    name: str
    weights: dict[str, int]
    zero: str = Field(description="分母为零时：full 计满分 / zero 计零分 / skip 不计入")
    grades: list[int] = Field(description="优秀、良好、合格的最低分")
    veto_rules: list[VetoRuleIO]
    updated_at: dt.datetime


class SchemeIn(Schema):
    weights: dict[str, int] = Field(description="指标代码 → 权重（0–100），和须大于0")
    zero: str = "full"
    grades: list[int] = Field([90, 75, 60], min_length=3, max_length=3)
    veto_rules: list[VetoRuleIO]


class VetoOut(Schema):
    id: int
    unit_id: int
    unit: str
    code: str
    label: str
    period_start: dt.date
    period_end: dt.date
    reason: str
    case_id: int | None
    created_by: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None
    revoked_by: str | None
    revoke_reason: str


class VetoIn(Schema):
    unit_id: int = Field(ge=1, le=2**62)
    code: str = Field(max_length=40)
    period_start: dt.date
    period_end: dt.date
    reason: str = Field(max_length=2000, description="事实与依据（不少于10个字）")
    case_id: int | None = Field(None, ge=1, le=2**62)


class RevokeIn(Schema):
    reason: str = Field(max_length=1000, description="撤销理由（不少于4个字）")


def _reader(request: HttpRequest) -> Any:
    user = current_user(request)
    if not policy.may_read_stats(user):
        raise NotFound("无统计查看权限")
    return user


def _period(start: dt.date | None, end: dt.date | None) -> Period:
    if start is None and end is None:
        return default_period(timezone.localdate())
    if start is None or end is None:
        raise DomainError("请同时提供 start 和 end", field="start" if start is None else "end")
    if end < start:
        raise DomainError("结束日期不能早于开始日期", field="end")
    return Period.parse(start.isoformat(), end.isoformat())


@router.get(
    "/kpi",
    response={200: KpiOut, 400: ErrorOut, **READ_ERRORS},
    summary="考核指标与排名",
    operation_id="stats_kpi",
    description="下一级各单位（含其下级）的考核指标（分子、分母、比率）、得分、等次、名次与一票否决；"
    "另有本级与合计两行（不参与排名）。",
)
def kpi_get(request: HttpRequest, q: Query[KpiQuery]) -> Any:
    user = _reader(request)
    scope = policy.scope_unit(user, q.unit)
    period = _period(q.start, q.end)
    r = kpi.ranking(period, scope)
    rows = []
    for item in kpi.kpi_rows_of(r):
        item["rates"] = {k.code: item.pop(k.code) for k in kpi.KPIS}
        rows.append(item)
    return {
        "unit_id": scope.pk,
        "unit": scope.name,
        "start": period.start,
        "end": period.end,
        "scheme": r.scheme.name,
        "kpis": [
            {
                "code": k.code,
                "name": k.name,
                "formula": k.formula,
                "lower_is_better": k.lower_is_better,
                "weight": r.weights.get(k.code, 0),
            }
            for k in kpi.KPIS
        ],
        "rows": rows,
    }


def _scheme_out(scheme: Any) -> dict[str, Any]:
    return {
        "id": scheme.pk,
        "name": scheme.name,
        "weights": kpi.weights_of(scheme),
        "zero": kpi.zero_policy(scheme),
        "grades": list(kpi.grades_of(scheme)),
        "veto_rules": scheme.veto_rules or [],
        "updated_at": scheme.updated_at,
    }


@router.get(
    "/kpi/scheme",
    response={200: SchemeOut, **READ_ERRORS},
    summary="考核方案",
    operation_id="stats_scheme_get",
)
def scheme_get(request: HttpRequest) -> Any:
    _reader(request)
    return _scheme_out(kpi.ensure_default_scheme())


@router.put(
    "/kpi/scheme",
    response={200: SchemeOut, **WRITE_ERRORS},
    summary="修改考核方案",
    operation_id="stats_scheme_put",
    description=kpi.scheme_update.__doc__ or "",
)
def scheme_put(request: HttpRequest, body: SchemeIn) -> Any:
    user = _reader(request)
    scheme = kpi.ensure_default_scheme()
    a, b, c = body.grades
    weights = {k.code: 0 for k in kpi.KPIS} | body.weights
    kpi.scheme_update(
        scheme=scheme,
        by=user,
        weights=weights,
        veto_rules=[r.dict() for r in body.veto_rules],
        zero=body.zero,
        grades=(a, b, c),
    )
    return _scheme_out(scheme)


def _name(user: Any) -> str:
    return "" if user is None else str(user.get_full_name() or user.username)


def _veto_out(flag: VetoFlag, labels: dict[str, str]) -> dict[str, Any]:
    return {
        "id": flag.pk,
        "unit_id": flag.unit_id,
        "unit": flag.unit.name,
        "code": flag.code,
        "label": labels.get(flag.code, flag.code),
        "period_start": flag.period_start,
        "period_end": flag.period_end,
        "reason": flag.reason,
        "case_id": flag.case_id if getattr(flag, "case_visible", False) else None,
        "created_by": _name(flag.created_by),
        "created_at": flag.created_at,
        "revoked_at": flag.revoked_at,
        "revoked_by": _name(flag.revoked_by) if flag.revoked_by_id else None,
        "revoke_reason": flag.revoke_reason,
    }


@router.get(
    "/kpi/vetoes",
    response={200: list[VetoOut], **READ_ERRORS},
    summary="一票否决记录",
    operation_id="stats_vetoes_list",
    description="您统计范围内各单位的一票否决记录（含已撤销），最近的在前，最多500条。",
)
def vetoes_list(request: HttpRequest) -> Any:
    user = _reader(request)
    labels = kpi.veto_labels(kpi.ensure_default_scheme())
    rows = kpi.vetoes_visible_to(user).order_by("-period_end", "-id")[:500]
    return [_veto_out(f, labels) for f in rows]


@router.post(
    "/kpi/vetoes",
    response={201: VetoOut, **WRITE_ERRORS},
    summary="记录一票否决",
    operation_id="stats_vetoes_add",
    description=kpi.veto_add.__doc__ or "",
)
def vetoes_add(request: HttpRequest, body: VetoIn) -> Any:
    user = _reader(request)
    scheme = kpi.ensure_default_scheme()
    if body.unit_id not in set(policy.scope_ids(user)):
        raise NotFound("未找到该单位（不存在或不在您的权限范围内）")
    unit = Unit.objects.get(pk=body.unit_id)
    case = None
    if body.case_id is not None:
        from xinfang.cases.policy import cases_visible_to

        case = cases_visible_to(user).filter(pk=body.case_id).first()
        if case is None:
            raise DomainError("未找到该信访事项（或不在您的权限范围内）", field="case_id")
    try:
        flag = kpi.veto_add(
            scheme=scheme,
            by=user,
            unit=unit,
            code=body.code,
            start=body.period_start,
            end=body.period_end,
            reason=body.reason,
            case=case,
        )
    except DomainError as exc:
        exc.field = {"unit": "unit_id"}.get(exc.field or "", exc.field)
        raise
    flag = kpi.vetoes_visible_to(user).get(pk=flag.pk)
    return WithStatus(201, _veto_out(flag, kpi.veto_labels(scheme)))


@router.post(
    "/kpi/vetoes/{veto_id}/revoke",
    response={200: VetoOut, **WRITE_ERRORS},
    summary="撤销一票否决",
    operation_id="stats_vetoes_revoke",
    description=kpi.veto_revoke.__doc__ or "",
)
def vetoes_revoke(request: HttpRequest, veto_id: int, body: RevokeIn) -> Any:
    user = _reader(request)
    flag = kpi.vetoes_visible_to(user).filter(pk=veto_id).first()
    if flag is None:
        raise NotFound(VETO_NOT_FOUND)
    kpi.veto_revoke(flag=flag, by=user, reason=body.reason)
    flag = kpi.vetoes_visible_to(user).get(pk=veto_id)
    return _veto_out(flag, kpi.veto_labels(kpi.ensure_default_scheme()))
