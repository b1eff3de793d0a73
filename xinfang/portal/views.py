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


# The guide lists organs grouped by kind, the legal routes first (what people most often need).
GUIDE_ORGAN_ORDER = [
    "court",
    "procuratorate",
    "arbitration",
    "reconsideration",
    "discipline",
    "police",
    "department",
    "street",
    "other",
]


def _limits(rules: list[Any]) -> dict[str, dict[str, Any]]:
    """Each time limit by kind for the pages' sentences ("15日"/"15个工作日"): the admin's
    row, or the national limit the deadline module falls back to when a row was removed."""
    from xinfang.cases import deadlines

    rows = {row.kind: row for row in rules}
    out: dict[str, dict[str, Any]] = {}
    for kind, (days, basis) in deadlines.NATIONAL_RULES.items():
        row = rows.get(kind)
        working = bool(row.working_days) if row else False
        out[str(kind)] = {
            "days": row.days if row else days,
            "unit": "个工作日" if working else "日",
            "basis": (row.basis if row else "") or basis,
            "rolls": bool(row.roll_to_workday) if row else True,
        }
    return out


def _office_contact() -> dict[str, str]:
    """The receiving petition office's public contact fields (nothing else of the unit)."""
    try:
        office = services.portal_office()
    except Exception:  # no petition office configured yet
        return {}
    return {
        "name": office.name,
        "address": office.address,
        "phone": office.phone,
        "hours": office.office_hours,
    }


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    from xinfang.cases.models import DeadlineRule

    limits = _limits(list(DeadlineRule.objects.all()))
    return render_portal(request, "portal/home.html", {"limit": limits}, nav="home")


@require_GET
def guide(request: HttpRequest) -> HttpResponse:
    from xinfang.cases.models import DeadlineRule
    from xinfang.directory.models import Organ, OrganKind
    from xinfang.directory.services import REMEDY_TEXT

    rules = list(DeadlineRule.objects.all())
    # The public list of competent organs: only the fields a citizen needs to go there
    # (.values(): notes, categories, linked units and remedy overrides never reach the page).
    labels = dict(OrganKind.choices)
    organs: list[dict[str, Any]] = [
        {**row, "kind_label": labels.get(row["kind"], "")}
        for row in Organ.objects.filter(is_active=True).values(
            "name", "kind", "address", "phone", "hours"
        )
    ]
    order = {kind: i for i, kind in enumerate(GUIDE_ORGAN_ORDER)}
    organs.sort(key=lambda organ: order.get(organ["kind"], len(order)))  # stable: keeps sort
    context = {
        "rules": rules,
        "limit": _limits(rules),
        "organs": organs,
        "remedy": {str(kind): text for kind, text in REMEDY_TEXT.items()},
        "office": _office_contact(),
    }
    return render_portal(request, "portal/guide.html", context, nav="guide")


@require_GET
def privacy(request: HttpRequest) -> HttpResponse:
    context = {"version": services.CONSENT_VERSION, "office": _office_contact()}
    return render_portal(request, "portal/privacy.html", context, nav="privacy")
