"""预防排查总览 (helper D): the dashboard of the user's top scope or ``?unit=<id>`` inside it,
and ``map.svg`` (the same unit map as a standalone SVG file). A unit outside the scope is a 404."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache

from xinfang.org.models import Unit
from xinfang.prevention import dashboard as D
from xinfang.prevention import policy

NOT_FOUND = "未找到该单位（不存在或不在您的权限范围内）"


def _unit_of(request: HttpRequest) -> Unit:
    user = request.user
    if not policy.may_use_prevention(user):
        raise Http404(NOT_FOUND)
    raw = request.GET.get("unit", "").strip()
    unit_id: int | None = None
    if raw:
        if not raw.isdigit() or len(raw) > 18:
            raise Http404(NOT_FOUND)
        unit_id = int(raw)
    unit = D.dashboard_unit(user, unit_id)
    if unit is None:
        raise Http404(NOT_FOUND)
    return unit


def _crumbs(user: Any, unit: Unit) -> list[Unit]:
    """The unit's ancestors inside the user's scope (for the breadcrumb)."""
    ids = [int(p) for p in unit.path.split(".") if p][:-1]
    scope = set(policy.scope_ids(user))
    return list(Unit.objects.filter(pk__in=[i for i in ids if i in scope]).order_by("path"))


@login_required
@never_cache
def dashboard(request: HttpRequest, **kwargs: object) -> HttpResponse:
    unit = _unit_of(request)
    data = D.summary(request.user, unit, with_unit=bool(request.GET.get("unit")))
    svg = D.render_map(data["tree"]) if data["tree"] is not None else ""
    return render(
        request,
        "prevention/dashboard.html",
        {
            "pv_tab": "dashboard",
            "d": data,
            "crumbs": _crumbs(request.user, unit),
            "map_svg": mark_safe(svg),  # built from escaped text only (dashboard.render_map)
            "unit_param": "" if not request.GET.get("unit") else unit.pk,
            "levels": D.LEVELS,
        },
    )


@login_required
@never_cache
def unit_map(request: HttpRequest, **kwargs: object) -> HttpResponse:
    unit = _unit_of(request)
    data = D.summary(request.user, unit)
    if data["tree"] is None:
        raise Http404(NOT_FOUND)
    response = HttpResponse(
        D.render_map(data["tree"], standalone=True), content_type="image/svg+xml; charset=utf-8"
    )
    response["Content-Disposition"] = 'inline; filename="unit-map.svg"'
    return response
