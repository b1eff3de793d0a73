"""``{% instructions_panel case %}`` (case page side panel) and ``{% instructions_home %}``
(the workbench section): inclusion tags that do their own queries and access checks, so the
case and home views (owned by ``cases``) stay as they are."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


def _user(context: Any) -> Any:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    return user


@register.inclusion_tag("instructions/_panel.html", takes_context=True)
def instructions_panel(context: Any, case: Any) -> dict[str, Any]:
    from xinfang.instructions.views import panel_context

    user = _user(context)
    if user is None:
        return {"hide": True}
    out = panel_context(user, case)
    out["csrf_token"] = context.get("csrf_token")
    out["request"] = context.get("request")
    return out


@register.inclusion_tag("instructions/_home.html", takes_context=True)
def instructions_home(context: Any) -> dict[str, Any]:
    from xinfang.instructions.views import dashboard_rows

    user = _user(context)
    if user is None:
        return {"show": False}
    return dashboard_rows(user)
