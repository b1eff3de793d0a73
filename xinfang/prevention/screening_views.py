"""排查轮次 pages (helper B): the rounds, one round grouped by parent unit, a unit's report
form, and my pending reports. Thin: parse, call ``screening``, render. Rounds and reports are
fetched through ``screening.rounds_visible_to`` / ``reports_visible_to`` (outside → 404)."""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as Forbidden
from django.db.models import Count, F, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from xinfang.core.errors import DomainError, PermissionDenied
from xinfang.core.paging import paginate
from xinfang.org.models import Unit
from xinfang.prevention import policy
from xinfang.prevention import screening as S
from xinfang.prevention.models import Dispute, ReportState, ScreeningReport
from xinfang.prevention.rubric import RUBRIC
from xinfang.prevention.screening_forms import ReportInput, RoundFilterForm

PAGE_SIZE = 20


def _require_access(user: Any) -> None:
    if not (policy.may_use_prevention(user) or policy.reporting_units(user)):
        raise Forbidden("您没有查看排查轮次的权限")


@login_required
def round_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    _require_access(user)
    today = S.beijing_today()
    form = RoundFilterForm(request.GET or None)
    ids = S.visible_unit_ids(user)
    qs = S.rounds_visible_to(user).select_related("rule")
    if form.is_valid():
        f = form.cleaned_data
        if f["q"]:
            qs = qs.filter(Q(label__icontains=f["q"]) | Q(rule__name__icontains=f["q"]))
        if f["rule"]:
            qs = qs.filter(rule_id=f["rule"])
        if f["cadence"]:
            qs = qs.filter(rule__cadence=f["cadence"])
        if f["start"]:
            qs = qs.filter(period_end__gte=f["start"])
        if f["end"]:
            qs = qs.filter(period_start__lte=f["end"])
    mine = Q(reports__unit_id__in=ids)
    qs = qs.annotate(
        n_expected=Count("reports", filter=mine, distinct=True),
        n_submitted=Count(
            "reports", filter=mine & Q(reports__state=ReportState.SUBMITTED), distinct=True
        ),
        n_late_submitted=Count("reports", filter=mine & Q(reports__is_late=True), distinct=True),
    ).order_by("-period_start", "rule__priority")
    if form.is_valid() and form.cleaned_data["late"]:
        qs = qs.filter(
            Q(n_late_submitted__gt=0) | Q(due_on__lt=today, n_submitted__lt=F("n_expected"))
        )
    page, query = paginate(request, qs, PAGE_SIZE)
    for rnd in page.object_list:
        pending = rnd.n_expected - rnd.n_submitted
        rnd.n_late = rnd.n_late_submitted + (pending if today > rnd.due_on else 0)
        rnd.completion = round(100 * rnd.n_submitted / rnd.n_expected) if rnd.n_expected else 0
    return render(
        request,
        "prevention/rounds/list.html",
        {
            "pv_tab": "rounds",
            "form": form,
            "page": page,
            "query": query,
            "rows": page.object_list,
            "today": today,
            "my_count": len(S.my_pending(user, today)),
        },
    )


@login_required
def round_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    _require_access(user)
    rnd = get_object_or_404(S.rounds_visible_to(user).select_related("rule"), pk=pk)
    agg = S.round_aggregate(rnd, user)
    reporting = set(policy.reporting_units(user))
    q = (request.GET.get("q") or "").strip()
    state = request.GET.get("state", "")
    for group in agg["groups"]:
        rows = group.reports
        if q:
            rows = [r for r in rows if q in r.unit.name]
        if state == "pending":
            rows = [r for r in rows if r.state == ReportState.PENDING]
        elif state == "submitted":
            rows = [r for r in rows if r.state == ReportState.SUBMITTED]
        elif state == "late":
            rows = [r for r in rows if r.late]
        group.shown = rows
    # The created items of all reports in one query (was one per unit), and only those of the
    # units whose register the viewer reads (an 信息员 sees the counts, not the items).
    readable = set(policy.scope_ids(user))
    items: dict[int, list[Dispute]] = {}
    for d in (
        Dispute.objects.filter(
            round_report_id__in=[r.pk for r in agg["reports"] if r.unit_id in readable]
        )
        .only("pk", "number", "title", "round_report_id")
        .order_by("pk")
    ):
        items.setdefault(d.round_report_id or 0, []).append(d)
    for rep in agg["reports"]:
        rep.mine = rep.unit_id in reporting
        rep.items = items.get(rep.pk, [])
    return render(
        request,
        "prevention/rounds/detail.html",
        {"pv_tab": "rounds", "rnd": rnd, "q": q, "state": state, **agg},
    )


