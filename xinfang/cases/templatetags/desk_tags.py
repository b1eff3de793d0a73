"""The case page's desk panel (接待台): 首问/接待责任人, 分类接待, 移交 and 转介心理疏导."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("cases/_desk_side.html", takes_context=True)
def desk_side_panel(context: Any, case: Any) -> dict[str, Any]:
    from xinfang.cases import desk
    from xinfang.cases.desk_views import desk_forms
    from xinfang.cases.policy import may_register

    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not may_register(user, case.office_unit):
        return {"show": False}
    forms = context.get("desk_forms") or desk_forms(case)
    return {
        "show": True,
        "case": case,
        "owner": desk.desk_owner(case),
        "handover_form": forms["handover"],
        "counselling_form": forms["counselling"],
        "request": request,
        "csrf_token": context.get("csrf_token"),
    }
