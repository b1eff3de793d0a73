"""Pages of the follow-up work: the office's task list, the 回访 list, and the case-page panels'
form posts (SMS evaluation, closing a task, recording a 回访, scheduling/recording a hearing).

Posts from the case page answer an HTMX request with the re-rendered panel when the input was
refused (what was typed stays) and with ``HX-Refresh`` when the change went through (the case's
status, timeline and action panel all move); without HTMX, a redirect or the form page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from xinfang.cases.models import Case, Status
from xinfang.cases.policy import cases_visible_to, may
from xinfang.core.errors import DomainError
from xinfang.core.idempotency import form_key, post_fingerprint, replay_of, run_once
from xinfang.core.paging import paginate
from xinfang.followup import hearings, selectors, services
from xinfang.followup.forms import (
    FollowUpRecordForm,
    HearingRecordForm,
    HearingScheduleForm,
    SmsReplyForm,
    TaskCloseForm,
)
from xinfang.followup.models import Hearing, OfficeTask

PAGE_SIZE = 30


# --- what the case page shows ----------------------------------------------------------------


def side_context(user: Any, case: Case, bound: dict[str, Form] | None = None) -> dict[str, Any]:
    """The side panel: SMS evaluation, the case's review tasks and 回访."""
    bound = bound or {}
    tasks = list(case.office_tasks.select_related("done_by").order_by("-created_at", "-id"))
    for t in tasks:
        t.may_close = t.state == OfficeTask.State.OPEN and services.may_work_task(user, t)  # type: ignore[attr-defined]
        t.form = bound.get(f"task_{t.pk}") or TaskCloseForm(prefix=f"t{t.pk}")  # type: ignore[attr-defined]
    fus = list(case.followups_planned.select_related("done_by").order_by("-due_on", "-id"))
    for f in fus:
        f.may_record = f.done_at is None and services.may_record_followup(user, f)  # type: ignore[attr-defined]
        f.form = bound.get(f"fu_{f.pk}") or FollowUpRecordForm(prefix=f"f{f.pk}")  # type: ignore[attr-defined]
    may_sms = case.status == Status.REPLIED and may(user, "evaluate", case)
    return {
        "case": case,
        "tasks": tasks,
        "followups": fus,
        "may_sms": may_sms,
        "sms_form": bound.get("sms") or SmsReplyForm(),
        "show": bool(tasks or fus or may_sms),
    }


def hearing_context(user: Any, case: Case, bound: dict[str, Form] | None = None) -> dict[str, Any]:
    """The main-column section: each hearing with its panel, votes and tally."""
    bound = bound or {}
    may_run = hearings.may_run_hearings(user, case)
    rows = list(case.hearings.select_related("host").prefetch_related("members", "votes__member"))
    for h in rows:
        h.tally = hearings.tally(h)  # type: ignore[attr-defined]
        h.vote_list = sorted(h.votes.all(), key=lambda v: (v.member.kind, v.member.name))  # type: ignore[attr-defined]
        if may_run and h.state == Hearing.State.SCHEDULED:
            h.form = bound.get(f"hearing_{h.pk}") or HearingRecordForm(  # type: ignore[attr-defined]
                hearing=h, prefix=f"h{h.pk}"
            )
    pending = any(h.state == Hearing.State.SCHEDULED for h in rows)
    may_schedule = may_run and not pending and case.status != Status.FINAL
    return {
        "case": case,
        "hearings": rows,
        "may_schedule": may_schedule,
        "schedule_form": bound.get("schedule") or (HearingScheduleForm() if may_schedule else None),
        "show": bool(rows or may_schedule),
    }


def _visible_case(request: HttpRequest, pk: int) -> Case:
    return get_object_or_404(
        cases_visible_to(request.user).select_related("office_unit", "handling_unit"), pk=pk
    )


def _done(request: HttpRequest, case: Case, message: str) -> HttpResponse:
    messages.success(request, message)
    if request.headers.get("HX-Request"):
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    return redirect("case_detail", pk=case.pk)


def _refused(request: HttpRequest, case: Case, which: str, bound: dict[str, Form]) -> HttpResponse:
    """The panel again with the form as typed and the message (status 200: HTMX swaps it)."""
    if which == "side":
        context, template = side_context(request.user, case, bound), "followup/_side.html"
    else:
        context, template = hearing_context(request.user, case, bound), "followup/_hearings.html"
    errors = [str(e) for form in bound.values() for e in form.non_field_errors()]
    if errors:  # shown at the top of the panel: the form may not be offered to this user
        context["panel_error"] = "；".join(errors)
        context["show"] = True
    if not request.headers.get("HX-Request"):
        context["panel_template"] = template
        template = "followup/form_page.html"
    return render(request, template, context)


