"""``{% supervision_panel case %}``: the 督查督办 side panel of the case page (its steps and, for
a supervisor, the 催办/督办 buttons). Does its own queries and access checks."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


def panel_context(user: Any, case: Any) -> dict[str, Any]:
    from xinfang.cases.models import OPEN_STATUSES
    from xinfang.supervision.models import SupervisionStep
    from xinfang.supervision.services import may_supervise_case

    steps = list(SupervisionStep.objects.filter(case=case).select_related("unit", "rule", "by")[:8])
    can = case.status in OPEN_STATUSES and may_supervise_case(user, case)
    return {"case": case, "steps": steps, "may_act": can, "hide": not steps and not can}


@register.inclusion_tag("supervision/_panel.html", takes_context=True)
def supervision_panel(context: Any, case: Any) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"hide": True}
    out = panel_context(user, case)
    out["csrf_token"] = context.get("csrf_token")
    out["request"] = request
    return out


@register.simple_tag(takes_context=True)
def supervision_nav(context: Any) -> bool:
    """Whether the navigation shows 督查督办 (supervisors, 办案员, leaders)."""
    from xinfang.supervision.services import may_view

    request = context.get("request")
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and may_view(user))
