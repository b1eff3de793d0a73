"""Who the user is in the organisation: their memberships, loaded once per request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from xinfang.org.models import Membership, Unit


@dataclass(frozen=True)
class Post:
    unit_id: int
    unit_path: str
    role: str


def posts_of(user: Any) -> list[Post]:
    """The user's (unit, role) posts, cached on the user object for the request."""
    if not getattr(user, "is_authenticated", False):
        return []
    cached = getattr(user, "_xf_posts", None)
    if cached is None:
        cached = [
            Post(m.unit_id, m.unit.path, m.role.code)
            for m in Membership.objects.filter(user=user, unit__is_active=True).select_related(
                "unit", "role"
            )
        ]
        user._xf_posts = cached
    return cached


def role_codes(user: Any) -> set[str]:
    return {p.role for p in posts_of(user)}


def subtree_roots(user: Any, roles: frozenset[str] | set[str]) -> list[str]:
    """Unit paths where the user holds one of ``roles``, minus paths already covered by another."""
    paths = sorted({p.unit_path for p in posts_of(user) if p.role in roles})
    roots: list[str] = []
    for path in paths:
        if not any(path.startswith(r) for r in roots):
            roots.append(path)
    return roots


def holds_role_over(user: Any, unit: Unit | None, roles: frozenset[str] | set[str]) -> bool:
    """True when the user holds one of ``roles`` in ``unit`` itself (not merely above it)."""
    if unit is None:
        return False
    return any(p.unit_id == unit.pk and p.role in roles for p in posts_of(user))


def units_with_role(user: Any, roles: frozenset[str] | set[str]) -> list[Unit]:
    ids = {p.unit_id for p in posts_of(user) if p.role in roles}
    return list(Unit.objects.filter(pk__in=ids).order_by("path"))
