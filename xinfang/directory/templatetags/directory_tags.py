"""``{% directory_inform_panel case %}``: the 告知（不属本单位管辖） panel on the case page
(side hook templates/cases/_hooks_side.html), shown to office desk staff on a case that may be
informed (已登记/已退回), with the competent organs for its category and place."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("directory/_inform_panel.html", takes_context=True)
def directory_inform_panel(context: Any, case: Any) -> dict[str, Any]:
    from xinfang.directory.services import competent_organs
    from xinfang.directory.views import may_inform

    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not may_inform(user, case):
        return {"show": False}
    return {
        "show": True,
        "case": case,
        "organs": competent_organs(case.category_id, case.place_code)[:3],
    }