def _report_context(
    request: HttpRequest,
    report: ScreeningReport,
    form: ReportInput | None,
    *,
    refused: ReportInput | None = None,
) -> dict[str, Any]:
    unit = report.unit
    may_submit = report.state == ReportState.PENDING and policy.may_report_for(
        request.user, unit.pk
    )
    # The register of the unit is shown only to its readers: an 信息员 (whose only post there
    # is 信息员) may submit the round report but sees neither the open items nor, once
    # submitted, the items and changes of the report (only their counts).
    reads_register = policy.in_scope(request.user, unit.pk)
    disputes = list(S.reportable_disputes(unit)) if may_submit and reads_register else []
    form = form or ReportInput.empty()
    for d in disputes:
        d.change_text = form.changes.get(d.pk, "")  # type: ignore[attr-defined]
        d.change_error = form.errors.get(f"change-{d.pk}", "")  # type: ignore[attr-defined]
    from xinfang.cases.models import Category

    return {
        "pv_tab": "rounds",
        "report": report,
        "rnd": report.round,
        "unit": unit,
        "may_submit": may_submit,
        "form": form,
        "disputes": disputes,
        "places": _places(unit),
        "categories": Category.objects.filter(parent__isnull=True).order_by("pk"),
        "risk_choices": [(r.level, r.label) for r in RUBRIC],
        "rubric": RUBRIC,
        "late": S.is_late(report, S.beijing_today()),
        "reads_register": reads_register,
        "items": (
            list(Dispute.objects.filter(round_report=report).order_by("pk"))
            if reads_register
            else []
        ),
        "changes": (
            list(
                report.changes.filter(kind="round_update").select_related("dispute").order_by("pk")
            )
            if reads_register
            else []
        ),
        **_refused_context(request, report, refused),
    }


def _refused_context(
    request: HttpRequest, report: ScreeningReport, refused: ReportInput | None
) -> dict[str, Any]:
    """What a refused second submission carried (the report was submitted meanwhile): the typed
    new items, each with its own 登记为矛盾纠纷 button, and the typed changes, each with a link to
    the item (for readers of the register), so nothing typed is lost."""
    if refused is None:
        return {}
    rows = [r for r in refused.rows if not r.blank()]
    places = {str(u.pk): u for u in _places(report.unit)}
    for r in rows:
        r.key = secrets.token_hex(8)  # type: ignore[attr-defined]
        r.place = places.get(r.values.get("place_unit", ""))  # type: ignore[attr-defined]
        r.risk_label = dict(  # type: ignore[attr-defined]
            (x.level, x.label) for x in RUBRIC
        ).get(r.values.get("risk_level", ""), "")
    reads = policy.in_scope(request.user, report.unit_id)
    titles = (
        {d.pk: d for d in Dispute.objects.filter(pk__in=list(refused.changes))} if reads else {}
    )
    changes = [
        {"pk": pk, "text": text, "dispute": titles.get(pk)}
        for pk, text in refused.changes.items()
        if (text or "").strip()
    ]
    return {
        "refused": refused,
        "refused_rows": rows,
        "refused_changes": changes,
        "may_register": policy.may_report_for(request.user, report.unit_id),
    }


def _places(unit: Unit) -> list[Unit]:
    return list(Unit.objects.filter(path__startswith=unit.path, is_active=True).order_by("path"))


