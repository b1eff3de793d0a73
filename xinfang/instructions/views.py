"""领导批示 pages: the case-page panel (HTMX partial), its three form posts, the full list.

Thin: parse the form, call the service, render the panel again. Cases are fetched only through
``cases_visible_to``; instructions only through ``instructions_visible_to`` (another unit's
instruction is a 404).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Case as CaseWhen
from django.db.models import IntegerField, Q, QuerySet, Value, When
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from xinfang.cases.models import Case
from xinfang.cases.policy import cases_visible_to
from xinfang.core.errors import DomainError
from xinfang.core.idempotency import form_key, post_fingerprint, replay_of, run_once
from xinfang.core.paging import paginate
from xinfang.instructions import services as S
from xinfang.instructions.forms import CloseForm, InstructForm, InstructionFilterForm, ReportForm
from xinfang.instructions.models import Instruction
from xinfang.instructions.models import InstructionState as St
from xinfang.org import roles as R
from xinfang.org.models import Unit
from xinfang.org.policy import role_codes, visible_unit_ids

PAGE_SIZE = 30


# --- the case-page panel -------------------------------------------------------------------


def panel_context(
    user: Any,
    case: Case,
    *,
    instruct_form: InstructForm | None = None,
    failed: dict[int, Any] | None = None,
) -> dict[str, Any]:
    """What the 领导批示 panel shows ``user`` on ``case``: the instructions they may see, each
    with the form they may use on it, and the instruct form for leaders."""
    failed = failed or {}
    today = timezone.localdate()
    rows = list(
        S.instructions_visible_to(user)
        .filter(case=case)
        .select_related("leader", "target_unit", "reported_by", "closed_by")
        .order_by("-created_at", "-id")
    )
    for ins in rows:
        ins.late = ins.days_overdue(today)  # type: ignore[attr-defined]
        ins.report_form = None  # type: ignore[attr-defined]
        ins.close_form = None  # type: ignore[attr-defined]
        if ins.state == St.OPEN and S.may_report(user, ins):
            ins.report_form = failed.get(ins.pk) or ReportForm(prefix=f"r{ins.pk}")  # type: ignore[attr-defined]
        if ins.state == St.REPORTED and S.may_close(user, ins):
            ins.close_form = failed.get(ins.pk) or CloseForm(prefix=f"c{ins.pk}")  # type: ignore[attr-defined]
    may_instruct = S.may_instruct(user, case)
    if may_instruct and instruct_form is None:
        units = S.target_choices(case)
        instruct_form = InstructForm(
            units=units,
            initial={
                "due_on": today + dt.timedelta(days=15),
                "target_unit": str(units[0].pk) if units else "",
            },
        )
    return {
        "case": case,
        "instructions": rows,
        "may_instruct": may_instruct,
        "instruct_form": instruct_form if may_instruct else None,
        "open_new": bool(instruct_form is not None and instruct_form.errors),
    }


def _visible_case(request: HttpRequest, pk: int) -> Case:
    return get_object_or_404(
        cases_visible_to(request.user).select_related("office_unit", "handling_unit"), pk=pk
    )


def _visible_instruction(request: HttpRequest, pk: int) -> Instruction:
    return get_object_or_404(
        S.instructions_visible_to(request.user).select_related(
            "case", "case__office_unit", "case__handling_unit", "target_unit", "leader_unit"
        ),
        pk=pk,
    )


def _panel(request: HttpRequest, case: Case, *, error: str = "", **kwargs: Any) -> HttpResponse:
    if not request.headers.get("HX-Request"):
        if error:
            messages.error(request, error)
        return redirect(f"/cases/{case.pk}/#instructions")
    context = panel_context(request.user, case, **kwargs)
    context["partial"] = True
    shown = {id(f) for i in context["instructions"] for f in (i.report_form, i.close_form)}
    failed = kwargs.get("failed") or {}
    if error and not any(id(f) in shown for f in failed.values()):
        # The form is not offered to this user (any more): say why at the top of the panel.
        context["panel_error"] = error
    return render(request, "instructions/_panel.html", context)


@login_required
@require_POST
def instructions_new(request: HttpRequest, case_pk: int) -> HttpResponse:
    case = _visible_case(request, case_pk)
    key, fp, scope = form_key(request), post_fingerprint(request), f"instruct:{case.pk}"
    if replay_of(user=request.user, key=key, scope=scope, fingerprint=fp):
        messages.info(request, "该批示已提交过，未重复批示")
        return _panel(request, case)
    form = InstructForm(request.POST, units=S.target_choices(case))
    if form.is_valid():
        try:
            run_once(
                user=request.user,
                key=key,
                scope=scope,
                fingerprint=fp,
                effect=lambda: S.instruct(
                    case=case,
                    by=request.user,
                    text=form.cleaned_data["text"],
                    due_on=form.cleaned_data["due_on"],
                    target_unit=form.unit(),
                ),
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, "已批示，并已通知落实单位")
            return _panel(request, case)
    return _panel(request, case, instruct_form=form)


@login_required
@require_POST
def instructions_report(request: HttpRequest, pk: int) -> HttpResponse:
    ins = _visible_instruction(request, pk)
    form = ReportForm(request.POST, prefix=f"r{ins.pk}")
    if form.is_valid():
        try:
            S.instruction_report(ins=ins, by=request.user, text=form.cleaned_data["text"])
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            return _panel(request, ins.case, failed={ins.pk: form}, error=exc.message)
        messages.success(request, "已报告批示落实情况")
        return _panel(request, ins.case)
    return _panel(request, ins.case, failed={ins.pk: form})


@login_required
@require_POST
def instructions_close(request: HttpRequest, pk: int) -> HttpResponse:
    ins = _visible_instruction(request, pk)
    form = CloseForm(request.POST, prefix=f"c{ins.pk}")
    if form.is_valid():
        d = form.cleaned_data
        try:
            if d["decision"] == "close":
                S.instruction_close(ins=ins, by=request.user, note=d.get("note") or "")
                done = "已办结该批示"
            else:
                S.instruction_send_back(
                    ins=ins, by=request.user, note=d.get("note") or "", due_on=d.get("due_on")
                )
                done = "已退回，请承办单位重新报告"
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            return _panel(request, ins.case, failed={ins.pk: form}, error=exc.message)
        messages.success(request, done)
        return _panel(request, ins.case)
    return _panel(request, ins.case, failed={ins.pk: form})


# --- lists ---------------------------------------------------------------------------------


def urgency_order(qs: QuerySet[Instruction], today: dt.date) -> QuerySet[Instruction]:
    """Overdue first (most overdue first), then open by due date, then reported, then closed."""
    return qs.annotate(
        rank=CaseWhen(
            When(state=St.OPEN, due_on__lt=today, then=Value(0)),
            When(state=St.OPEN, then=Value(1)),
            When(state=St.REPORTED, then=Value(2)),
            default=Value(3),
            output_field=IntegerField(),
        )
    ).order_by("rank", "due_on", "id")


def dashboard_rows(user: Any, limit: int = 10) -> dict[str, Any]:
    """The home page section: a leader's own open/reported instructions; for unit staff, the
    open instructions addressed to their units."""
    held = role_codes(user)
    today = timezone.localdate()
    qs = S.instructions_visible_to(user).filter(state__in=[St.OPEN, St.REPORTED])
    if R.LEADER in held:
        qs = qs.filter(leader_id=user.pk)
        title = "我的批示"
    elif held & S.REPORTERS:
        from xinfang.org.policy import posts_of

        units = {p.unit_id for p in posts_of(user) if p.role in S.REPORTERS}
        qs = qs.filter(target_unit_id__in=units, state=St.OPEN)
        title = "待落实的领导批示"
    else:
        return {"show": False}
    total = qs.count()
    if not total and R.LEADER not in held:
        return {"show": False}
    rows = list(urgency_order(qs, today).select_related("case", "target_unit", "leader")[:limit])
    for ins in rows:
        ins.late = ins.days_overdue(today)  # type: ignore[attr-defined]
    overdue = qs.filter(state=St.OPEN, due_on__lt=today).count()
    return {"show": True, "title": title, "rows": rows, "total": total, "overdue": overdue}


@login_required
def instructions_list(request: HttpRequest) -> HttpResponse:
    held = role_codes(request.user)
    if not held & R.CASE_READERS:
        raise Http404
    today = timezone.localdate()
    form = InstructionFilterForm(request.GET or None)
    qs = S.instructions_visible_to(request.user)
    d = form.cleaned_data if form.is_valid() else {}
    state = d.get("state") or ""
    if state == "overdue":
        qs = qs.filter(state=St.OPEN, due_on__lt=today)
    elif state:
        qs = qs.filter(state=state)
    if d.get("unit"):
        qs = qs.filter(target_unit_id=d["unit"])
    if d.get("mine"):
        qs = qs.filter(leader_id=request.user.pk)
    q = (d.get("q") or "").strip()
    if q:
        qs = qs.filter(
            Q(case__number__icontains=q)
            | Q(text__icontains=q)
            | Q(report_text__icontains=q)
            | Q(leader__first_name__icontains=q)
        )
    qs = urgency_order(qs, today).select_related("case", "target_unit", "leader", "reported_by")
    page, query = paginate(request, qs, PAGE_SIZE)
    rows = list(page.object_list)
    for ins in rows:
        ins.late = ins.days_overdue(today)  # type: ignore[attr-defined]
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "query": query,
        "units": Unit.objects.filter(
            pk__in=visible_unit_ids(request.user, R.CASE_READERS), is_active=True
        ).order_by("path"),
        "today": today,
    }
    template = (
        "instructions/_list_table.html"
        if request.headers.get("HX-Request")
        else "instructions/list.html"
    )
    return render(request, template, context)
