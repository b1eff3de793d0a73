"""考核排名 pages: the KPI table with scores and ranks (+ XLSX), the scheme, 一票否决.

Thin: parse, call ``stats.kpi``, render. Readers of statistics only (``policy``): a unit
outside the reader's scope is a 404; the scheme and the flags are changed by assessment
managers only (others: the 403 page). Figures come from the rollups (``kpi.ranking``): the
page's query count does not grow with the number of units.
"""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import quote, urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from xinfang.core.errors import DomainError, PermissionDenied
from xinfang.org.models import Unit
from xinfang.stats import kpi, policy
from xinfang.stats.charts import Chart
from xinfang.stats.forms import figure_url as cases_url
from xinfang.stats.kpi_forms import PeriodForm, RevokeForm, SchemeForm, VetoForm, default_period
from xinfang.stats.periods import Period

# --- helpers -------------------------------------------------------------------------------


def _reader(request: HttpRequest) -> None:
    if not policy.may_read_stats(request.user):
        raise Http404("无统计查看权限")


def _forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(
        request, "stats/kpi_forbidden.html", {"message": message, "st_tab": "kpi"}, status=403
    )


def _base(request: HttpRequest, scope: Unit, period: Period) -> dict[str, Any]:
    return {
        "st_tab": "kpi",
        "scope": scope,
        "scope_roots": policy.scope_roots(request.user),
        "period": period,
        "may_manage": policy.may_manage_assessment(request.user),
    }


def _scope_units(user: Any) -> list[Unit]:
    return list(Unit.objects.filter(pk__in=policy.scope_ids(user)).order_by("path"))


def figure_url(period: Period, row: kpi.Row, measure: str) -> str:
    """The cases behind a handling figure of ``row`` (``stats_cases``, built by
    ``stats.forms.figure_url``); the 本级 row is the scope unit alone (``hunit``)."""
    return cases_url(
        table="h",
        measure=measure,
        start=period.start,
        end=period.end,
        unit=row.unit.pk,
        hunit=row.unit.pk if row.role == "self" else None,
    )


def overdue_url(row: kpi.Row) -> str:
    return f"{reverse('case_list')}?{urlencode({'unit': row.unit.pk, 'deadline': 'overdue'})}"


def _cells(ranking: kpi.Ranking) -> list[dict[str, Any]]:
    """The table rows with their links (kept out of the template)."""
    labels = kpi.veto_labels(ranking.scheme)
    out = []
    for row in ranking.all_rows:
        rates = []
        for r in row.rates:
            live = (
                row.figures.get("accept_pending", 0)
                if r.kpi.code == "timely_accept"
                else row.figures.get("reply_pending", 0)
                if r.kpi.code == "on_time_reply"
                else row.figures.get("backlog_start", 0)
                if r.kpi.code == "backlog_resolve"
                else 0
            )
            rates.append(
                {
                    "rate": r,
                    "num_url": figure_url(ranking.period, row, r.kpi.num_measure),
                    "den_url": figure_url(ranking.period, row, r.kpi.den_measure),
                    "den_rolled": r.den - live,
                    "live": live,
                }
            )
        out.append(
            {
                "row": row,
                "rates": rates,
                "overdue_url": overdue_url(row),
                "veto_title": "；".join(
                    f"{labels.get(f.code, f.code)}（{f.unit.name}）" for f in row.vetoes
                ),
                "backlog_end_url": figure_url(ranking.period, row, "backlog_in"),
            }
        )
    return out


def _chart(ranking: kpi.Ranking) -> Chart | None:
    rows = [r for r in ranking.rows if r.score is not None]
    if not rows:
        return None
    return Chart.of(
        "hbar",
        f"考核得分（{ranking.period.range_label()}）",
        [r.unit.name + ("（否决）" if r.vetoed else "") for r in rows],
        {"得分": [float(r.score or 0) for r in rows]},
        height=max(1.6, 0.45 * len(rows) + 0.8),
    )


def _data_uri(chart: Chart) -> str:
    """The SVG as an image: inline SVG's style attributes are refused by the page's CSP
    (style-src 'self'), an image document is not subject to it."""
    import base64

    return "data:image/svg+xml;base64," + base64.b64encode(chart.svg().encode()).decode()


# --- the KPI page ----------------------------------------------------------------------------


