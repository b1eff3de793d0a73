"""Staff UI for 检举控告 cases: the audited reveal (HTMX) and adding accused later.

The rules are ``cases.confidential``'s; these views only parse input and render.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_POST

from xinfang.cases import confidential
from xinfang.cases.models import Case
from xinfang.core.errors import DomainError
from xinfang.org import roles as R
from xinfang.org.policy import holds_role_over


def _confidential_case(request: HttpRequest, pk: int) -> Case:
    from xinfang.cases.views import _visible_case

    case = _visible_case(request, pk)
    if not case.is_confidential:
        raise Http404
    return case


def _no_store(response: HttpResponse) -> HttpResponse:
    patch_cache_control(response, no_store=True, no_cache=True, private=True, max_age=0)
    return response


def reveal_context(request: HttpRequest, case: Case) -> dict[str, object]:
    """The revealed content (audited) and, for the office's 办案员, the form to add accused."""
    context: dict[str, object] = {
        "case": case,
        "revealed": confidential.reveal(case, request.user, request),
    }
    if holds_role_over(request.user, case.office_unit, {R.CASE_OFFICER}):
        units, persons = confidential.accused_choices(case.office_unit)
        context["accused_unit_choices"] = units
        context["accused_person_choices"] = persons
    return context


@login_required
@require_POST
def case_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """POST (not GET: a reveal is an audited act, never a prefetch or a crawler's link)."""
    case = _confidential_case(request, pk)
    if request.headers.get("HX-Request"):
        return _no_store(render(request, "cases/_confidential.html", reveal_context(request, case)))
    from xinfang.cases.views import _detail_context

    context = _detail_context(request, case)
    context.update(reveal_context(request, case))
    return _no_store(render(request, "cases/detail.html", context))


@login_required
@require_POST
def case_accused_add(request: HttpRequest, pk: int) -> HttpResponse:
    case = _confidential_case(request, pk)
    try:
        unit_ids = [int(v) for v in request.POST.getlist("accused_units") if v]
        person_ids = [int(v) for v in request.POST.getlist("accused_persons") if v]
    except ValueError:
        unit_ids, person_ids = [], []
        messages.error(request, "被检举控告对象选择有误，请重新选择")
        return redirect("case_detail", pk=pk)
    try:
        confidential.case_set_accused(
            case=case,
            by=request.user,
            unit_ids=unit_ids,
            person_ids=person_ids,
            text=request.POST.get("accused_text", "")[:2000],
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已补充被检举控告对象")
        if case.status == "returned" and case.handling_unit_id is None:
            messages.info(request, "原承办单位需回避，事项已收回，请重新交办或转送")
    if not confidential.exclude_accused(Case.objects.filter(pk=pk), request.user).exists():
        return redirect("case_list")
    return redirect("case_detail", pk=pk)
