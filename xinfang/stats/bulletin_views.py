"""通报 pages: the list with the issue form, a bulletin (its HTML, downloads, difference from the
one it replaces, reissue), the files (audited). Readers: ``stats.policy`` — a bulletin of a unit
outside the reader's scope is a 404. Issuing and reissuing: 办案员 and 领导
(``policy.may_manage_assessment``). Issuing runs in the request: a bulletin over a month of a
district takes about a second (figures from the rollups, three files rendered).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from xinfang.core.paging import paginate
from xinfang.org.models import Unit
from xinfang.stats import policy
from xinfang.stats.bulletins import BulletinError, period_for, request_bulletin
from xinfang.stats.models import Bulletin
from xinfang.stats.periods import Period

PAGE_SIZE = 20
CONTENT_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
FORMAT_LABELS = {"pdf": "PDF", "docx": "Word", "xlsx": "Excel 表格"}


def _reader(request: HttpRequest) -> list[int]:
    if not policy.may_read_stats(request.user):
        raise Http404("无统计查看权限")
    ids = policy.scope_ids(request.user)
    if not ids:
        raise Http404("无统计查看权限")
    return ids


def visible_bulletins(user: Any) -> QuerySet[Bulletin]:
    """Bulletins of the units in the reader's statistics scope."""
    if not policy.may_read_stats(user):
        return Bulletin.objects.none()
    return Bulletin.objects.filter(unit_id__in=policy.scope_ids(user))


def scope_units(user: Any) -> QuerySet[Unit]:
    return Unit.objects.filter(pk__in=policy.scope_ids(user), is_active=True).order_by("path")


def parse_period(kind: str, week: str, month: str, today: dt.date) -> Period:
    """The period chosen in the form (``2026-W12`` / ``2026-03``); Chinese ``BulletinError``."""
    if kind == Bulletin.Kind.WEEKLY:
        try:
            y, w = (week or "").strip().upper().split("-W")
            day = dt.date.fromisocalendar(int(y), int(w), 1)
        except ValueError as exc:
            raise BulletinError("请选择周次，格式如 2026-W12") from exc
    elif kind == Bulletin.Kind.MONTHLY:
        try:
            y, m = (month or "").strip().split("-")
            day = dt.date(int(y), int(m), 1)
        except ValueError as exc:
            raise BulletinError("请选择月份，格式如 2026-03") from exc
    else:
        raise BulletinError("请选择通报类型（周通报或月通报）")
    period = period_for(kind, day)
    if period.end >= today:
        word = "该周" if kind == Bulletin.Kind.WEEKLY else "该月"
        raise BulletinError(f"{word}尚未结束，只能为已结束的周或月生成通报")
    if period.start.year < 2000:
        raise BulletinError("统计期过早，请重新选择")
    return period


class IssueForm(forms.Form):
    kind = forms.ChoiceField(label="类型", choices=Bulletin.Kind.choices)
    week = forms.CharField(label="周次", required=False, max_length=10)
    month = forms.CharField(label="月份", required=False, max_length=7)
    unit = forms.IntegerField(label="单位", error_messages={"required": "请选择单位"})


class FilterForm(forms.Form):
    kind = forms.ChoiceField(choices=[("", "全部类型"), *Bulletin.Kind.choices], required=False)
    year = forms.IntegerField(min_value=2000, max_value=2100, required=False)
    unit = forms.IntegerField(required=False)


def _defaults(today: dt.date) -> dict[str, str]:
    last_week = today - dt.timedelta(days=7)
    iso = last_week.isocalendar()
    last_month = today.replace(day=1) - dt.timedelta(days=1)
    return {"week": f"{iso[0]}-W{iso[1]:02d}", "month": f"{last_month:%Y-%m}"}


def _list_context(request: HttpRequest, ids: list[int], form: IssueForm | None) -> dict[str, Any]:
    filters = FilterForm(request.GET or None)
    d = filters.cleaned_data if filters.is_valid() else {}
    qs = Bulletin.objects.filter(unit_id__in=ids)
    if d.get("kind"):
        qs = qs.filter(kind=d["kind"])
    if d.get("year"):
        qs = qs.filter(period_end__year=d["year"])
    if d.get("unit"):
        qs = qs.filter(unit_id=d["unit"])
    qs = qs.select_related("unit", "created_by").order_by("-period_end", "kind", "-id")
    page, query = paginate(request, qs.defer("docx", "pdf", "xlsx", "figures"), PAGE_SIZE)
    replaced = set(
        Bulletin.objects.filter(replaces_id__in=[b.pk for b in page.object_list]).values_list(
            "replaces_id", flat=True
        )
    )
    today = timezone.localdate()
    units = list(scope_units(request.user))
    return {
        "st_tab": "bulletins",
        "page": page,
        "query": query,
        "replaced": replaced,
        "filters": filters,
        "units": units,
        "scope": units[0] if units else None,
        "may_issue": policy.may_manage_assessment(request.user),
        "form": form,
        "defaults": _defaults(today),
        "years": list(range(today.year, today.year - 5, -1)),
    }


