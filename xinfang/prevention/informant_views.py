"""信息员 pages: the network and the reports (staff), and the informant's phone pages (``m/``).

Thin: parse, call ``informants.py``, render. Reports are fetched through
``policy.informant_reports_visible_to`` (another unit's report is a 404); an act refused inside
the scope is a 403 page with the Chinese message. The phone pages show an informant only their
own reports and never internal notes or case data.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from xinfang.core.errors import DomainError, PermissionDenied
from xinfang.core.paging import paginate
from xinfang.org.models import Unit, UnitType
from xinfang.prevention import informants as I
from xinfang.prevention import policy
from xinfang.prevention.informant_forms import (
    CloseForm,
    DisputeFromReportForm,
    InformantAddForm,
    InformantEndForm,
    InformantFilterForm,
    MobileReportForm,
    NoteForm,
    ReportFilterForm,
)
from xinfang.prevention.models import (
    Informant,
    InformantReport,
    InformantReportState,
    RiskLevel,
    Urgency,
)

PAGE_SIZE = 30
MOBILE_RECENT = 20


def _staff_or_404(request: HttpRequest) -> None:
    if not policy.may_use_prevention(request.user):
        raise Http404


# --- the network ---------------------------------------------------------------------------


@login_required
def informant_list(request: HttpRequest) -> HttpResponse:
    _staff_or_404(request)
    add_form = InformantAddForm()
    end_form = InformantEndForm()
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "end":
                end_form = InformantEndForm(request.POST)
                if end_form.is_valid():
                    row = get_object_or_404(
                        Informant.objects.filter(unit_id__in=policy.scope_ids(request.user)),
                        pk=end_form.cleaned_data["informant"],
                    )
                    I.informant_end(request.user, row, end_form.cleaned_data["reason"])
                    messages.success(request, "已解聘该信息员")
                    return redirect(request.get_full_path())
            else:
                add_form = InformantAddForm(request.POST)
                if add_form.is_valid():
                    d = add_form.cleaned_data
                    unit = Unit.objects.filter(
                        pk=d["unit"], pk__in=policy.scope_ids(request.user)
                    ).first()
                    user = get_user_model().objects.filter(username=d["username"].strip()).first()
                    if unit is None:
                        add_form.add_error("unit", "请选择您辖区内的单位")
                    elif user is None:
                        add_form.add_error("username", "没有这个用户名，请先请系统管理员开通账号")
                    else:
                        I.informant_add(
                            request.user,
                            user=user,
                            unit=unit,
                            phone=d.get("phone") or "",
                            since=d.get("since"),
                            note=d.get("note") or "",
                        )
                        who = user.get_full_name() or user.username
                        messages.success(request, f"已聘任 {who} 为「{unit.name}」信息员")
                        return redirect(request.get_full_path())
        except PermissionDenied as exc:
            messages.error(request, exc.message)
            status = 403
        except DomainError as exc:
            target = end_form if action == "end" else add_form
            field = "username" if exc.field == "user" else exc.field
            target.add_error(field if field in target.fields else None, exc.message)
        if status == 200:
            status = 400
    form = InformantFilterForm(request.GET or None)
    d = form.cleaned_data if form.is_valid() else {}
    ids = policy.scope_ids(request.user)
    active = Q(informants__is_active=True)
    units = Unit.objects.filter(pk__in=ids, is_active=True).annotate(
        n_informants=Count("informants", filter=active)
    )
    if d.get("community"):
        units = units.filter(unit_type=UnitType.COMMUNITY)
    if d.get("staffed") == "none":
        units = units.filter(n_informants=0)
    elif d.get("staffed") == "yes":
        units = units.filter(n_informants__gt=0)
    q = (d.get("q") or "").strip()
    if q:
        units = units.filter(
            Q(name__icontains=q)
            | Q(informants__is_active=True, informants__user__first_name__icontains=q)
            | Q(informants__is_active=True, informants__user__username__icontains=q)
        ).distinct()
    units = units.order_by("path").prefetch_related(
        Prefetch(
            "informants",
            queryset=Informant.objects.filter(is_active=True).select_related("user"),
            to_attr="active_informants",
        )
    )
    page, query = paginate(request, units, PAGE_SIZE)
    rows = list(page.object_list)
    for u in rows:
        u.may_manage = I.may_manage_informants(request.user, u)  # type: ignore[attr-defined]
    manageable = [
        u
        for u in Unit.objects.filter(pk__in=ids, is_active=True).order_by("path")
        if I.may_manage_informants(request.user, u)
    ]
    unstaffed = (
        Unit.objects.filter(pk__in=ids, is_active=True, unit_type=UnitType.COMMUNITY)
        .exclude(informants__is_active=True)
        .count()
    )
    return render(
        request,
        "prevention/informants/list.html",
        {
            "pv_tab": "informants",
            "form": form,
            "page": page,
            "rows": rows,
            "query": query,
            "add_form": add_form,
            "end_form": end_form,
            "manageable": manageable,
            "unstaffed": unstaffed,
        },
        status=status,
    )


# --- reports (staff) -----------------------------------------------------------------------


@login_required
def report_list(request: HttpRequest) -> HttpResponse:
    if not policy.may_use_prevention(request.user):
        if policy.is_informant(request.user):
            return redirect("prevention_mobile")
        raise Http404
    form = ReportFilterForm(request.GET or None)
    d = form.cleaned_data if form.is_valid() else {}
    qs = policy.informant_reports_visible_to(request.user)
    for key in ("urgency", "signal", "state"):
        if d.get(key):
            qs = qs.filter(**{key: d[key]})
    if d.get("unit"):
        unit = Unit.objects.filter(pk=d["unit"]).first()
        qs = qs.filter(unit__path__startswith=unit.path) if unit else qs.none()
    if d.get("date_from"):
        qs = qs.filter(created_at__date__gte=d["date_from"])
    if d.get("date_to"):
        qs = qs.filter(created_at__date__lte=d["date_to"])
    q = (d.get("q") or "").strip()
    if q:
        qs = qs.filter(
            Q(title__icontains=q)
            | Q(text__icontains=q)
            | Q(place_text__icontains=q)
            | Q(unit__name__icontains=q)
            | Q(informant__user__first_name__icontains=q)
        )
    qs = I.urgent_first(qs).select_related("unit", "informant__user", "acknowledged_by")
    page, query = paginate(request, qs, PAGE_SIZE)
    context = {
        "pv_tab": "reports",
        "form": form,
        "page": page,
        "rows": list(page.object_list),
        "query": query,
        "units": Unit.objects.filter(
            pk__in=policy.scope_ids(request.user), is_active=True
        ).order_by("path"),
        "waiting": policy.informant_reports_visible_to(request.user)
        .filter(urgency=Urgency.URGENT, state=InformantReportState.NEW)
        .count(),
    }
    template = (
        "prevention/informants/_report_table.html"
        if request.headers.get("HX-Request")
        else "prevention/informants/report_list.html"
    )
    return render(request, template, context)


def _report_or_404(request: HttpRequest, pk: int) -> InformantReport:
    return get_object_or_404(
        policy.informant_reports_visible_to(request.user).select_related(
            "unit", "informant__user", "acknowledged_by", "closed_by"
        ),
        pk=pk,
    )


def _detail(
    request: HttpRequest,
    report: InformantReport,
    *,
    forms: dict[str, Any] | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    from xinfang.prevention.models import Dispute

    forms = forms or {}
    can_handle = policy.may_handle_report(request.user, report)
    disputes = list(Dispute.objects.filter(informant_report=report).order_by("id"))
    dispute_form = forms.get("dispute") or DisputeFromReportForm(
        initial={
            "title": report.title,
            "description": report.text,
            "unit": report.unit_id,
            "headcount": report.headcount or 1,
            "risk_level": RiskLevel.HIGH if report.urgency == Urgency.URGENT else RiskLevel.MEDIUM,
        }
    )
    unit = report.unit
    in_scope = Unit.objects.filter(pk__in=policy.scope_ids(request.user), is_active=True).order_by(
        "path"
    )
    responsible = [
        u for u in in_scope if u.path.startswith(unit.path) or unit.path.startswith(u.path)
    ]
    return render(
        request,
        "prevention/informants/report_detail.html",
        {
            "pv_tab": "reports",
            "report": report,
            "events": list(report.events.select_related("actor").all()),
            "alerts": list(report.alerts.all()),
            "disputes": disputes,
            "can_handle": can_handle,
            "note_form": forms.get("note") or NoteForm(),
            "close_form": forms.get("close") or CloseForm(),
            "dispute_form": dispute_form,
            "responsible_units": responsible,
            "risk_levels": RiskLevel.choices,
            "error": error,
        },
        status=status,
    )


@login_required
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    report = _report_or_404(request, pk)
    if not policy.may_use_prevention(request.user):
        return redirect("prevention_mobile_report", pk=report.pk)
    return _detail(request, report)


@login_required
@require_POST
def report_act(request: HttpRequest, pk: int) -> HttpResponse:
    report = _report_or_404(request, pk)
    if not policy.may_use_prevention(request.user):
        raise Http404
    action = request.POST.get("action", "")
    forms: dict[str, Any] = {}
    try:
        if action == "ack":
            I.report_acknowledge(request.user, report)
            messages.success(request, "已确认收到，请组织处置")
        elif action == "note":
            forms["note"] = form = NoteForm(request.POST)
            if not form.is_valid():
                return _detail(request, report, forms=forms, status=400)
            I.report_note(request.user, report, form.cleaned_data["text"])
            messages.success(request, "已记录处置情况")
        elif action == "close":
            forms["close"] = cform = CloseForm(request.POST)
            if not cform.is_valid():
                return _detail(request, report, forms=forms, status=400)
            I.report_close(request.user, report, cform.cleaned_data["outcome"])
            messages.success(request, "报告已办结")
        elif action == "dispute":
            forms["dispute"] = dform = DisputeFromReportForm(request.POST)
            if not dform.is_valid():
                return _detail(request, report, forms=forms, status=400)
            d = dform.cleaned_data
            unit = Unit.objects.filter(pk=d["unit"]).first()
            if unit is None:
                dform.add_error("unit", "请选择责任单位")
                return _detail(request, report, forms=forms, status=400)
            dispute = I.report_to_dispute(
                request.user,
                report,
                title=d["title"],
                description=d["description"],
                parties=d["parties"],
                risk_level=d["risk_level"],
                unit=unit,
                headcount=d["headcount"],
                due_on=d.get("due_on"),
            )
            messages.success(request, f"已登记为矛盾纠纷 {dispute.number}")
            return redirect("prevention_dispute", pk=dispute.pk)
        else:
            raise Http404
    except PermissionDenied as exc:
        return _detail(request, report, forms=forms, error=exc.message, status=403)
    except DomainError as exc:
        failed = forms.get(action)
        if failed is not None and exc.field in failed.fields:
            failed.add_error(exc.field, exc.message)
            return _detail(request, report, forms=forms, status=400)
        report.refresh_from_db()
        return _detail(request, report, forms=forms, error=exc.message, status=400)
    return redirect("prevention_report", pk=report.pk)


# --- the informant's phone pages -----------------------------------------------------------


def _uid(request: HttpRequest) -> int:
    return int(request.user.pk or 0)


def _mine(request: HttpRequest) -> QuerySet[InformantReport]:
    return InformantReport.objects.filter(informant__user_id=_uid(request))


def _require_informant(request: HttpRequest) -> None:
    if not Informant.objects.filter(user_id=_uid(request)).exists():
        raise Http404


@login_required
def mobile_home(request: HttpRequest) -> HttpResponse:
    _require_informant(request)
    posts = list(
        Informant.objects.filter(user_id=_uid(request), is_active=True)
        .select_related("unit")
        .order_by("unit__path")
    )
    recent = list(
        _mine(request)
        .select_related("unit", "acknowledged_by")
        .order_by("-created_at", "-id")[:MOBILE_RECENT]
    )
    return render(
        request,
        "prevention/informants/mobile_home.html",
        {"posts": posts, "recent": recent},
    )


@login_required
def mobile_new(request: HttpRequest) -> HttpResponse:
    _require_informant(request)
    units = list(I.report_units(request.user))
    status = 200
    if request.method == "POST":
        form = MobileReportForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            unit = Unit.objects.filter(pk=d["unit"]).first()
            if unit is None:
                form.add_error("unit", "请选择单位")
            else:
                try:
                    report = I.report_submit(
                        request.user,
                        unit=unit,
                        urgency=d["urgency"],
                        signal=d.get("signal") or "",
                        title=d["title"],
                        text=d["text"],
                        place_text=d.get("place_text") or "",
                        headcount=d.get("headcount"),
                        expected_at=d.get("expected_at"),
                        destination=d.get("destination") or "",
                        client_key=d["client_key"],
                    )
                except DomainError as exc:
                    form.add_error(exc.field if exc.field in form.fields else None, exc.message)
                else:
                    if report.urgency == Urgency.URGENT:
                        messages.success(request, "紧急报告已送达，领导和信访部门已收到预警")
                    else:
                        messages.success(request, "报告已提交")
                    return redirect("prevention_mobile_report", pk=report.pk)
        status = 400
    else:
        urgent = request.GET.get("urgent") == "1"
        initial: dict[str, Any] = {"urgency": Urgency.URGENT if urgent else Urgency.ROUTINE}
        if len(units) == 1:
            initial["unit"] = units[0].pk
        form = MobileReportForm(initial=initial)
    return render(
        request,
        "prevention/informants/mobile_new.html",
        {
            "form": form,
            "units": units,
            "urgent": (form["urgency"].value() or "") == Urgency.URGENT,
        },
        status=status,
    )


@login_required
def mobile_report(request: HttpRequest, pk: int) -> HttpResponse:
    report = get_object_or_404(_mine(request).select_related("unit", "acknowledged_by"), pk=pk)
    return render(
        request,
        "prevention/informants/mobile_report.html",
        {"report": report, "now": timezone.now()},
    )
