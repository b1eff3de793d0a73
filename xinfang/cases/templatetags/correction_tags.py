"""The case page's 更正登记信息 panel (``xinfang.cases.corrections``)."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("cases/_correction_panel.html", takes_context=True)
def correction_panel(context: Any, case: Any) -> dict[str, Any]:
    from xinfang.cases.correction_views import panel_context

    return panel_context(context, case)
