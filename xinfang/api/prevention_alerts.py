"""预防排查 API: alerts and the weekly 预测预报 (under /api/prevention). Same services as the
pages (``prevention.warning``); alerts are fetched through ``policy.alerts_visible_to`` (another
unit's alert is a 404); an act refused inside the scope is a 403 with the Chinese message. The
rule sweep has no endpoint: it runs from ``manage.py warning_sweep`` or the task worker.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from xinfang.api import access
from xinfang.api.auth import current_user
from xinfang.api.errors import READ_ERRORS, WRITE_ERRORS, ErrorOut, NotFound
from xinfang.core.errors import DomainError
from xinfang.prevention import policy
from xinfang.prevention import warning as W
from xinfang.prevention.alert_views import filter_alerts, forecast_units, urgency_order
from xinfang.prevention.models import Alert, AlertState, Severity, WarningRule

router = Router(tags=["预防排查"])
NOT_FOUND = "未找到该预警（不存在或不在您的权限范围内）"


class AlertOut(Schema):
    id: int
    rule: str = Field(description="规则代码")
    rule_name: str
    severity: str = Field(description="blue / yellow / orange / red")
    severity_label: str
    state: str = Field(description="open 待确认 / acknowledged 处置中 / closed 已办结")
    state_label: str
    unit_id: int
    unit: str
    title: str
    detail: str
    data: dict[str, Any] = Field(description="规则的依据（实际、预期、p值、时段等）")
    owner: str | None
    owner_id: int | None
    raised_at: dt.datetime
    acknowledged_by: str | None
    acknowledged_at: dt.datetime | None
    closed_by: str | None
    closed_at: dt.datetime | None
    outcome: str
    case_id: int | None
    dispute_id: int | None
    informant_report_id: int | None
    group_id: int | None


class AlertPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[AlertOut]


class AlertQuery(Schema):
    state: str = Field("", description="open / acknowledged / closed / active（未办结）")
    severity: str = Field("", description="blue / yellow / orange / red")
    rule: str = Field("", max_length=30)
    unit_id: int | None = Field(None, ge=1, le=2**62, description="涉及单位（含下级）")
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    mine: bool = Field(False, description="仅我负责的")
    q: str = Field("", max_length=100, description="标题或详情")
    page: int = Field(1, ge=1, le=100000)
    page_size: int = Field(30, ge=1, le=100)


class AckIn(Schema):
    note: str = Field("", max_length=2000, description="确认说明（可空）")


class CloseIn(Schema):
    outcome: str = Field(max_length=4000, description="处置结果（必填）")


class AssignIn(Schema):
    owner_id: int = Field(ge=1, le=2**62, description="新负责人（该单位辖区内的领导或办案员）")


class ForecastRuleRow(Schema):
    rule: str
    name: str
    red: int
    orange: int
    yellow: int
    blue: int
    total: int


class ForecastOut(Schema):
    unit_id: int
    unit: str
    week: str = Field(description="ISO 周，如 2026-W48")
    monday: dt.date
    sunday: dt.date
    narrative: str = Field(description="预测预报正文段落")
    alerts_total: int
    by_severity: dict[str, int]
    by_rule: list[ForecastRuleRow]
    spikes: list[AlertOut]
    urgent_reports: list[dict[str, Any]]
    disputes_new: int
    disputes_struck: int
    disputes_open: int
    disputes_overdue: int
    screening_expected: int
    screening_submitted: int
    screening_late: int
    screening_missing: list[str]


class ForecastQuery(Schema):
    week: str = Field("", max_length=10, description="如 2026-W48；默认上一完整周")
    unit_id: int | None = Field(None, ge=1, le=2**62, description="默认：您职责范围的最高一级")


def _name(user: Any) -> str | None:
    return None if user is None else str(user.get_full_name() or user.username)


CaseRefs = tuple[set[int], set[str]]


def case_refs(user: Any, alerts: list[Alert]) -> CaseRefs:
    """Of the cases the alerts' data name (a repeat's earlier case, a cluster's numbers), those
    ``user`` may see: two queries for a page."""
    from xinfang.cases.policy import cases_visible_to

    ids = {int(i) for a in alerts if (i := (a.data or {}).get("earlier_case_id"))}
    numbers = {str(n) for a in alerts for n in (a.data or {}).get("case_numbers") or ()}
    visible = cases_visible_to(user)
    seen_ids = set(visible.filter(pk__in=ids).values_list("pk", flat=True)) if ids else set()
    seen_numbers = (
        set(visible.filter(number__in=numbers).values_list("number", flat=True))
        if numbers
        else set()
    )
    return seen_ids, seen_numbers


def _shown_data(data: dict[str, Any], refs: CaseRefs | None) -> dict[str, Any]:
    """The alert's data without its log, and without the case numbers the reader may not see
    (``refs`` None: none at all) — a 检举控告 number must not reach the accused."""
    shown = {k: v for k, v in data.items() if k != "log"}
    seen_ids, seen_numbers = refs if refs is not None else (set(), set())
    if "earlier_case_id" in shown and shown["earlier_case_id"] not in seen_ids:
        shown.pop("earlier_number", None)
    if "case_numbers" in shown:
        shown["case_numbers"] = [n for n in shown["case_numbers"] or () if n in seen_numbers]
    return shown


def out(
    a: Alert, rules: dict[str, str] | None = None, refs: CaseRefs | None = None
) -> dict[str, Any]:
    rules = rules if rules is not None else dict(WarningRule.objects.values_list("code", "name"))
    return {
        "id": a.pk,
        "rule": a.rule,
        "rule_name": rules.get(a.rule, a.rule),
        "severity": a.severity,
        "severity_label": a.get_severity_display(),
        "state": a.state,
        "state_label": a.get_state_display(),
        "unit_id": a.unit_id,
        "unit": a.unit.name,
        "title": a.title,
        "detail": a.detail,
        "data": _shown_data(a.data or {}, refs),
        "owner": _name(a.owner),
        "owner_id": a.owner_id,
        "raised_at": a.raised_at,
        "acknowledged_by": _name(a.acknowledged_by),
        "acknowledged_at": a.acknowledged_at,
        "closed_by": _name(a.closed_by),
        "closed_at": a.closed_at,
        "outcome": a.outcome,
        "case_id": a.case_id,
        "dispute_id": a.dispute_id,
        "informant_report_id": a.informant_report_id,
        "group_id": a.group_id,
    }


RELATED = ("unit", "owner", "acknowledged_by", "closed_by")


def _out_for(request: HttpRequest, alert: Alert) -> dict[str, Any]:
    return out(alert, refs=case_refs(current_user(request), [alert]))


def _alert_or_404(request: HttpRequest, pk: int) -> Alert:
    user = current_user(request)
    if not policy.may_use_prevention(user):
        raise NotFound(NOT_FOUND)
    return access.row_or_404(policy.alerts_visible_to(user).select_related(*RELATED), pk, NOT_FOUND)


@router.get(
    "/alerts",
    response={200: AlertPage, **READ_ERRORS},
    summary="预警列表",
    operation_id="prevention_alerts_list",
    description="您职责范围内（及您负责）的预警；待确认的红色、橙色在前。",
)
def alerts_list(request: HttpRequest, filters: Query[AlertQuery]) -> Any:
    user = current_user(request)
    if not policy.may_use_prevention(user):
        qs = Alert.objects.none()
    else:
        qs = policy.alerts_visible_to(user)
    if filters.state and filters.state not in {*AlertState.values, "active"}:
        raise DomainError("状态应为 open、acknowledged、closed 或 active", field="state")
    if filters.severity and filters.severity not in Severity.values:
        raise DomainError("级别应为 blue、yellow、orange 或 red", field="severity")
    d = {
        "state": filters.state,
        "severity": filters.severity,
        "rule": filters.rule.strip(),
        "unit": filters.unit_id,
        "date_from": filters.date_from,
        "date_to": filters.date_to,
        "mine": filters.mine,
        "q": filters.q,
    }
    qs = urgency_order(filter_alerts(qs, d, user)).select_related(*RELATED)
    paginator = Paginator(qs, filters.page_size)
    page = paginator.get_page(filters.page)
    rules = dict(WarningRule.objects.values_list("code", "name"))
    rows = list(page.object_list)
    refs = case_refs(user, rows)
    return {
        "count": paginator.count,
        "page": page.number,
        "page_size": filters.page_size,
        "items": [out(a, rules, refs) for a in rows],
    }


@router.get(
    "/alerts/{alert_id}",
    response={200: AlertOut, **READ_ERRORS},
    summary="预警详情",
    operation_id="prevention_alerts_detail",
)
def alerts_detail(request: HttpRequest, alert_id: int) -> Any:
    return _out_for(request, _alert_or_404(request, alert_id))


@router.post(
    "/alerts/{alert_id}/acknowledge",
    response={200: AlertOut, **WRITE_ERRORS},
    summary="确认预警",
    operation_id="prevention_alerts_acknowledge",
    description=W.alert_acknowledge.__doc__ or "",
)
def alerts_acknowledge(request: HttpRequest, alert_id: int, body: AckIn) -> Any:
    alert = _alert_or_404(request, alert_id)
    W.alert_acknowledge(current_user(request), alert, body.note)
    return _out_for(request, Alert.objects.select_related(*RELATED).get(pk=alert.pk))


@router.post(
    "/alerts/{alert_id}/close",
    response={200: AlertOut, **WRITE_ERRORS},
    summary="办结预警",
    operation_id="prevention_alerts_close",
    description=W.alert_close.__doc__ or "",
)
def alerts_close(request: HttpRequest, alert_id: int, body: CloseIn) -> Any:
    alert = _alert_or_404(request, alert_id)
    W.alert_close(current_user(request), alert, body.outcome)
    return _out_for(request, Alert.objects.select_related(*RELATED).get(pk=alert.pk))


@router.post(
    "/alerts/{alert_id}/assign",
    response={200: AlertOut, **WRITE_ERRORS},
    summary="更换预警负责人",
    operation_id="prevention_alerts_assign",
    description=W.alert_assign.__doc__ or "",
)
def alerts_assign(request: HttpRequest, alert_id: int, body: AssignIn) -> Any:
    alert = _alert_or_404(request, alert_id)
    user = current_user(request)
    policy.require_act_on_alert(user, alert)
    owner = get_user_model().objects.filter(pk=body.owner_id, is_active=True).first()
    if owner is None:
        raise DomainError("没有这个用户", field="owner_id")
    try:
        W.alert_assign(user, alert, owner)
    except DomainError as exc:
        if exc.field == "owner":
            exc.field = "owner_id"
        raise
    return _out_for(request, Alert.objects.select_related(*RELATED).get(pk=alert.pk))


@router.get(
    "/forecast",
    response={200: ForecastOut, **READ_ERRORS, 400: ErrorOut},
    summary="每周预测预报",
    operation_id="prevention_forecast",
    description="某单位（含下级）某一周的预测预报：正文段落、按规则和级别的预警数、异常增长、"
    "紧急报告、矛盾纠纷变动和排查报告报送。",
)
def forecast(request: HttpRequest, filters: Query[ForecastQuery]) -> Any:
    user = current_user(request)
    units = forecast_units(user) if policy.may_use_prevention(user) else []
    if not units:
        raise NotFound("您没有可查看的单位")
    unit = units[0]
    if filters.unit_id:
        found = next((u for u in units if u.pk == filters.unit_id), None)
        if found is None:
            raise NotFound("未找到该单位（不存在或不在您的权限范围内）")
        unit = found
    monday = W.parse_week(filters.week)
    fc = W.forecast_for(unit, monday, policy.alerts_visible_to(user))
    rules = dict(WarningRule.objects.values_list("code", "name"))
    spike_refs = case_refs(user, fc.spikes)
    return {
        "unit_id": unit.pk,
        "unit": unit.name,
        "week": fc.week,
        "monday": fc.monday,
        "sunday": fc.sunday,
        "narrative": fc.narrative,
        "alerts_total": fc.alerts_total,
        "by_severity": fc.by_severity,
        "by_rule": [
            {
                "rule": r["rule"],
                "name": r["name"],
                "red": r["counts"][0],
                "orange": r["counts"][1],
                "yellow": r["counts"][2],
                "blue": r["counts"][3],
                "total": r["total"],
            }
            for r in fc.by_rule
        ],
        "spikes": [out(a, rules, spike_refs) for a in fc.spikes],
        "urgent_reports": [
            {
                "id": r.pk,
                "unit": r.unit.name,
                "signal": r.signal,
                "title": r.title,
                "state": r.state,
                "created_at": r.created_at.isoformat(),
            }
            for r in fc.urgent_reports
        ],
        "disputes_new": fc.disputes_new,
        "disputes_struck": fc.disputes_struck,
        "disputes_open": fc.disputes_open,
        "disputes_overdue": fc.disputes_overdue,
        "screening_expected": fc.screening_expected,
        "screening_submitted": fc.screening_submitted,
        "screening_late": fc.screening_late,
        "screening_missing": fc.screening_missing,
    }
