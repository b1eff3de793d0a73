"""Views of the workbench, bulk routing, links and the handling unit's internal file.

Thin, like ``views.py``: parse, call ``workbench`` / ``handling``, render. Cases are fetched only
through ``policy.cases_visible_to`` (another unit's case is a 404).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from xinfang.cases import handling, policy, workbench
from xinfang.cases.forms import BulkRouteForm, EvidenceForm, InvestigationForm, LinkForm
from xinfang.cases.models import Case, Category, Status
from xinfang.core.errors import DomainError
from xinfang.core.idempotency import form_key, post_fingerprint, replay_of, run_once
from xinfang.org import roles as R
from xinfang.org.policy import role_codes


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 12 else None


@login_required
def workbench_view(request: HttpRequest) -> HttpResponse:
    held = role_codes(request.user)
    if not held & (R.UNIT_STAFF | {R.CASE_OFFICER}):
        raise Http404
    g = request.GET
    f = workbench.WorkFilter(
        q=(g.get("q") or "").strip()[:100],
        status=g.get("status") or "",
        deadline=(g.get("deadline") or "")
        if g.get("deadline") in workbench.deadlines.STATE_LABELS
        else "",
        category=_int(g.get("category")),
    )
    tab = g.get("tab") or ""
    work = workbench.work_page(request.user, f, tab=tab, page=_int(g.get("page")) or 1)
    params = g.copy()
    params.pop("page", None)
    no_tab = params.copy()
    no_tab.pop("tab", None)
    context: dict[str, Any] = {
        "work": work,
        "f": f,
        "query": params.urlencode(),
        "tab_query": no_tab.urlencode(),
        "state_labels": workbench.deadlines.STATE_LABELS,
        "status_choices": [(s.value, s.label) for s in Status if s in workbench.HANDLING],
        "categories": Category.objects.filter(level__lte=2, is_active=True).order_by("sort", "id"),
        "is_unit": bool(held & R.UNIT_STAFF),
        "office": workbench.office_work(request.user) if R.CASE_OFFICER in held else None,
        "today": timezone.localdate(),
    }
    template = "cases/_work_table.html" if request.headers.get("HX-Request") else "cases/work.html"
    return render(request, template, context)


def work_row_response(
    request: HttpRequest, pk: int, error: str = "", *, done: bool = False
) -> HttpResponse:
    """The workbench row of one case after an inline action (签收), or a note when the case
    left the user's view. The row itself says what happened: the flash message is consumed."""
    list(messages.get_messages(request))
    case = (
        policy.cases_visible_to(request.user)
        .filter(pk=pk)
        .select_related("category", "handling_unit")
        .first()
    )
    if case is not None:
        workbench.annotate_rows([case], timezone.localdate())
        state = case.deadline_state  # type: ignore[attr-defined]
        key = state if state in ("overdue", "due_soon") else ""
        if not key and case.status in workbench.HANDLING:
            key = "new" if case.status in workbench.NEW else "doing"
        case.group_label = workbench.GROUP_LABELS.get(key, "")  # type: ignore[attr-defined]
    return render(
        request,
        "cases/_work_row.html",
        {
            "c": case,
            "pk": pk,
            "row_error": error,
            "signed_now": done,
            "state_labels": workbench.deadlines.STATE_LABELS,
        },
    )


# --- bulk routing ---------------------------------------------------------------------------


@login_required
@require_POST
def bulk_route_view(request: HttpRequest) -> HttpResponse:
    offices = [
        u
        for u in policy.registering_offices(request.user)
        if policy.holds_role_over(request.user, u, {R.CASE_OFFICER})
    ]
    if not offices:
        raise Http404
    form = BulkRouteForm(request.POST, offices=offices)
    results: list[handling.BulkResult] = []
    replayed = False
    error = ""
    if form.is_valid():
        d = form.cleaned_data
        try:
            results, replayed = handling.bulk_route_once(
                by=request.user,
                key=d.get("idempotency_key") or "",
                fingerprint=post_fingerprint(request),
                case_ids=d["ids"],
                code=d["code"],
                unit=d["unit"],
                note=d.get("note") or "",
            )
        except DomainError as exc:
            error = exc.message
    else:
        error = "；".join(str(e) for errs in form.errors.values() for e in errs)
    done = sum(1 for r in results if r.ok)
    partial = bool(request.headers.get("HX-Request"))
    return render(
        request,
        "cases/_bulk_result.html" if partial else "cases/bulk_result.html",
        {
            "results": results,
            "replayed": replayed,
            "error": error,
            "done": done,
            "failed": len(results) - done,
        },
    )


# --- links, investigation, evidence --------------------------------------------------------


def _case(request: HttpRequest, pk: int) -> Case:
    return get_object_or_404(
        policy.cases_visible_to(request.user).select_related("office_unit", "handling_unit"),
        pk=pk,
    )


def _respond(
    request: HttpRequest, case: Case, template: str, context: dict[str, Any]
) -> HttpResponse:
    if request.headers.get("HX-Request"):
        from xinfang.cases.templatetags.work_tags import internal_context, links_context

        base = (internal_context if "internal" in template else links_context)(
            {"request": request}, case
        )
        base.update(context)
        return render(request, template, base)
    return redirect("case_detail", pk=case.pk)


def _once(request: HttpRequest, scope: str, effect: Any) -> bool:
    """Run ``effect`` once per form key; False when the form was a resend (nothing done)."""
    key, fingerprint = form_key(request), post_fingerprint(request)
    if replay_of(user=request.user, key=key, scope=scope, fingerprint=fingerprint):
        messages.info(request, "该表单已提交过，未重复执行")
        return False
    run_once(user=request.user, key=key, scope=scope, fingerprint=fingerprint, effect=effect)
    return True


@login_required
@require_POST
def case_link_view(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case(request, pk)
    form = LinkForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            if _once(
                request,
                f"case_link:{pk}",
                lambda: handling.case_link_by_number(
                    case=case, by=request.user, other_number=d["other_number"], note=d["note"]
                ),
            ):
                messages.success(request, "已关联事项")
            form = LinkForm()
        except DomainError as exc:
            form.add_error("other_number" if exc.field else None, exc.message)
    return _respond(request, case, "cases/_links_section.html", {"link_form": form})


@login_required
@require_POST
def case_investigation_view(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case(request, pk)
    form = InvestigationForm(request.POST)
    if form.is_valid():
        try:
            if _once(
                request,
                f"case_investigation:{pk}",
                lambda: handling.case_investigation_add(
                    case=case, by=request.user, text=form.cleaned_data["text"]
                ),
            ):
                messages.success(request, "已记录调查情况")
            form = InvestigationForm()
        except DomainError as exc:
            form.add_error("text" if exc.field == "text" else None, exc.message)
    return _respond(request, case, "cases/_internal_panel.html", {"inv_form": form})


@login_required
@require_POST
def case_evidence_view(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case(request, pk)
    form = EvidenceForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            if _once(
                request,
                f"case_evidence:{pk}",
                lambda: handling.case_evidence_add(
                    case=case,
                    by=request.user,
                    upload=form.cleaned_data["file"],
                    note=form.cleaned_data.get("note") or "",
                ),
            ):
                messages.success(request, "已上传证据材料")
            form = EvidenceForm()
        except DomainError as exc:
            form.add_error("file" if exc.field in {"attachments", "file"} else None, exc.message)
    return _respond(request, case, "cases/_internal_panel.html", {"ev_form": form})
