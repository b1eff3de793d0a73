"""Portal pages: the shell (home, 办事须知, privacy notice) and ``render_portal``, which every
portal page renders through (site name, office, the logged-in account, the active nav item).
Feature views live beside it: ``submit_views.py``, ``track_views.py``, ``account_views.py``."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from xinfang.portal import services

SITE_NAME = "网上信访"


def render_portal(
    request: HttpRequest,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    nav: str = "",
    status: int = 200,
) -> HttpResponse:
    try:
        office = services.portal_office()
        office_name = office.name
    except Exception:  # no petition office configured yet: the pages still render
        office_name = ""
    base = {
        "portal_site_name": f"{office_name}{SITE_NAME}" if office_name else SITE_NAME,
        "portal_office_name": office_name,
        "portal_account": services.current_account(request),
        "portal_nav": nav,
    }
    response = render(request, template, base | (context or {}), status=status)
    response["Cache-Control"] = "no-store"  # personal data: never kept by a shared cache
    return response


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render_portal(request, "portal/home.html", nav="home")


@require_GET
def guide(request: HttpRequest) -> HttpResponse:
    from xinfang.cases.models import DeadlineRule

    rules = list(DeadlineRule.objects.all())
    return render_portal(request, "portal/guide.html", {"rules": rules}, nav="guide")


@require_GET
def privacy(request: HttpRequest) -> HttpResponse:
    return render_portal(
        request, "portal/privacy.html", {"version": services.CONSENT_VERSION}, nav="privacy"
    )