def _submit(
    request: HttpRequest,
    *,
    case: Case,
    form: Form,
    scope: str,
    effect: Callable[[], Any],
    which: str,
    slot: str,
    ok: str,
) -> HttpResponse:
    """Validate, run the service once per submitted form, answer as described above."""
    key, fingerprint = form_key(request), post_fingerprint(request)
    if replay_of(user=request.user, key=key, scope=scope, fingerprint=fingerprint):
        messages.info(request, "该表单已提交过，未重复执行")
        return _done(request, case, ok)
    if form.is_valid():
        try:
            run_once(
                user=request.user, key=key, scope=scope, fingerprint=fingerprint, effect=effect
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            return _done(request, case, ok)
    return _refused(request, case, which, {slot: form})


@login_required
@require_POST
def sms_evaluate(request: HttpRequest, case_pk: int) -> HttpResponse:
    case = _visible_case(request, case_pk)
    form = SmsReplyForm(request.POST)
    return _submit(
        request,
        case=case,
        form=form,
        scope=f"followup_sms:{case.pk}",
        effect=lambda: services.evaluate_by_sms(
            case=case, by=request.user, sms_text=form.cleaned_data["sms_text"]
        ),
        which="side",
        slot="sms",
        ok="已记录短信评价",
    )


@login_required
@require_POST
def task_close(request: HttpRequest, pk: int) -> HttpResponse:
    task = selectors.task_visible(request.user, pk)
    if task is None:
        raise Http404
    form = TaskCloseForm(request.POST, prefix=f"t{task.pk}")
    return _submit(
        request,
        case=task.case,
        form=form,
        scope=f"followup_task:{task.pk}",
        effect=lambda: services.office_task_close(
            task=task, by=request.user, outcome=form.cleaned_data["outcome"]
        ),
        which="side",
        slot=f"task_{task.pk}",
        ok="复核任务已办结",
    )


@login_required
@require_POST
def followup_record(request: HttpRequest, pk: int) -> HttpResponse:
    fu = selectors.followup_visible(request.user, pk)
    if fu is None:
        raise Http404
    form = FollowUpRecordForm(request.POST, prefix=f"f{fu.pk}")
    return _submit(
        request,
        case=fu.case,
        form=form,
        scope=f"followup_record:{fu.pk}",
        effect=lambda: services.followup_record(followup=fu, by=request.user, **form.cleaned_data),
        which="side",
        slot=f"fu_{fu.pk}",
        ok="已记录回访",
    )


@login_required
@require_POST
def hearing_schedule(request: HttpRequest, case_pk: int) -> HttpResponse:
    case = _visible_case(request, case_pk)
    form = HearingScheduleForm(request.POST)
    return _submit(
        request,
        case=case,
        form=form,
        scope=f"followup_hearing:{case.pk}",
        effect=lambda: hearings.hearing_schedule(
            case=case,
            by=request.user,
            scheduled_at=form.cleaned_data["scheduled_at"],
            place=form.cleaned_data["place"],
            member_ids=form.cleaned_data["members"],
            parties=form.cleaned_data.get("parties") or "",
        ),
        which="main",
        slot="schedule",
        ok="已安排听证",
    )


@login_required
@require_POST
def hearing_record(request: HttpRequest, pk: int) -> HttpResponse:
    hearing = selectors.hearing_visible(request.user, pk)
    if hearing is None:
        raise Http404
    form = HearingRecordForm(request.POST, hearing=hearing, prefix=f"h{hearing.pk}")
    return _submit(
        request,
        case=hearing.case,
        form=form,
        scope=f"followup_hearing_record:{hearing.pk}",
        effect=lambda: hearings.hearing_record(
            hearing=hearing,
            by=request.user,
            record=form.cleaned_data["record"],
            votes=form.votes(),
        ),
        which="main",
        slot=f"hearing_{hearing.pk}",
        ok="已记录听证及表决",
    )


# --- lists -----------------------------------------------------------------------------------


@login_required
def task_list(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state") or "open"
    if state not in selectors.TASK_STATES:
        state = "open"
    q = (request.GET.get("q") or "").strip()[:40]
    page, query = paginate(request, selectors.tasks_for(request.user, state=state, q=q), PAGE_SIZE)
    return render(
        request,
        "followup/tasks.html",
        {
            "page": page,
            "state": state,
            "q": q,
            "states": selectors.TASK_STATES,
            "query": query,
        },
    )


@login_required
def followup_list(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state") or "due"
    if state not in selectors.FOLLOWUP_STATES:
        state = "due"
    page, query = paginate(request, selectors.followups_for(request.user, state=state), PAGE_SIZE)
    today = timezone.localdate()
    for f in page.object_list:
        f.overdue = f.done_at is None and f.due_on < today
    return render(
        request,
        "followup/list.html",
        {
            "page": page,
            "state": state,
            "states": selectors.FOLLOWUP_STATES,
            "query": query,
        },
    )
