"""The leader-facing hotspot page ``/intel/hotspots/``: filters, ranked clusters, member links.

Who may see it is ``hotspots.may_view_hotspots`` (office staff, leaders, supervisors); everyone
else gets a 404, as for a case outside their scope. The numbers come from the cases the user may
see (``cases_visible_to``) and nothing else.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from xinfang.cases.models import Category
from xinfang.intel import hotspots as H

PAGE_LIMITS = (10, 20, 50)
MEMBERS_SHOWN = 12
EARLIEST = H.EARLIEST_END


class HotspotForm(forms.Form):
    days = forms.TypedChoiceField(
        label="时间窗口",
        choices=[(d, f"近{d}天") for d in H.WINDOW_DAYS],
        coerce=int,
        required=False,
    )
    end = forms.DateField(
        label="截止日期", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    place = forms.CharField(label="问题属地", max_length=20, required=False)
    category = forms.IntegerField(label="内容分类", required=False, min_value=1, max_value=2**62)
    limit = forms.TypedChoiceField(
        label="显示", choices=[(n, f"前{n}个") for n in PAGE_LIMITS], coerce=int, required=False
    )

    def clean_end(self) -> dt.date | None:
        end = self.cleaned_data.get("end")
        today = timezone.localdate()
        if end is not None and not EARLIEST <= end <= today + dt.timedelta(days=366):
            raise forms.ValidationError(f"截止日期应在{EARLIEST:%Y年}至明年之间")
        return end

    def params(self) -> dict[str, Any]:
        data = self.cleaned_data if self.is_valid() else {}
        return {
            "days": data.get("days") or 30,
            "end": data.get("end") or timezone.localdate(),
            "place": (data.get("place") or "").strip(),
            "category": data.get("category"),
            "limit": data.get("limit") or PAGE_LIMITS[0],
        }


@login_required
@require_GET
def hotspot_page(request: HttpRequest) -> HttpResponse:
    if not H.may_view_hotspots(request.user):
        raise Http404
    form = HotspotForm(request.GET or None)
    p = form.params()
    report = H.hotspots(
        request.user, end=p["end"], days=p["days"], place=p["place"], category=p["category"]
    )
    shown = report.hotspots[: p["limit"]]
    wanted = [pk for h in shown for pk in h.member_ids[:MEMBERS_SHOWN]]
    rows = H.member_rows(request.user, wanted)
    items = []
    for h in shown:
        peak = max((n for _, n in h.trend), default=0) or 1
        items.append(
            {
                "h": h,
                "members": [rows[pk] for pk in h.member_ids[:MEMBERS_SHOWN] if pk in rows],
                "more": max(0, h.cases - MEMBERS_SHOWN),
                "bars": [
                    {
                        "label": label,
                        "n": n,
                        "h": round(36 * n / peak),
                        "x": i * 14,
                        "y": 40 - round(36 * n / peak),
                    }
                    for i, (label, n) in enumerate(h.trend)
                ],
                "width": 14 * len(h.trend),
            }
        )
    context = {
        "form": form,
        "p": p,
        "report": report,
        "items": items,
        "sentence": H.summary_sentence(report),
        "places": H.place_choices(request.user),
        "categories": Category.objects.filter(level=1, is_active=True).order_by("sort", "id"),
        "weights": H.WEIGHTS,
    }
    return render(request, "intel/hotspots.html", context)


@login_required
@require_GET
def hotspot_summary_partial(request: HttpRequest) -> HttpResponse:
    """The start page's hotspot sentence (loaded by HTMX after the page, so a cold cache never
    holds up the start page)."""
    if not H.may_view_hotspots(request.user):
        raise Http404
    summary = H.hotspot_summary(request.user, days=30, limit=3)
    return render(request, "intel/_hotspot_summary.html", {"hotspots": summary})
