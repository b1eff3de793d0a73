"""Hooks of 预防排查 on other apps' pages (the case page's 信访人 table: 列为重点人员)."""

from __future__ import annotations

from typing import Any

from django import template

from xinfang.prevention import policy

register = template.Library()


@register.simple_tag
def may_flag_key_persons(user: Any) -> bool:
    """May ``user`` put people in the 重点人员 register (领导 / 办案员)? The add page checks the
    person and the unit again."""
    return any(p.role in policy.KEY_READERS for p in policy.posts_of(user))