@login_required
def report_form(request: HttpRequest, pk: int, unit_pk: int) -> HttpResponse:
    user = request.user
    report = get_object_or_404(
        S.reports_visible_to(user).select_related("round", "round__rule", "unit", "submitted_by"),
        round_id=pk,
        unit_id=unit_pk,
    )
    if request.method != "POST":
        return render(
            request, "prevention/rounds/report.html", _report_context(request, report, None)
        )
    if not policy.may_report_for(user, report.unit_id):
        raise Forbidden(S.NOT_YOURS_MSG)
    unit = report.unit
    if request.POST.get("action") == "register_item":
        return _register_refused_item(request, report)
    form = ReportInput.from_post(
        request.POST,
        places=_places(unit),
        dispute_ids=list(S.reportable_disputes(unit).values_list("pk", flat=True)),
    )
    if "add_row" in request.POST:
        form.add_row()
        form.errors.clear()
        for row in form.rows:
            row.errors.clear()
        return render(
            request, "prevention/rounds/report.html", _report_context(request, report, form)
        )
    if form.errors:
        return render(
            request,
            "prevention/rounds/report.html",
            _report_context(request, report, form),
            status=400,
        )
    try:
        S.report_submit(
            user,
            report,
            nothing_new=form.nothing_new,
            note=form.note,
            new_items=form.items,
            changes=form.changes,
            key=request.POST.get("form_key") or None,
        )
    except PermissionDenied as exc:
        raise Forbidden(exc.message) from exc
    except DomainError as exc:
        report.refresh_from_db()
        form.place_error(exc.field or "", exc.message)
        # Submitted meanwhile by someone else: keep what this person typed on the page.
        refused = form if report.state == ReportState.SUBMITTED else None
        return render(
            request,
            "prevention/rounds/report.html",
            _report_context(request, report, form, refused=refused),
            status=400,
        )
    messages.success(request, f"{unit.name}{report.round.label}排查报告已报送")
    return redirect("prevention_round_report", pk=report.round_id, unit_pk=unit.pk)


def _register_refused_item(request: HttpRequest, report: ScreeningReport) -> HttpResponse:
    """登记为矛盾纠纷 for one new item of a refused second submission (posted as row 0): a
    台账 item of source 排查发现 linked to the round's report; resent, the same item."""
    from xinfang.prevention.models import DisputeSource
    from xinfang.prevention.services import dispute_create

    user = request.user
    unit = report.unit
    if report.state != ReportState.SUBMITTED:
        return redirect("prevention_round_report", pk=report.round_id, unit_pk=unit.pk)
    form = ReportInput.from_post(request.POST, places=_places(unit), dispute_ids=[])
    item = form.items[0] if form.items else None
    error = form.errors.get("rows", "") if item is not None else "请填写纠纷名称"
    if item is not None and not error:
        key = (request.POST.get("form_key") or "").strip()
        rnd = report.round
        try:
            dispute = dispute_create(
                user,
                title=item.title,
                description=item.description,
                source=DisputeSource.SCREENING,
                source_note=f"{rnd.rule.name} {rnd.label}（报告已报送后补登）",
                parties=item.parties,
                place_unit=item.place_unit or unit,
                unit=unit,
                risk_level=item.risk_level,
                headcount=item.headcount,
                category=item.category,
                round_report=report,
                idempotency_key=f"scr{report.pk}-add-{key}"[:64] if key else None,
            )
        except PermissionDenied as exc:
            raise Forbidden(exc.message) from exc
        except DomainError as exc:
            error = exc.message
        else:
            messages.success(request, f"已登记为矛盾纠纷 {dispute.number}")
            if policy.disputes_visible_to(user).filter(pk=dispute.pk).exists():
                return redirect("prevention_dispute", pk=dispute.pk)
            return redirect("prevention_round_report", pk=report.round_id, unit_pk=unit.pk)
    form.errors["nothing_new"] = error
    return render(
        request,
        "prevention/rounds/report.html",
        _report_context(request, report, form, refused=form),
        status=400,
    )


@login_required
def my_reports(request: HttpRequest) -> HttpResponse:
    user = request.user
    _require_access(user)
    today = S.beijing_today()
    rows = S.my_pending(user, today)
    q = (request.GET.get("q") or "").strip()
    if q:
        rows = [r for r in rows if q in r.unit.name or q in r.round.label]
    page, query = paginate(request, rows, PAGE_SIZE)
    recent = (
        ScreeningReport.objects.filter(
            unit_id__in=policy.reporting_units(user), state=ReportState.SUBMITTED
        )
        .select_related("round", "unit", "submitted_by")
        .order_by("-submitted_at")[:10]
    )
    return render(
        request,
        "prevention/rounds/mine.html",
        {
            "pv_tab": "rounds",
            "page": page,
            "query": query,
            "rows": page.object_list,
            "q": q,
            "recent": recent,
            "today": today,
        },
    )