@login_required
@require_http_methods(["GET", "POST"])
def bulletin_list(request: HttpRequest, **kwargs: object) -> HttpResponse:
    ids = _reader(request)
    if request.method != "POST":
        return render(request, "stats/bulletin_list.html", _list_context(request, ids, None))
    if not policy.may_manage_assessment(request.user):
        raise Http404("无权生成通报")
    form = IssueForm(request.POST)
    error = ""
    if form.is_valid():
        d = form.cleaned_data
        if d["unit"] not in ids:
            raise Http404("单位不存在")
        try:
            period = parse_period(d["kind"], d["week"], d["month"], timezone.localdate())
        except BulletinError as exc:
            error = str(exc)
        else:
            unit = Unit.objects.get(pk=d["unit"])
            queued = set(
                Bulletin.objects.filter(
                    kind=d["kind"], unit=unit, period_start=period.start, state="pending"
                ).values_list("pk", flat=True)
            )
            try:
                b = request_bulletin(d["kind"], unit, period, request.user)
            except BulletinError as exc:
                error = str(exc)
            else:
                if b.state == Bulletin.State.READY:
                    messages.info(request, f"该期通报已生成（{b.number}），未重复生成")
                elif b.pk in queued:
                    messages.info(request, "该期通报正在生成，未重复提交")
                else:
                    messages.success(
                        request, f"已提交生成{b.get_kind_display()}，完成后本页自动显示"
                    )
                return redirect("stats_bulletin", pk=b.pk)
    else:
        error = "；".join(str(e) for errs in form.errors.values() for e in errs)
    context = _list_context(request, ids, form)
    context["issue_error"] = error
    return render(request, "stats/bulletin_list.html", context, status=400)


def _visible(request: HttpRequest, pk: int) -> Bulletin:
    ids = _reader(request)
    return get_object_or_404(
        Bulletin.objects.select_related("unit", "created_by", "replaces"),
        pk=pk,
        unit_id__in=ids,
    )


@login_required
def bulletin_detail(request: HttpRequest, pk: int, **kwargs: object) -> HttpResponse:
    from xinfang.stats.bulletin_render import doc_context

    b = _visible(request, pk)
    newer = b.reissues.filter(state=Bulletin.State.READY).order_by("-id").first()
    context: dict[str, Any] = {
        "st_tab": "bulletins",
        "b": b,
        "scope": b.unit,
        "newer": newer,
        "formats": FORMAT_LABELS,
        "may_reissue": policy.may_manage_assessment(request.user)
        and b.state == Bulletin.State.READY
        and newer is None,
        "back": reverse_list(b),
    }
    if b.state == Bulletin.State.READY:
        context.update(doc_context(b.figures))
    elif b.state == Bulletin.State.PENDING:
        context.update(_elapsed(b))
    return render(request, "stats/bulletin_detail.html", context)


@login_required
def bulletin_progress(request: HttpRequest, pk: int, **kwargs: object) -> HttpResponse:
    """The polled progress of a pending bulletin (htmx, every 2 s): the panel while it runs;
    once ready or failed, ``HX-Refresh`` reloads the page to show the result."""
    b = _visible(request, pk)
    if b.state != Bulletin.State.PENDING:
        response = HttpResponse("")
        response["HX-Refresh"] = "true"
        return response
    return render(request, "stats/_bulletin_progress.html", {"b": b, **_elapsed(b)})


def _elapsed(b: Bulletin) -> dict[str, Any]:
    return {"elapsed": max(0, int((timezone.now() - b.created_at).total_seconds()))}


def reverse_list(b: Bulletin) -> str:
    from django.urls import reverse

    return reverse("stats_bulletins") + "?" + urlencode({"unit": b.unit_id})


def file_name(b: Bulletin, fmt: str) -> str:
    title = (b.figures or {}).get("title") or f"{b.unit.name}{b.get_kind_display()}"
    return f"{title}（{b.number}）.{fmt}"


def bulletin_file_response(
    request: HttpRequest, b: Bulletin, fmt: str, user: Any = None
) -> HttpResponse:
    """The stored file, audited (``export``) before the first byte."""
    from xinfang.audit.services import audit_record
    from xinfang.cases.attachments import content_disposition

    if fmt not in CONTENT_TYPES or b.state != Bulletin.State.READY:
        raise Http404("文件不存在")
    body = getattr(b, fmt)
    if not body:
        raise Http404("文件不存在")
    data = bytes(body)
    audit_record(
        action="export",
        actor=user if user is not None else request.user,
        obj=b,
        summary=f"下载通报{b.number}（{b.get_kind_display()}，{FORMAT_LABELS[fmt]}）",
        detail={
            "unit": b.unit_id,
            "period": [str(b.period_start), str(b.period_end)],
            "format": fmt,
            "size": len(data),
        },
        request=request,
    )
    response = HttpResponse(data, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = content_disposition(
        file_name(b, fmt), f"bulletin-{b.pk}.{fmt}"
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def bulletin_file(request: HttpRequest, pk: int, fmt: str, **kwargs: object) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    return bulletin_file_response(request, _visible(request, pk), fmt)


@login_required
@require_POST
def bulletin_reissue(request: HttpRequest, pk: int, **kwargs: object) -> HttpResponse:
    b = _visible(request, pk)
    if not policy.may_manage_assessment(request.user):
        raise Http404("无权重新生成通报")
    try:
        new = request_bulletin(
            b.kind, b.unit, period_for(b.kind, b.period_start), request.user, replacing=b
        )
    except BulletinError as exc:
        messages.error(request, str(exc))
        return redirect("stats_bulletin", pk=b.pk)
    messages.success(request, "已提交重新生成，完成后本页列出与原通报的差异")
    return redirect("stats_bulletin", pk=new.pk)
