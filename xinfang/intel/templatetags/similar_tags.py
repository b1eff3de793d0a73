"""``{% similar_section case %}``: the lazily loaded 相似案件（口径参考） card of the case detail
page. A tag, so the detail view (owned by ``cases``) stays as it is; who gets the card is
``similar.may_use_similar`` — the same rule as the partial it loads."""

from __future__ import annotations

from typing import Any

from django import template

from xinfang.intel.similar import may_use_similar

register = template.Library()


@register.inclusion_tag("intel/_similar_section.html", takes_context=True)
def similar_section(context: dict[str, Any], case: Any) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    show = bool(
        user is not None
        and user.is_authenticated
        and not case.is_confidential
        and may_use_similar(user)
    )
    return {"show": show, "case": case}
