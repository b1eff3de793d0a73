"""预警 pages: the alert list, an alert's page and its acts, the weekly 预测预报 (HTML, DOCX)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.db.models import Case as When_
from django.db.models import IntegerField, Q, QuerySet, Value, When
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from xinfang.core.errors import DomainError, PermissionDenied
from xinfang.core.paging import paginate
from xinfang.org.models import Unit
from xinfang.prevention import policy
from xinfang.prevention import warning as W
from xinfang.prevention.alert_forms import (
    AckForm,
    AlertFilterForm,
    AssignForm,
    CloseForm,
    ForecastForm,
)
from xinfang.prevention.models import Alert, AlertState, Severity, WarningRule

PAGE_SIZE = 30
CASES_SHOWN = 50


def _require_reader(request: HttpRequest) -> None:
    if not policy.may_use_prevention(request.user):
        raise Http404


def urgency_order(qs: QuerySet[Alert]) -> QuerySet[Alert]:
    """Open red/orange first, then other open, then 处置中, then 已办结; newest first within."""
    return qs.annotate(
        _rank=When_(
            When(state=AlertState.OPEN, severity=Severity.RED, then=Value(0)),
            When(state=AlertState.OPEN, severity=Severity.ORANGE, then=Value(1)),
            When(state=AlertState.OPEN, then=Value(2)),
            When(state=AlertState.ACKNOWLEDGED, then=Value(3)),
            default=Value(4),
            output_field=IntegerField(),
        )
    ).order_by("_rank", "-raised_at", "-id")


def filter_alerts(qs: QuerySet[Alert], d: dict[str, Any], user: Any) -> QuerySet[Alert]:
    state = d.get("state") or ""
    if state == "active":
        qs = qs.exclude(state=AlertState.CLOSED)
    elif state:
        qs = qs.filter(state=state)
    if d.get("severity"):
        qs = qs.filter(severity=d["severity"])
    if d.get("rule"):
        qs = qs.filter(rule=d["rule"])
    if d.get("unit"):
        unit = Unit.objects.filter(pk=d["unit"]).first()
        qs = qs.filter(unit__path__startswith=unit.path) if unit else qs.none()
    tz = timezone.get_current_timezone()
    if d.get("date_from"):
        qs = qs.filter(raised_at__gte=dt.datetime.combine(d["date_from"], dt.time.min, tz))
    if d.get("date_to"):
        end = d["date_to"] + dt.timedelta(days=1)
        qs = qs.filter(raised_at__lt=dt.datetime.combine(end, dt.time.min, tz))
    if d.get("mine"):
        qs = qs.filter(owner_id=user.pk)
    q = (d.get("q") or "").strip()
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(detail__icontains=q))
    return qs


def _scope_units(user: Any) -> QuerySet[Unit]:
    return Unit.objects.filter(pk__in=policy.scope_ids(user), is_active=True).order_by("path")


@login_required
def alert_list(request: HttpRequest, **kwargs: object) -> HttpResponse:
    _require_reader(request)
    form = AlertFilterForm(request.GET or None)
    d = form.cleaned_data if form.is_valid() else {}
    qs = filter_alerts(policy.alerts_visible_to(request.user), d, request.user)
    qs = urgency_order(qs).select_related("unit", "owner")
    page, query = paginate(request, qs, PAGE_SIZE)
    rules = dict(WarningRule.objects.values_list("code", "name"))
    rows = list(page.object_list)
    for a in rows:
        a.rule_name = rules.get(a.rule, a.rule)  # type: ignore[attr-defined]
    context = {
        "pv_tab": "alerts",
        "form": form,
        "page": page,
        "rows": rows,
        "query": query,
        "units": _scope_units(request.user),
        "open_count": policy.alerts_visible_to(request.user).filter(state=AlertState.OPEN).count(),
    }
    template = (
        "prevention/alerts/_list_table.html"
        if request.headers.get("HX-Request")
        else "prevention/alerts/list.html"
    )
    return render(request, template, context)


def _visible_alert(request: HttpRequest, pk: int) -> Alert:
    _require_reader(request)
    return get_object_or_404(
        policy.alerts_visible_to(request.user).select_related(
            "unit",
            "owner",
            "acknowledged_by",
            "closed_by",
            "case",
            "dispute",
            "informant_report",
            "group",
        ),
        pk=pk,
    )


def cases_behind(user: Any, alert: Alert) -> tuple[list[Any], int]:
    """The cases behind the alert's count that ``user`` may see (at most ``CASES_SHOWN``) and
    how many of them there are."""
    from xinfang.cases.policy import cases_visible_to

    data = alert.data or {}
    qs = cases_visible_to(user)
    if alert.rule in ("spike_place", "spike_topic") and data.get("window_start"):
        start = dt.date.fromisoformat(data["window_start"])
        end = dt.date.fromisoformat(data["window_end"]) + dt.timedelta(days=1)
        tz = timezone.get_current_timezone()
        qs = qs.filter(
            received_at__gte=dt.datetime.combine(start, dt.time.min, tz),
            received_at__lt=dt.datetime.combine(end, dt.time.min, tz),
        ).exclude(status="merged")
        if alert.rule == "spike_place":
            unit = Unit.objects.filter(pk=int(data.get("place_unit_id") or 0)).first()
            if unit is None:
                return [], 0
            qs = qs.filter(W.place_cases_q(unit))
        else:
            from xinfang.cases.selectors import category_subtree_ids

            qs = qs.filter(category_id__in=category_subtree_ids(int(data.get("category_id", 0))))
    elif alert.rule == "group_cluster" and data.get("case_numbers"):
        qs = qs.filter(number__in=list(data["case_numbers"]))
    else:
        return [], 0
    qs = qs.order_by("received_at", "id")
    return list(qs[:CASES_SHOWN]), qs.count()


def _linked(user: Any, alert: Alert) -> dict[str, Any]:
    """Linked objects, each only if the viewer may see it."""
    from xinfang.cases.policy import cases_visible_to

    out: dict[str, Any] = {}
    if alert.case_id and cases_visible_to(user).filter(pk=alert.case_id).exists():
        out["case"] = alert.case
    earlier = (alert.data or {}).get("earlier_case_id")
    if earlier:
        out["earlier_case"] = cases_visible_to(user).filter(pk=earlier).first()
    if alert.dispute_id and policy.disputes_visible_to(user).filter(pk=alert.dispute_id).exists():
        out["dispute"] = alert.dispute
    if (
        alert.informant_report_id
        and policy.informant_reports_visible_to(user).filter(pk=alert.informant_report_id).exists()
    ):
        out["report"] = alert.informant_report
    if alert.group_id:
        out["group"] = alert.group
    return out


def _detail(
    request: HttpRequest,
    alert: Alert,
    *,
    forms: dict[str, Any] | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    user = request.user
    forms = forms or {}
    may_act = policy.may_act_on_alert(user, alert)
    owners = W.assignable_owners(alert) if may_act and alert.state != AlertState.CLOSED else []
    cases, case_count = cases_behind(user, alert)
    rule = WarningRule.objects.filter(code=alert.rule).first()
    log = [
        {
            "kind": e.kind,
            "label": W.LOG_LABELS.get(e.kind, e.kind),
            "by_name": (e.actor.get_full_name() or e.actor.username) if e.actor else "系统",
            "when": timezone.localtime(e.at),
            "text": e.text,
        }
        for e in alert.events.select_related("actor").order_by("at", "id")
    ]
    context = {
        "pv_tab": "alerts",
        "alert": alert,
        "rule": rule,
        "data": alert.data or {},
        "may_act": may_act,
        "ack_form": forms.get("ack") or AckForm(),
        "close_form": forms.get("close") or CloseForm(),
        "assign_form": forms.get("assign") or AssignForm(owners=owners),
        "owners": owners,
        "cases": cases,
        "case_count": case_count,
        "log": log,
        "error": error,
        **_linked(user, alert),
    }
    return render(request, "prevention/alerts/detail.html", context, status=status)


@login_required
def alert_detail(request: HttpRequest, pk: int, **kwargs: object) -> HttpResponse:
    return _detail(request, _visible_alert(request, pk))


@login_required
@require_POST
def alert_act(request: HttpRequest, pk: int, **kwargs: object) -> HttpResponse:
    alert = _visible_alert(request, pk)
    action = request.POST.get("action", "")
    forms: dict[str, Any] = {}
    try:
        if action == "ack":
            forms["ack"] = form = AckForm(request.POST)
            if not form.is_valid():
                return _detail(request, alert, forms=forms, status=400)
            W.alert_acknowledge(request.user, alert, form.cleaned_data.get("note", ""))
            messages.success(request, "已确认预警，请及时处置并填写处置结果")
        elif action == "close":
            forms["close"] = cform = CloseForm(request.POST)
            if not cform.is_valid():
                return _detail(request, alert, forms=forms, status=400)
            W.alert_close(request.user, alert, cform.cleaned_data["outcome"])
            messages.success(request, "预警已办结")
        elif action == "assign":
            policy.require_act_on_alert(request.user, alert)
            owners = W.assignable_owners(alert)
            forms["assign"] = aform = AssignForm(request.POST, owners=owners)
            if not aform.is_valid():
                return _detail(request, alert, forms=forms, status=400)
            owner = get_user_model().objects.filter(pk=aform.cleaned_data["owner"]).first()
            W.alert_assign(request.user, alert, owner)
            messages.success(request, "已更换负责人")
        else:
            raise Http404
    except PermissionDenied as exc:
        return _detail(request, alert, forms=forms, error=exc.message, status=403)
    except DomainError as exc:
        failed = forms.get(action)
        if failed is not None and exc.field in failed.fields:
            failed.add_error(exc.field, exc.message)
            return _detail(request, alert, forms=forms, status=400)
        alert.refresh_from_db()
        return _detail(request, alert, forms=forms, error=exc.message, status=400)
    return redirect("prevention_alert", pk=alert.pk)


# --- 预测预报 ---------------------------------------------------------------------------------


def forecast_units(user: Any) -> list[Unit]:
    """Units the user may summarise: those in scope that are not below a street (the district,
    its streets and departments, communities)."""
    return list(_scope_units(user))


def _forecast_args(request: HttpRequest) -> tuple[Unit, dt.date, list[Unit], str]:
    _require_reader(request)
    units = forecast_units(request.user)
    if not units:
        raise Http404
    form = ForecastForm(request.GET or None)
    d = form.cleaned_data if form.is_valid() else {}
    if request.GET.get("unit") and not d.get("unit"):
        raise Http404
    unit = units[0]
    if d.get("unit"):
        unit = next((u for u in units if u.pk == d["unit"]), None)  # type: ignore[assignment]
        if unit is None:
            raise Http404
    error = ""
    try:
        monday = W.parse_week(request.GET.get("week"))
    except DomainError as exc:
        error = exc.message
        monday = W.parse_week("")
    return unit, monday, units, error


@login_required
def forecast(request: HttpRequest, **kwargs: object) -> HttpResponse:
    unit, monday, units, error = _forecast_args(request)
    fc = W.forecast_for(unit, monday, policy.alerts_visible_to(request.user))
    context = {
        "pv_tab": "forecast",
        "fc": fc,
        "units": units,
        "error": error,
        "week_value": request.GET.get("week", "") if error else fc.week,
        "severity_labels": [W.SEVERITY_SHORT[s] for s in W.SEVERITY_SEQ],
        "generated_at": timezone.localtime(),
    }
    return render(request, "prevention/forecast.html", context, status=400 if error else 200)


@login_required
def forecast_docx(request: HttpRequest, **kwargs: object) -> HttpResponse:
    unit, monday, _units, error = _forecast_args(request)
    if error:
        return HttpResponse(error, status=400, content_type="text/plain; charset=utf-8")
    fc = W.forecast_for(unit, monday, policy.alerts_visible_to(request.user))
    body = forecast_docx_bytes(fc)
    from urllib.parse import quote

    name = f"预测预报-{unit.name}-{fc.week}.docx"
    response = HttpResponse(
        body,
        content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )
    response["Content-Disposition"] = (
        f"attachment; filename=\"forecast-{fc.week}.docx\"; filename*=UTF-8''{quote(name)}"
    )
    return response


def forecast_docx_bytes(fc: W.Forecast) -> bytes:
    """The 预测预报 as DOCX in the house style of ``documents.wordfile`` (A4, 仿宋 body,
    小标宋 title, 黑体 headings)."""
    import io

    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    from xinfang.documents import fonts as F
    from xinfang.documents.wordfile import (
        INDENT_2,
        _default_style,
        _page_setup,
        _para,
        set_run_font,
    )

    doc = Document()
    _page_setup(doc)
    _default_style(doc)
    _para(doc, fc.title, "xiaobiaosong", F.SIZE_TITLE, align=WD_ALIGN_PARAGRAPH.CENTER, indent=0)
    _para(
        doc,
        f"（{fc.monday:%Y年%m月%d日}至{fc.sunday:%Y年%m月%d日}）",
        "kaiti",
        F.SIZE_BODY,
        align=WD_ALIGN_PARAGRAPH.CENTER,
        indent=0,
    )
    _para(doc, "")
    _para(doc, fc.narrative)

    def heading(text: str) -> None:
        _para(doc, text, "heiti", F.SIZE_BODY, indent=INDENT_2)

    def table(head: list[str], rows: list[list[str]]) -> None:
        t = doc.add_table(rows=1, cols=len(head))
        t.style = "Table Grid"
        for i, h in enumerate(head):
            cell = t.rows[0].cells[i]
            cell.text = ""
            set_run_font(cell.paragraphs[0].add_run(h), "heiti", 12)
        for row in rows:
            cells = t.add_row().cells
            for i, v in enumerate(row):
                cells[i].text = ""
                set_run_font(cells[i].paragraphs[0].add_run(v), "fangsong", 12)
        for r in t.rows:
            for c in r.cells:
                for p in c.paragraphs:
                    p.paragraph_format.space_after = Pt(0)

    heading("一、预警情况")
    table(
        ["规则", "红色", "橙色", "黄色", "蓝色", "合计"],
        [[r["name"], *[str(n) for n in r["counts"]], str(r["total"])] for r in fc.by_rule]
        + [
            [
                "合计",
                *[str(fc.by_severity[s.value]) for s in W.SEVERITY_SEQ],
                str(fc.alerts_total),
            ]
        ],
    )
    if fc.spikes:
        heading("二、异常增长")
        table(
            ["预警", "实际", "预期", "p值", "时段"],
            [
                [
                    a.title,
                    str(a.data.get("observed", "")),
                    f"{float(a.data.get('expected', 0)):.1f}",
                    f"{float(a.data.get('p', 1)):.2g}",
                    f"{a.data.get('window_start', '')}至{a.data.get('window_end', '')}",
                ]
                for a in fc.spikes
            ],
        )
    heading("三、信息员紧急报告")
    if fc.urgent_reports:
        table(
            ["时间", "单位", "情形", "标题", "状态"],
            [
                [
                    f"{timezone.localtime(r.created_at):%m-%d %H:%M}",
                    r.unit.name,
                    r.get_signal_display(),
                    r.title,
                    r.get_state_display(),
                ]
                for r in fc.urgent_reports
            ],
        )
    else:
        _para(doc, "本周无紧急报告。")
    heading("四、矛盾纠纷与排查报告")
    table(
        ["新排查", "化解销号", "周末在册", "其中逾期", "排查应报", "已报", "逾期报送"],
        [
            [
                str(fc.disputes_new),
                str(fc.disputes_struck),
                str(fc.disputes_open),
                str(fc.disputes_overdue),
                str(fc.screening_expected),
                str(fc.screening_submitted),
                str(fc.screening_late),
            ]
        ],
    )
    _para(doc, "")
    _para(
        doc,
        f"{timezone.localtime():%Y年%m月%d日}",
        align=WD_ALIGN_PARAGRAPH.RIGHT,
        indent=0,
    )
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
