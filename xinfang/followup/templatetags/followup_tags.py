"""``{% followup_panel case %}`` (side: SMS evaluation, review tasks, 回访) and
``{% hearing_section case %}`` (main column: hearings and their tally) on the case page."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


def _user(context: Any) -> Any:
    request = context.get("request")
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


@register.inclusion_tag("followup/_side.html", takes_context=True)
def followup_panel(context: Any, case: Any) -> dict[str, Any]:
    from xinfang.followup.views import side_context

    user = _user(context)
    if user is None:
        return {"show": False}
    data = side_context(user, case)
    data["csrf_token"] = context.get("csrf_token")
    return data


@register.inclusion_tag("followup/_hearings.html", takes_context=True)
def hearing_section(context: Any, case: Any) -> dict[str, Any]:
    from xinfang.followup.views import hearing_context

    user = _user(context)
    if user is None:
        return {"show": False}
    data = hearing_context(user, case)
    data["csrf_token"] = context.get("csrf_token")
    return data


@register.inclusion_tag("followup/_tiles.html", takes_context=True)
def followup_tiles(context: Any) -> dict[str, Any]:
    """Start-page tiles for petition-office staff: open review tasks, 回访 due or overdue."""
    from xinfang.followup import selectors
    from xinfang.org import roles as R
    from xinfang.org.policy import role_codes

    user = _user(context)
    if user is None or not role_codes(user) & R.OFFICE_STAFF:
        return {"show": False}
    return {
        "show": True,
        "tasks": selectors.tasks_for(user, state="open").count(),
        "due": selectors.followups_for(user, state="due").count(),
        "overdue": selectors.followups_for(user, state="overdue").count(),
    }
