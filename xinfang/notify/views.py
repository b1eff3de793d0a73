"""The inbox (站内消息) and the 进展告知 panel: thin views over ``notify.services`` and
``notify.petitioner``. Only the user's own notifications are ever found (else 404)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from xinfang.cases.policy import cases_visible_to
from xinfang.core.errors import DomainError
from xinfang.core.idempotency import form_key, post_fingerprint, replay_of, run_once
from xinfang.core.paging import paginate
from xinfang.notify import services as N
from xinfang.notify.forms import InboxFilterForm, ProgressNoticeForm
from xinfang.notify.models import Notification
from xinfang.notify.petitioner import case_progress_notice

PAGE_SIZE = 30


def _inbox_context(request: HttpRequest) -> dict[str, object]:
    form = InboxFilterForm(request.GET or None)
    form.is_valid()
    data = getattr(form, "cleaned_data", {}) or {}
    state = data.get("state") or "unread"
    kind = data.get("kind") or ""
    q = data.get("q") or ""
    qs = N.inbox(request.user, unread=state == "unread", kind=kind, q=q)
    page, query = paginate(request, qs, PAGE_SIZE)
    rows = list(page.object_list)
    for n in rows:
        n.kind_label = N.kind_label(n.kind)  # type: ignore[attr-defined]
    page.object_list = rows
    kinds = sorted(
        set(
            Notification.objects.filter(recipient_id=request.user.pk)
            .values_list("kind", flat=True)
            .distinct()
        )
    )
    return {
        "form": form,
        "state": state,
        "kind": kind,
        "q": q,
        "page": page,
        "query": query,
        "kinds": [(k, N.kind_label(k)) for k in kinds],
        "unread": N.unread_count(request.user),
    }


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    context = _inbox_context(request)
    template = (
        "notify/_inbox_list.html" if request.headers.get("HX-Request") else "notify/inbox.html"
    )
    return render(request, template, context)


def _after_change(request: HttpRequest) -> HttpResponse:
    if request.headers.get("HX-Request"):
        response = render(request, "notify/_inbox_list.html", _inbox_context(request))
        response["HX-Trigger"] = "notify-changed"
        return response
    return redirect(
        reverse("notify_inbox") + ("?" + request.GET.urlencode() if request.GET else "")
    )


@login_required
@require_POST
def mark_read(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        N.mark_read(request.user, pk)
    except Notification.DoesNotExist:
        raise Http404 from None
    return _after_change(request)


@login_required
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    count = N.mark_all_read(request.user)
    if not request.headers.get("HX-Request"):
        messages.success(request, f"已将{count}条消息标为已读")
    return _after_change(request)


@login_required
@require_GET
def open_notification(request: HttpRequest, pk: int) -> HttpResponse:
    """Follow a notification's link, marking it read."""
    try:
        n = N.mark_read(request.user, pk)
    except Notification.DoesNotExist:
        raise Http404 from None
    target = n.url or reverse("notify_inbox")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("notify_inbox")
    return redirect(target)


@require_GET
def badge(request: HttpRequest) -> HttpResponse:
    """The unread badge of the top bar, loaded after the page (one indexed count). Not polled:
    a poll would count as activity and keep an idle session alive (accounts.middleware)."""
    if not request.user.is_authenticated:
        return HttpResponse(status=204)
    response = render(request, "notify/_badge.html", {"unread": N.unread_count(request.user)})
    response["Cache-Control"] = "no-store"
    return response


def _to_case(request: HttpRequest, url: str) -> HttpResponse:
    if request.headers.get("HX-Request"):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


@login_required
@require_POST
def progress_notice(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_object_or_404(cases_visible_to(request.user), pk=pk)
    url = reverse("case_detail", args=[case.pk])
    key, fingerprint, scope = form_key(request), post_fingerprint(request), f"notify_progress:{pk}"
    if replay_of(user=request.user, key=key, scope=scope, fingerprint=fingerprint):
        # A resent form (double click, retry): the petitioner is told once.
        messages.info(request, "该进展告知已发送过，未重复发送")
        return _to_case(request, url)
    form = ProgressNoticeForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            run_once(
                user=request.user,
                key=key,
                scope=scope,
                fingerprint=fingerprint,
                effect=lambda: case_progress_notice(
                    case=case,
                    by=request.user,
                    channel=data["channel"],
                    text=data["text"],
                    opening=data["opening"],
                ),
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, "已发送进展告知")
            return _to_case(request, url)
    from xinfang.notify.templatetags.notify_tags import progress_context

    context = progress_context(request.user, case, form=form)
    if request.headers.get("HX-Request"):
        return render(request, "notify/_progress_panel.html", context)
    response = render(request, "notify/progress_page.html", context)
    response.status_code = 400
    return response
