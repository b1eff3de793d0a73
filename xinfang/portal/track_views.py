"""查询办理 pages: the tracking form, the case page (status, owed time limits, the public
timeline), 评价, 复查/复核 requests, the printable opinion, and leaving (docs/portal.md).

Thin: access and the wording live in ``tracking.py``; the state changes are the ``cases``
services. A case this browser has not proved access to (and no logged-in account owns) is the
same 404 as a case that does not exist.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from xinfang.core.errors import DomainError
from xinfang.core.ratelimit import RateResult, client_ip, rate_hit
from xinfang.core.text import clean_line
from xinfang.portal import services, tracking
from xinfang.portal.views import render_portal

FAILED = "查询码或验证信息不正确，请核对后重试"
NOT_FOUND = "未找到该事项，或者您还没有在本浏览器中验证查询码。请通过「查询办理」输入查询码后查看。"
FIELD_MAX = 64


def _limited(
    request: HttpRequest, result: RateResult, template: str, ctx: dict[str, Any]
) -> HttpResponse:
    minutes = max(1, (result.retry_after + 59) // 60)
    ctx = ctx | {"limited": f"操作过于频繁，请于{minutes}分钟后再试"}
    response = render_portal(request, template, ctx, nav="track", status=429)
    response["Retry-After"] = str(result.retry_after)
    return response


def _not_found(request: HttpRequest) -> HttpResponse:
    return render_portal(
        request, "portal/case_missing.html", {"message": NOT_FOUND}, nav="track", status=404
    )


@require_http_methods(["GET", "POST"])
def track(request: HttpRequest) -> HttpResponse:
    """GET: the form (``?code=`` from the receipt's QR code prefilled). POST: rate limits per
    address and per code, then the code + phone / ID tail check; every failure the same page."""
    if request.method != "POST":
        code = clean_line(request.GET.get("code", ""))[:FIELD_MAX]
        return render_portal(request, "portal/track.html", {"code": code}, nav="track")
    code = clean_line(request.POST.get("code", ""))[:FIELD_MAX]
    secret = request.POST.get("secret", "")[:FIELD_MAX]
    ctx: dict[str, Any] = {"code": code}
    # Per address every attempt counts; per query code only the failed proofs.
    hit = rate_hit("portal_track_ip", client_ip(request))
    if not hit.allowed:
        return _limited(request, hit, "portal/track.html", ctx)
    blocked = services.code_blocked(code)
    if blocked is not None:
        return _limited(request, blocked, "portal/track.html", ctx)
    case = services.verify_access(code, secret)
    if case is None:
        services.code_failed(code)
        return render_portal(request, "portal/track.html", ctx | {"error": FAILED}, nav="track")
    services.grant(request, case)
    account = services.current_account(request)
    if account is not None:  # proved while logged in: the case joins 我的信访
        from xinfang.portal.accounts import link_case

        link_case(account, case)
    request.session.cycle_key()  # a new session key once access is proved (fixation)
    return redirect_303(reverse("portal:case", args=[case.pk]))


def redirect_303(url: str) -> HttpResponse:
    response = HttpResponse(status=303)
    response["Location"] = url
    return response


def _case_page(
    request: HttpRequest, case: Any, extra: dict[str, Any] | None = None, status: int = 200
) -> HttpResponse:
    view = tracking.case_view(case)
    merged_url = ""
    if view.merged_into_id is not None:
        if tracking.viewable_case(request, view.merged_into_id) is not None:
            merged_url = reverse("portal:case", args=[view.merged_into_id])
        else:
            merged_url = reverse("portal:track")
    ctx = {
        "v": view,
        "merged_url": merged_url,
        "confidential_note": tracking.CONFIDENTIAL_NOTE,
        "evaluations": [
            ("satisfied", "满意"),
            ("basically", "基本满意"),
            ("unsatisfied", "不满意"),
        ],
        "comment_max": tracking.COMMENT_MAX,
        "reason_max": tracking.REASON_MAX,
        "form": {},
    } | (extra or {})
    return render_portal(request, "portal/case.html", ctx, nav="track", status=status)


@require_GET
def case(request: HttpRequest, case_id: int) -> HttpResponse:
    found = tracking.viewable_case(request, case_id)
    if found is None:
        return _not_found(request)
    return _case_page(request, found)


def _account_for(request: HttpRequest, case: Any) -> Any:
    account = services.current_account(request)
    return account if account is not None and tracking.account_may_see(account, case) else None


def _act(request: HttpRequest, case_id: int, form_name: str) -> tuple[Any, HttpResponse | None]:
    """Common to the two POSTs: the rate limit per address, then access (404)."""
    hit = rate_hit("portal_act_ip", client_ip(request))
    found = tracking.viewable_case(request, case_id)
    if found is None:
        return None, _not_found(request)
    if not hit.allowed:
        response = _case_page(
            request, found, {f"{form_name}_error": "操作过于频繁，请稍后再试"}, status=429
        )
        response["Retry-After"] = str(hit.retry_after)
        return None, response
    return found, None


@require_POST
def evaluate(request: HttpRequest, case_id: int) -> HttpResponse:
    found, stop = _act(request, case_id, "eval")
    if stop is not None:
        return stop
    value = request.POST.get("evaluation", "")
    comment = request.POST.get("comment", "")
    try:
        tracking.portal_evaluate(found, value, comment, _account_for(request, found))
    except DomainError as exc:
        form = {"evaluation": value, "comment": comment}
        extra = {"eval_error": exc.message, "eval_field": exc.field or "evaluation", "form": form}
        return _case_page(request, found, extra)
    messages.success(request, "感谢您的评价，已记录。")
    return redirect_303(reverse("portal:case", args=[found.pk]) + "#h-timeline")


@require_POST
def review(request: HttpRequest, case_id: int) -> HttpResponse:
    found, stop = _act(request, case_id, "review")
    if stop is not None:
        return stop
    kind = request.POST.get("kind", "")
    reason = request.POST.get("reason", "")
    try:
        tracking.portal_request_review(found, kind, reason, _account_for(request, found))
    except DomainError as exc:
        extra = {"review_error": exc.message, "form": {"reason": reason}}
        return _case_page(request, found, extra)
    what = "复核" if kind == "rereview" else "复查"
    messages.success(request, f"已收到您的{what}请求，将在法定期限内提出{what}意见。")
    return redirect_303(reverse("portal:case", args=[found.pk]) + "#h-timeline")


@require_GET
def document(request: HttpRequest, case_id: int, event_id: int) -> HttpResponse:
    """The printable opinion (答复/复查/复核意见书) or issued notice of one event."""
    found = tracking.viewable_case(request, case_id)
    doc = tracking.printable(found, event_id) if found is not None else None
    if found is None or doc is None:
        return _not_found(request)
    return render_portal(
        request, "portal/case_document.html", {"case": found, "doc": doc}, nav="track"
    )


@require_POST
def leave(request: HttpRequest) -> HttpResponse:
    """退出查询: this browser forgets every case it proved access to."""
    services.revoke_all(request)
    request.session.cycle_key()
    return redirect_303(reverse("portal:home"))


def short(request):  # type: ignore[no-untyped-def]
    """/track/?code=… (the 登记回执's QR code) → the portal's tracking page, code kept."""
    from django.shortcuts import redirect
    from django.urls import reverse

    query = request.META.get("QUERY_STRING", "")
    return redirect(reverse("portal:track") + (f"?{query}" if query else ""))