@login_required
def kpi_page(request: HttpRequest) -> HttpResponse:
    _reader(request)
    scope = policy.scope_unit(request.user, request.GET.get("unit"))
    today = timezone.localdate()
    form = PeriodForm(request.GET or None)
    period = form.period(today) if request.GET else default_period(today)
    status = 200
    if period is None:
        period, status = default_period(today), 400
    ranking = kpi.ranking(period, scope)
    if request.GET.get("format") == "xlsx" and status == 200:
        return _xlsx(request, ranking)
    chart = _chart(ranking)
    query = {"unit": scope.pk, "start": period.start.isoformat(), "end": period.end.isoformat()}
    context = {
        **_base(request, scope, period),
        "form": form,
        "ranking": ranking,
        "table": _cells(ranking),
        "kpis": kpi.KPIS,
        "kpi_weights": [{"kpi": k, "weight": ranking.weights.get(k.code, 0)} for k in kpi.KPIS],
        "zero_label": kpi.ZERO_POLICIES[kpi.zero_policy(ranking.scheme)],
        "grades": kpi.grades_of(ranking.scheme),
        "veto_labels": kpi.veto_labels(ranking.scheme),
        "chart_src": _data_uri(chart) if chart else "",
        "chart_alt": chart.alt if chart else "",
        "units": _scope_units(request.user),
        "xlsx_url": f"{reverse('stats_kpi')}?{urlencode({**query, 'format': 'xlsx'})}",
    }
    return render(request, "stats/kpi.html", context, status=status)


def _xlsx(request: HttpRequest, ranking: kpi.Ranking) -> HttpResponse:
    """The table as XLSX (XlsxWriter); an ``export`` audit row first."""
    import xlsxwriter

    from xinfang.audit.services import audit_record

    rows = ranking.all_rows
    audit_record(
        action="export",
        actor=request.user,
        object_type="stats_kpi",
        object_id=ranking.scope.pk,
        summary=f"导出考核排名（{ranking.scope.name}，{ranking.period.range_label()}）",
        detail={
            "unit_id": ranking.scope.pk,
            "start": ranking.period.start.isoformat(),
            "end": ranking.period.end.isoformat(),
            "rows": len(rows),
            "format": "xlsx",
        },
        request=request,
    )
    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"in_memory": True})
    sheet = book.add_worksheet("考核排名")
    head = book.add_format({"bold": True, "bg_color": "#e8eef7", "border": 1, "text_wrap": True})
    pct = book.add_format({"num_format": "0.0%", "border": 1})
    num = book.add_format({"border": 1})
    title = book.add_format({"bold": True, "font_size": 14})
    sheet.write(0, 0, f"{ranking.scope.name}考核排名（{ranking.period.range_label()}）", title)
    sheet.write(1, 0, f"考核方案：{ranking.scheme.name}（内部资料）")
    cols = ["名次", "单位", "得分", "等次", "一票否决"]
    for k in kpi.KPIS:
        cols += [f"{k.name}", f"{k.name}分子", f"{k.name}分母"]
    cols += ["超期件数（当前）", "期初积案", "期末积案", "积案减少"]
    for c, name in enumerate(cols):
        sheet.write(3, c, name, head)
    labels = kpi.veto_labels(ranking.scheme)
    for i, row in enumerate(rows, start=4):
        values: list[Any] = [
            row.rank if row.rank is not None else "",
            row.label,
            float(row.score) if row.score is not None else "—",
            row.grade,
            "；".join(labels.get(f.code, f.code) for f in row.vetoes),
        ]
        for r in row.rates:
            v = r.value
            values += [float(v) if v is not None else "—", r.num, r.den]
        values += [
            row.figures.get("overdue", 0),
            row.figures.get("backlog_start", 0),
            row.figures.get("backlog_end", 0),
            row.backlog_reduced,
        ]
        for c, value in enumerate(values):
            is_rate = 5 <= c < 5 + 3 * len(kpi.KPIS) and (c - 5) % 3 == 0
            sheet.write(i, c, value, pct if is_rate and value != "—" else num)
    sheet.set_column(1, 1, 22)
    sheet.set_column(2, len(cols), 11)
    sheet.freeze_panes(4, 2)
    notes = book.add_worksheet("指标口径")
    notes.write_row(0, 0, ["指标", "权重", "计算公式"], head)
    for i, k in enumerate(kpi.KPIS, start=1):
        notes.write_row(i, 0, [k.name, ranking.weights.get(k.code, 0), k.formula])
    notes.set_column(0, 0, 14)
    notes.set_column(2, 2, 80)
    book.close()
    response = HttpResponse(
        buf.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    stamp = f"{ranking.period.start:%Y%m%d}-{ranking.period.end:%Y%m%d}"
    response["Content-Disposition"] = (
        f'attachment; filename="kpi-{stamp}.xlsx"; '
        f"filename*=UTF-8''{quote(f'考核排名-{ranking.scope.name}-{stamp}.xlsx')}"
    )
    response["Cache-Control"] = "no-store, private"
    return response


# --- the scheme ------------------------------------------------------------------------------


@login_required
def scheme_edit(request: HttpRequest) -> HttpResponse:
    _reader(request)
    scope = policy.scope_unit(request.user, request.GET.get("unit"))
    period = default_period(timezone.localdate())
    scheme = kpi.ensure_default_scheme()
    may_manage = policy.may_manage_assessment(request.user)
    status = 200
    if request.method == "POST":
        if not may_manage:
            return _forbidden(request, "只有信访部门的领导或办案员可以修改考核方案")
        form = SchemeForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            try:
                kpi.scheme_update(
                    scheme=scheme,
                    by=request.user,
                    weights={k.code: d[k.code] for k in kpi.KPIS},
                    veto_rules=d["veto_rules"],
                    zero=d["zero"],
                    grades=(d["grade_excellent"], d["grade_good"], d["grade_pass"]),
                )
            except PermissionDenied as exc:
                return _forbidden(request, exc.message)
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, "考核方案已保存，排名按新权重计算")
                return redirect(f"{reverse('stats_kpi')}?unit={scope.pk}")
        status = 400
    else:
        form = SchemeForm(initial=SchemeForm.initial_of(scheme))
    context = {
        **_base(request, scope, period),
        "form": form,
        "scheme": scheme,
        "kpis": kpi.KPIS,
    }
    return render(request, "stats/kpi_scheme.html", context, status=status)


