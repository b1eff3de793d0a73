"""Case-page panels of ``cases.handling`` (included through the hook templates) and the
workbench's navigation link. Each tag does its own queries and access checks."""

from __future__ import annotations

from typing import Any

from django import template

from xinfang.cases import handling
from xinfang.cases.forms import EvidenceForm, InvestigationForm, LinkForm
from xinfang.cases.models import Case
from xinfang.cases.policy import cases_visible_to, may_add_to_file
from xinfang.org import roles as R
from xinfang.org.policy import role_codes

register = template.Library()


def _user(context: Any) -> Any:
    request = context.get("request")
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def internal_context(context: Any, case: Case) -> dict[str, Any]:
    user = _user(context)
    if user is None:
        return {"show": False}
    may = handling.may_investigate(user, case)
    events, files = handling.internal_items(case)
    return {
        "show": bool(may or events or files),
        "case": case,
        "may": may,
        "notes": events,
        "files": files,
        "inv_form": InvestigationForm(),
        "ev_form": EvidenceForm(),
        "request": context.get("request"),
    }


def links_context(context: Any, case: Case) -> dict[str, Any]:
    user = _user(context)
    if user is None:
        return {"show": False}
    links = handling.links_of(case, user)
    may = may_add_to_file(user, case)
    merged_in = list(
        cases_visible_to(user).filter(merged_into=case).values_list("pk", "number").order_by("pk")
    )
    hidden_merged = case.merged_cases.count() - len(merged_in)
    return {
        "show": bool(links or may or merged_in or hidden_merged),
        "case": case,
        "links": links,
        "may": may,
        "merged_in": merged_in,
        "hidden_merged": hidden_merged,
        "link_form": LinkForm(),
        "request": context.get("request"),
    }


@register.inclusion_tag("cases/_internal_panel.html", takes_context=True)
def internal_panel(context: Any, case: Case) -> dict[str, Any]:
    """调查记录与证据材料 (internal) of the handling unit."""
    return internal_context(context, case)


@register.inclusion_tag("cases/_links_section.html", takes_context=True)
def links_section(context: Any, case: Case) -> dict[str, Any]:
    """关联事项 and the cases merged into this one."""
    return links_context(context, case)


@register.inclusion_tag("cases/_merged_banner.html", takes_context=True)
def merged_banner(context: Any, case: Case) -> dict[str, Any]:
    """On a merged case: where it went (a link when the viewer can see the survivor)."""
    user = _user(context)
    if user is None or not case.merged_into_id:
        return {"into": None}
    into = cases_visible_to(user).filter(pk=case.merged_into_id).first()
    return {"into": into, "merged": True}


@register.simple_tag(takes_context=True)
def show_workbench(context: Any) -> bool:
    user = _user(context)
    return bool(user and role_codes(user) & (R.UNIT_STAFF | {R.CASE_OFFICER}))


def _bulk_offices(user: Any) -> list[Any]:
    from xinfang.cases.policy import registering_offices
    from xinfang.org.policy import holds_role_over

    return [u for u in registering_offices(user) if holds_role_over(user, u, {R.CASE_OFFICER})]


@register.simple_tag(takes_context=True)
def may_bulk_route(context: Any) -> bool:
    """Office 办案员: the case list offers checkboxes and the 批量交办/转送 form."""
    user = _user(context)
    if user is None:
        return False
    cached = getattr(user, "_xf_bulk", None)
    if cached is None:
        cached = bool(role_codes(user) & {R.CASE_OFFICER}) and bool(_bulk_offices(user))
        user._xf_bulk = cached
    return bool(cached)


@register.inclusion_tag("cases/_bulk_form.html", takes_context=True)
def bulk_route_form(context: Any) -> dict[str, Any]:
    from xinfang.cases.forms import BulkRouteForm

    user = _user(context)
    if user is None or not may_bulk_route(context):
        return {"form": None}
    return {"form": BulkRouteForm(offices=_bulk_offices(user)), "request": context.get("request")}
