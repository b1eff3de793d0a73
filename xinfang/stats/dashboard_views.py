"""领导看板 pages: /stats/ (stats_dashboard) and its A4 landscape print layout /stats/print/
(stats_dashboard_print). Data from ``stats.dashboard.build``; charts by ``stats.charts``."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from xinfang.org.models import Unit
from xinfang.stats import dashboard as D
from xinfang.stats import policy
from xinfang.stats.charts import Chart
from xinfang.stats.periods import Period

MAX_DAYS = 3 * 366 + 1


def read_period(params: Any, today: dt.date) -> tuple[Period, str]:
    """The period of ``?start=&end=`` (default 本月 to date) and a Chinese error ('' if none)."""
    start, end = (params.get("start") or "").strip(), (params.get("end") or "").strip()
    if not start and not end:
        return D.default_period(today), ""
    if not start or not end:
        return D.default_period(today), "请同时填写开始日期和结束日期"
    try:
        period = Period.parse(start, end)
    except ValueError as exc:
        return D.default_period(today), str(exc)
    if period.days > MAX_DAYS:
        return D.default_period(today), "统计期不能超过3年，请缩短日期范围"
    if period.start.year < 2000 or period.end > today + dt.timedelta(days=366):
        return D.default_period(today), "统计期超出可统计的范围"
    return period, ""


def dashboard_context(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    if not policy.may_read_stats(user):
        raise Http404("无统计查看权限")
    unit = policy.scope_unit(user, request.GET.get("unit"))
    today = timezone.localdate()
    period, error = read_period(request.GET, today)
    data = D.build(user, unit, period, today)
    return {
        "st_tab": "dashboard",
        "scope": unit,
        "scope_roots": policy.scope_roots(user),
        "scope_units": _scope_units(user),
        "period": period,
        "d": data,
        "charts": charts(data),
        "error": error,
        "start_value": (request.GET.get("start") or period.start.isoformat())[:20],
        "end_value": (request.GET.get("end") or period.end.isoformat())[:20],
        "quick": [
            {"label": label, "start": p.start.isoformat(), "end": p.end.isoformat()}
            for label, p in D.quick_periods(today)
        ],
    }


def _scope_units(user: Any) -> list[dict[str, Any]]:
    rows = Unit.objects.filter(pk__in=policy.scope_ids(user)).order_by("path")
    units = list(rows.values_list("pk", "name", "path"))
    top = min((p.count(".") for _, _, p in units), default=0)
    return [
        {"id": pk, "name": name, "indent": "　" * (path.count(".") - top)}
        for pk, name, path in units
    ]


def charts(d: dict[str, Any]) -> dict[str, Any]:
    """Inline SVG charts of the dashboard's figures (cached by ``stats.charts``)."""

    def svg(chart: Chart) -> Any:
        # As an <img> of a data: URI, not inline: matplotlib's SVG styles its shapes with
        # style="…" attributes, which the page's CSP (style-src 'self') blocks inline (the
        # charts turn black); an image document is not subject to the page's CSP.
        data = base64.b64encode(chart.svg().encode("utf-8")).decode("ascii")
        return format_html(
            '<img src="data:image/svg+xml;base64,{}" alt="{}" class="chart-img">', data, chart.alt
        )

    trend = d["trend"]
    out: dict[str, Any] = {
        "trend": svg(
            Chart.of(
                "line",
                "近12个月信访量",
                [t["short"] for t in trend],
                {"批次": [t["batches"] for t in trend], "人次": [t["persons"] for t in trend]},
                width=7.0,
                height=2.8,
            )
        ),
        "daily": svg(
            Chart.of(
                "bar",
                f"{d['period']['end'].month}月逐日信访量",
                [str(x["day"].day) for x in d["daily"]],
                {"批次": [x["batches"] for x in d["daily"]]},
                width=7.0,
                height=2.8,
            )
        ),
    }
    for key, title, kind in (
        ("channels", "按渠道", "bar"),
        ("kinds", "按形式", "bar"),
        ("topics", "按内容分类（前10）", "hbar"),
        ("places", "按问题属地", "hbar"),
    ):
        rows = d[key]
        if not any(r["batches"] for r in rows):
            out[key] = ""
            continue
        if kind == "hbar":
            chart = Chart.of(
                kind,
                title + "（批次）",
                [r["label"] for r in rows],
                {"批次": [r["batches"] for r in rows]},
                width=4.6,
                height=max(1.6, 0.32 * len(rows) + 0.8),
            )
        else:
            chart = Chart.of(
                kind,
                title,
                [r["label"] for r in rows],
                {"批次": [r["batches"] for r in rows], "人次": [r["persons"] for r in rows]},
                width=4.6,
                height=2.6,
            )
        out[key] = svg(chart)
    return out


@login_required
@never_cache
@require_GET
def dashboard(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return render(request, "stats/dashboard.html", dashboard_context(request))


@login_required
@never_cache
@require_GET
def dashboard_print(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return render(request, "stats/dashboard_print.html", dashboard_context(request))
