"""Reception panels on other apps' pages: the case page side panel, the start page section."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("reception/_empty.html", takes_context=True)
def reception_panel(context: Any, case: Any) -> dict[str, Any]:
    return {}


@register.inclusion_tag("reception/_empty.html", takes_context=True)
def reception_home(context: Any) -> dict[str, Any]:
    return {}
