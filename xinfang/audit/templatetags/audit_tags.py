from typing import Any

from django import template

from xinfang.audit.selectors import is_auditor as _is_auditor

register = template.Library()


@register.filter
def is_auditor(user: Any) -> bool:
    """``{% if user|is_auditor %}``: show the 审计日志 link to auditors only."""
    return _is_auditor(user)