# --- 一票否决 ----------------------------------------------------------------------------------


def _veto_form(request: HttpRequest, scheme: Any, data: Any = None) -> VetoForm:
    return VetoForm(
        data, units=_scope_units(request.user), rules=kpi.veto_labels(scheme), prefix="v"
    )


def _veto_page(
    request: HttpRequest,
    scheme: Any,
    form: VetoForm,
    *,
    status: int = 200,
    revoke_errors: dict[int, Any] | None = None,
) -> HttpResponse:
    scope = policy.scope_unit(request.user, request.GET.get("unit"))
    flags = list(kpi.vetoes_visible_to(request.user).order_by("-period_end", "-id")[:200])
    context = {
        **_base(request, scope, default_period(timezone.localdate())),
        "form": form,
        "flags": flags,
        "labels": kpi.veto_labels(scheme),
        "revoke_errors": revoke_errors or {},
    }
    return render(request, "stats/kpi_vetoes.html", context, status=status)


@login_required
def veto_list(request: HttpRequest) -> HttpResponse:
    _reader(request)
    scheme = kpi.ensure_default_scheme()
    if request.method != "POST":
        return _veto_page(request, scheme, _veto_form(request, scheme))
    if not policy.may_manage_assessment(request.user):
        return _forbidden(request, "只有信访部门的领导或办案员可以记录一票否决")
    form = _veto_form(request, scheme, request.POST)
    if not form.is_valid():
        return _veto_page(request, scheme, form, status=400)
    d = form.cleaned_data
    case = None
    if d.get("case_number"):
        from xinfang.cases.policy import cases_visible_to

        case = cases_visible_to(request.user).filter(number=d["case_number"].strip()).first()
        if case is None:
            form.add_error("case_number", "未找到该编号的信访事项（或不在您的权限范围内）")
            return _veto_page(request, scheme, form, status=400)
    unit = Unit.objects.get(pk=d["unit"])
    from xinfang.core.idempotency import form_key, post_fingerprint, replay_of, run_once

    key, fingerprint, scope = form_key(request), post_fingerprint(request), "stats_veto_add"
    if replay_of(user=request.user, key=key, scope=scope, fingerprint=fingerprint):
        messages.info(request, "该一票否决已记录，未重复记录")
        return redirect("stats_vetoes")
    try:
        run_once(
            user=request.user,
            key=key,
            scope=scope,
            fingerprint=fingerprint,
            effect=lambda: kpi.veto_add(
                scheme=scheme,
                by=request.user,
                unit=unit,
                code=d["code"],
                start=d["period_start"],
                end=d["period_end"],
                reason=d["reason"],
                case=case,
            ),
        )
    except PermissionDenied as exc:
        return _forbidden(request, exc.message)
    except DomainError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        return _veto_page(request, scheme, form, status=400)
    messages.success(request, f"已记录一票否决：{unit.name}")
    return redirect("stats_vetoes")


@login_required
@require_POST
def veto_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    _reader(request)
    flag = get_object_or_404(kpi.vetoes_visible_to(request.user), pk=pk)
    if not policy.may_manage_assessment(request.user):
        return _forbidden(request, "只有信访部门的领导或办案员可以撤销一票否决")
    scheme = kpi.ensure_default_scheme()
    form = RevokeForm(request.POST)
    if not form.is_valid():
        return _veto_page(
            request, scheme, _veto_form(request, scheme), status=400, revoke_errors={pk: form}
        )
    try:
        kpi.veto_revoke(flag=flag, by=request.user, reason=form.cleaned_data["reason"])
    except PermissionDenied as exc:
        return _forbidden(request, exc.message)
    except DomainError as exc:
        form.add_error("reason", exc.message)
        return _veto_page(
            request, scheme, _veto_form(request, scheme), status=400, revoke_errors={pk: form}
        )
    messages.success(request, f"已撤销一票否决：{flag.unit.name}")
    return redirect("stats_vetoes")
