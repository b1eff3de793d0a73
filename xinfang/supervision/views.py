"""/supervision/: the 督办 page (recent sweep runs, the 督办 list, the rule table, "立即运行")
and the case page's 督查督办 panel actions (a supervisor's manual 催办/督办)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as Forbidden
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from xinfang.cases.policy import cases_visible_to
from xinfang.core.errors import DomainError
from xinfang.core.paging import paginate
from xinfang.org.models import Unit
from xinfang.supervision import services as SS
from xinfang.supervision.models import EscalationRule, Stage, SupervisionStep, SweepRun

PAGE_SIZE = 50


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def steps_for(user: Any, params: Any) -> tuple[Any, dict[str, Any]]:
    """The 督办 list the user may see (steps of cases visible to them), filtered."""
    qs = SupervisionStep.objects.filter(case__in=cases_visible_to(user).values("pk"))
    chosen: dict[str, Any] = {
        "stage": params.get("stage", ""),
        "unit": _int(params.get("unit")),
        "min_overdue": _int(params.get("min_overdue")),
        "q": (params.get("q") or "").strip()[:40],
    }
    if chosen["stage"] in Stage.values:
        qs = qs.filter(stage=chosen["stage"])
    if chosen["unit"]:
        qs = qs.filter(unit_id=chosen["unit"])
    if chosen["min_overdue"] is not None:
        qs = qs.filter(days_overdue__gte=chosen["min_overdue"])
    if chosen["q"]:
        qs = qs.filter(case__number__icontains=chosen["q"])
    qs = qs.select_related("case", "unit", "rule", "by").order_by("-at", "-id")
    return qs, chosen


def _runs_context() -> dict[str, Any]:
    runs = list(SweepRun.objects.select_related("requested_by")[:10])
    busy = any(r.state in (SweepRun.State.QUEUED, SweepRun.State.RUNNING) for r in runs)
    return {"runs": runs, "busy": busy}


@login_required
def supervision_index(request: HttpRequest) -> HttpResponse:
    if not SS.may_view(request.user):
        raise Forbidden("只有督查员、办案员和领导可以查看督查督办")
    qs, chosen = steps_for(request.user, request.GET)
    page, query = paginate(request, qs, PAGE_SIZE)
    unit_ids = SupervisionStep.objects.values("unit_id").distinct()
    return render(
        request,
        "supervision/index.html",
        {
            "page": page,
            "chosen": chosen,
            "stages": Stage.choices,
            "units": Unit.objects.filter(pk__in=unit_ids).order_by("path"),
            "rules": EscalationRule.objects.all(),
            "may_run": SS.may_supervise(request.user) or SS.may_run(request.user),
            "query": query,
            **_runs_context(),
        },
    )


@login_required
def supervision_runs(request: HttpRequest) -> HttpResponse:
    """The runs table (HTMX: polled while a run is queued or running)."""
    if not SS.may_view(request.user):
        raise Forbidden("只有督查员、办案员和领导可以查看督查督办")
    return render(request, "supervision/_runs.html", _runs_context())


@login_required
@require_POST
def supervision_run_now(request: HttpRequest) -> HttpResponse:
    try:
        run = SS.request_sweep(by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已提交督办扫描 #{run.pk}，完成后本页自动刷新结果")
    if request.headers.get("HX-Request"):
        ctx = _runs_context()
        ctx["partial"] = True
        return render(request, "supervision/_runs.html", ctx)
    return redirect("supervision_index")


@login_required
@require_POST
def supervision_case_act(request: HttpRequest, case_id: int) -> HttpResponse:
    """The panel's 催办/督办 buttons (HTMX: the panel comes back)."""
    from xinfang.core.idempotency import form_key, post_fingerprint, replay_of, run_once

    case = get_object_or_404(cases_visible_to(request.user), pk=case_id)
    error = ""
    # A resent form (double click without HTMX, browser retry) urges nobody twice.
    key, fingerprint, scope = form_key(request), post_fingerprint(request), f"supervise:{case.pk}"
    label = SS.MANUAL_STAGES.get(request.POST.get("stage", ""), "")
    if replay_of(user=request.user, key=key, scope=scope, fingerprint=fingerprint):
        messages.info(request, f"该{label or '督办'}已提交过，未重复发送")
    else:
        try:
            run_once(
                user=request.user,
                key=key,
                scope=scope,
                fingerprint=fingerprint,
                effect=lambda: SS.case_supervise(
                    case=case,
                    by=request.user,
                    stage=request.POST.get("stage", ""),
                    note=request.POST.get("note", ""),
                ),
            )
        except DomainError as exc:
            error = exc.message
        else:
            messages.success(request, f"已{label}，承办单位将收到通知")
    if request.headers.get("HX-Request"):
        from xinfang.supervision.templatetags.supervision_tags import panel_context

        ctx = panel_context(request.user, case)
        ctx.update(
            {
                "partial": True,
                "panel_error": error,
                "note": request.POST.get("note", "") if error else "",
            }
        )
        return render(request, "supervision/_panel.html", ctx)
    if error:
        messages.error(request, error)
    return redirect("case_detail", case.pk)
