"""``{% neardup_panel case %}``: the 疑似重复/群发 section of the case detail page.

A template tag rather than a view change, so the detail view (owned by ``cases``) stays as it
is; the visibility rule lives in :func:`xinfang.intel.neardup.visible_group`.
"""

from __future__ import annotations

from typing import Any

from django import template

from xinfang.intel.neardup import visible_group

register = template.Library()


@register.inclusion_tag("intel/_neardup.html", takes_context=True)
def neardup_panel(context: dict[str, Any], case: Any) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"group": None}
    return {"group": visible_group(user, case), "case": case}
