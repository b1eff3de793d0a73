"""The 答复意见书 panel's POST endpoints: one per workflow step, each one service call. The
answer is the case page's body (HTMX swaps ``#case-main``) so that the timeline, the state and
the panel move together; on a domain error the panel keeps what was typed."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_POST

from xinfang.cases.models import Case
from xinfang.cases.policy import cases_visible_to
from xinfang.core.errors import DomainError
from xinfang.core.idempotency import form_key, post_fingerprint, replay_of, run_once
from xinfang.replies import services as RS
from xinfang.replies.forms import DraftForm, RejectForm, ServeForm

STEPS: dict[str, tuple[str, Any]] = {
    "save": ("保存答复意见书", DraftForm),
    "submit": ("提交审批", None),
    "approve": ("审批同意", None),
    "reject": ("退回修改", RejectForm),
    "check": ("审核通过", None),
    "serve": ("送达", ServeForm),
}


def _run(step: str, case: Case, user: Any, data: dict[str, Any]) -> Any:
    if step == "save":
        return RS.draft_save(case=case, by=user, **data)
    if step == "submit":
        return RS.draft_submit(case=case, by=user)
    if step == "approve":
        return RS.draft_approve(case=case, by=user)
    if step == "reject":
        return RS.draft_reject(case=case, by=user, reason=data["reason"])
    if step == "check":
        return RS.draft_check(case=case, by=user)
    return RS.draft_serve(case=case, by=user, **data)


def _page(request: HttpRequest, case: Case, forms: dict[str, Any], error: str = "") -> HttpResponse:
    from xinfang.cases.views import _detail_context

    context = _detail_context(request, case)
    context["reply_forms"] = forms
    context["reply_error"] = error
    context["partial"] = bool(request.headers.get("HX-Request"))
    template = "cases/_detail_body.html" if context["partial"] else "cases/detail.html"
    return render(request, template, context)


@login_required
@require_POST
def reply_step(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    if step not in STEPS:
        raise Http404
    label, form_class = STEPS[step]
    key, fingerprint, scope = form_key(request), post_fingerprint(request), f"reply:{pk}:{step}"
    case = get_object_or_404(cases_visible_to(request.user), pk=pk)
    if replay_of(user=request.user, key=key, scope=scope, fingerprint=fingerprint):
        messages.info(request, f"「{label}」已提交过，未重复执行")
        return _page(request, case, {})
    if form_class is DraftForm:
        form = DraftForm(request.POST, purpose=case.purpose)
    elif form_class is not None:
        form = form_class(request.POST)
    else:
        form = None
    if form is not None and not form.is_valid():
        return _page(request, case, {step: form})
    data = dict(form.cleaned_data) if form is not None else {}
    try:
        run_once(
            user=request.user,
            key=key,
            scope=scope,
            fingerprint=fingerprint,
            effect=lambda: _run(step, case, request.user, data),
        )
    except DomainError as exc:
        if form is not None:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            return _page(request, case, {step: form})
        return _page(request, case, {}, exc.message)
    messages.success(request, f"已{label}")
    fresh = cases_visible_to(request.user).filter(pk=pk).first() or case
    return _page(request, fresh, {})


@login_required
@require_POST
def final_check(request: HttpRequest) -> HttpResponse:
    """The registration form's 终结 guidance: final cases (in the user's view) of the people whose
    ID numbers or phones are typed so far."""
    from xinfang.cases.policy import registering_offices
    from xinfang.people import selectors as people
    from xinfang.replies.finality import GUIDANCE, final_cases_of

    if not registering_offices(request.user):
        raise Http404
    ids: list[int] = []
    for i in range(10):
        number = (request.POST.get(f"p-{i}-id_number") or "").strip()[:40]
        phone = (request.POST.get(f"p-{i}-phone") or "").strip()[:40]
        if number:
            ids += people.with_id_number(number).values_list("pk", flat=True)[:5]
        if phone:
            ids += people.with_phone(phone).values_list("pk", flat=True)[:5]
    # 检举控告件 match a person search only for their registering office's desk (rule 4).
    from xinfang.cases.confidential import search_guard

    scope = cases_visible_to(request.user).filter(search_guard(request.user))
    finals = final_cases_of(list(dict.fromkeys(ids)), within=scope)
    return render(request, "replies/_final_guidance.html", {"finals": finals, "guidance": GUIDANCE})
